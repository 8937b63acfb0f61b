"""Cloud Storage paths on this machine: ``gs://`` URIs and ``/gcs/`` FUSE paths map to folders.

On Vertex a bucket is reachable as ``gs://BUCKET/PATH`` and, inside a training container, as the
FUSE path ``/gcs/BUCKET/PATH``. tuneyard keeps every bucket as a folder under
``$TUNEYARD_HOME/buckets`` (:func:`tuneyard.config.buckets_root`), so both spellings name the same
local file::

    gs://my-bucket/data/train.csv   ->  $TUNEYARD_HOME/buckets/my-bucket/data/train.csv
    /gcs/my-bucket/data/train.csv   ->  $TUNEYARD_HOME/buckets/my-bucket/data/train.csv
    /srv/data/train.csv             ->  /srv/data/train.csv   (absolute local paths pass through)

A path that would leave its bucket (``gs://b/../other``) is refused, so a job can only touch the
buckets it names.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from tuneyard import config
from tuneyard.errors import FieldViolation, InvalidArgument

GCS_SCHEME = "gs://"
GCS_FUSE_ROOT = "/gcs/"

# GCS allows lowercase letters, digits, '-', '_' and '.'; upper case is tolerated here so that a
# local test bucket is not refused for its spelling. Never '/', never only dots.
_BUCKET = re.compile(r"^[A-Za-z0-9_.-]+$")


def is_bucket_path(uri: str) -> bool:
    """True for ``gs://...`` URIs and ``/gcs/...`` FUSE paths."""
    return uri.startswith(GCS_SCHEME) or uri.startswith(GCS_FUSE_ROOT) or uri == "/gcs"


def split_bucket_path(uri: str, *, field: str = "") -> tuple[str, str]:
    """Split ``gs://BUCKET/PATH`` or ``/gcs/BUCKET/PATH`` into ``(BUCKET, PATH)``.

    ``PATH`` is normalized (``a/./b`` → ``a/b``, ``a/../b`` → ``b``) and has no leading slash.

    Raises:
        InvalidArgument: not a bucket path, an empty or malformed bucket name, or a path that
            escapes its bucket with ``..``.
    """
    if uri.startswith(GCS_SCHEME):
        rest = uri[len(GCS_SCHEME) :]
    elif uri.startswith(GCS_FUSE_ROOT) or uri == "/gcs":
        rest = uri[len(GCS_FUSE_ROOT) :]
    else:
        raise _invalid(field, f"{uri!r} is not a gs:// URI or a /gcs/ path")
    bucket, _, path = rest.partition("/")
    if not bucket:
        raise _invalid(field, f"{uri!r} names no bucket")
    if not _BUCKET.match(bucket) or set(bucket) == {"."}:
        raise _invalid(field, f"{uri!r}: {bucket!r} is not a valid bucket name")
    parts: list[str] = []
    for part in PurePosixPath(path).parts:
        if part == "..":
            if not parts:
                raise _invalid(field, f"{uri!r} escapes its bucket {bucket!r}")
            parts.pop()
        elif part not in (".", "/"):
            parts.append(part)
    return bucket, "/".join(parts)


def local_path(uri: str, *, field: str = "") -> Path:
    """The local path that stands for ``uri``.

    Args:
        uri: ``gs://BUCKET/PATH``, ``/gcs/BUCKET/PATH``, or an absolute local path.
        field: the request field the URI came from, named in errors
            (``trialJobSpec.baseOutputDirectory.outputUriPrefix``).

    Returns:
        ``$TUNEYARD_HOME/buckets/BUCKET/PATH`` for bucket paths; absolute local paths unchanged.

    Raises:
        InvalidArgument: a relative path, another scheme (``s3://``), an empty or malformed
            bucket name, or a path that escapes its bucket.

    Example:
        >>> import os, tempfile
        >>> os.environ["TUNEYARD_HOME"] = tempfile.mkdtemp()
        >>> local_path("gs://data/a/b.csv").relative_to(config.buckets_root()).as_posix()
        'data/a/b.csv'
    """
    if is_bucket_path(uri):
        bucket, path = split_bucket_path(uri, field=field)
        root = config.buckets_root() / bucket
        return root / path if path else root
    if "://" in uri:
        raise _invalid(field, f"{uri!r}: only gs:// URIs and local paths are supported")
    if not uri.startswith("/"):
        raise _invalid(field, f"{uri!r} is neither a gs:// URI nor an absolute path")
    return Path(uri)


def _invalid(field: str, description: str) -> InvalidArgument:
    return InvalidArgument([FieldViolation(field, description)])
