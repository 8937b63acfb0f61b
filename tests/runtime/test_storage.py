"""gs:// URIs and /gcs/ paths map into $TUNEYARD_HOME/buckets; escapes are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneyard.errors import InvalidArgument
from tuneyard.runtime import is_bucket_path, local_path


def test_gs_uri_and_fuse_path_map_to_the_same_bucket_folder(home: Path) -> None:
    expected = home.resolve() / "buckets" / "my-bucket" / "data" / "train.csv"
    assert local_path("gs://my-bucket/data/train.csv") == expected
    assert local_path("/gcs/my-bucket/data/train.csv") == expected


def test_bucket_root_and_trailing_slashes(home: Path) -> None:
    assert local_path("gs://b") == home.resolve() / "buckets" / "b"
    assert local_path("gs://b/out/") == home.resolve() / "buckets" / "b" / "out"


def test_dots_that_stay_inside_the_bucket_are_normalized(home: Path) -> None:
    assert local_path("gs://b/x/./y/../z") == home.resolve() / "buckets" / "b" / "x" / "z"


def test_absolute_local_paths_pass_through(home: Path) -> None:
    assert local_path("/srv/data/x.csv") == Path("/srv/data/x.csv")


@pytest.mark.parametrize(
    "uri",
    [
        "gs://b/../other/secret",
        "gs://b/a/../../other",
        "/gcs/b/../../etc/passwd",
        "gs://../etc",
        "gs://./x",
        "gs:///path",
        "gs://",
        "/gcs/",
        "/gcs",
        "gs://bad bucket/x",
    ],
)
def test_paths_outside_a_bucket_are_refused(home: Path, uri: str) -> None:
    with pytest.raises(InvalidArgument):
        local_path(uri, field="trialJobSpec.baseOutputDirectory.outputUriPrefix")


def test_the_error_names_the_field(home: Path) -> None:
    with pytest.raises(InvalidArgument) as error:
        local_path("gs://b/../c", field="trialJobSpec.baseOutputDirectory.outputUriPrefix")
    assert error.value.violations[0].field == "trialJobSpec.baseOutputDirectory.outputUriPrefix"
    assert "escapes its bucket" in str(error.value)


@pytest.mark.parametrize("uri", ["s3://b/x", "https://example.com/x", "relative/path", ""])
def test_other_schemes_and_relative_paths_are_refused(home: Path, uri: str) -> None:
    with pytest.raises(InvalidArgument):
        local_path(uri)


def test_is_bucket_path() -> None:
    assert is_bucket_path("gs://b/x") and is_bucket_path("/gcs/b/x")
    assert not is_bucket_path("/gcsx/b") and not is_bucket_path("/tmp/x")
