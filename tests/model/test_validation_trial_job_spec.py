"""``validate_job``: the rules of the trial job spec, its worker pools and outputs."""

from __future__ import annotations

import pytest

from tests.model.conftest import (
    assert_violation,
    job_with_pools,
    pool,
    valid_job,
    violations_of,
)
from tuneyard.model import job_from_dict, validate_job

POOL0 = "trialJobSpec.workerPoolSpecs[0]"


# the trial job spec ---------------------------------------------------------------------------


def test_trial_job_spec_is_required() -> None:
    data = valid_job()
    del data["trialJobSpec"]
    assert_violation(data, "trialJobSpec", "trialJobSpec is required")


def test_at_least_one_worker_pool() -> None:
    assert_violation(
        job_with_pools(), "trialJobSpec.workerPoolSpecs", "at least one worker pool is required"
    )


def test_a_pool_needs_a_container_or_python_package_spec() -> None:
    spec = pool()
    del spec["containerSpec"]
    assert_violation(
        job_with_pools(spec), POOL0, "one of containerSpec or pythonPackageSpec is required"
    )


def test_a_pool_takes_only_one_of_container_and_python_package_spec() -> None:
    spec = pool(
        pythonPackageSpec={
            "executorImageUri": "python:3.11",
            "packageUris": ["gs://b/p.tar.gz"],
            "pythonModule": "trainer.task",
        }
    )
    assert_violation(job_with_pools(spec), POOL0, "only one of containerSpec and pythonPackageSpec")


def test_the_first_pool_must_not_be_empty() -> None:
    assert_violation(
        job_with_pools({}, pool()),
        POOL0,
        "the first worker pool is required and must not be empty",
    )


def test_later_empty_pools_are_skipped() -> None:
    # replicaCount "0" is the zero value, so this pool is as empty as {}.
    job = job_with_pools(pool(), {}, {"replicaCount": "0"}, pool(replicaCount="3"))
    assert validate_job(job_from_dict(job)) == []


@pytest.mark.parametrize("count", ["2", "0"])
def test_the_primary_pool_has_exactly_one_replica(count: str) -> None:
    found = violations_of(job_with_pools(pool(replicaCount=count)))
    assert [v.field for v in found] == [f"{POOL0}.replicaCount"]
    assert ("the first worker pool must have 1 replica" in found[0].description) == (count == "2")


def test_later_pools_need_at_least_one_replica() -> None:
    assert_violation(
        job_with_pools(pool(), pool(replicaCount="0")),
        "trialJobSpec.workerPoolSpecs[1].replicaCount",
        "must be at least 1, got 0",
    )


def test_container_spec_needs_an_image_uri() -> None:
    spec = pool()
    del spec["containerSpec"]["imageUri"]
    assert_violation(
        job_with_pools(spec), f"{POOL0}.containerSpec.imageUri", "imageUri is required"
    )


def test_container_spec_needs_a_command() -> None:
    spec = pool()
    spec["containerSpec"] = {"imageUri": "python:3.11", "args": ["--epochs=3"]}
    assert_violation(job_with_pools(spec), f"{POOL0}.containerSpec.command", "command is required")


def test_python_package_spec_needs_image_packages_and_module() -> None:
    spec = pool()
    del spec["containerSpec"]
    spec["pythonPackageSpec"] = {"args": ["--x=1"]}
    found = violations_of(job_with_pools(spec))
    where = f"{POOL0}.pythonPackageSpec"
    assert [(v.field, v.description) for v in found] == [
        (f"{where}.executorImageUri", "executorImageUri is required"),
        (f"{where}.packageUris", "at least one package URI is required"),
        (f"{where}.pythonModule", "pythonModule is required"),
    ]


def test_at_most_100_package_uris() -> None:
    spec = pool()
    del spec["containerSpec"]
    spec["pythonPackageSpec"] = {
        "executorImageUri": "python:3.11",
        "packageUris": [f"gs://b/p{i}.tar.gz" for i in range(101)],
        "pythonModule": "trainer.task",
    }
    assert_violation(
        job_with_pools(spec), f"{POOL0}.pythonPackageSpec.packageUris", "at most 100 package URIs"
    )
    spec["pythonPackageSpec"]["packageUris"].pop()
    assert validate_job(job_from_dict(job_with_pools(spec))) == []


@pytest.mark.parametrize("task", ["containerSpec", "pythonPackageSpec"])
def test_at_most_100_environment_variables(task: str) -> None:
    spec = pool()
    if task == "pythonPackageSpec":
        del spec["containerSpec"]
        spec[task] = {
            "executorImageUri": "python:3.11",
            "packageUris": ["gs://b/p.tar.gz"],
            "pythonModule": "trainer.task",
        }
    spec[task]["env"] = [{"name": f"V{i}", "value": "x"} for i in range(101)]
    assert_violation(
        job_with_pools(spec),
        f"{POOL0}.{task}.env",
        "at most 100 environment variables are allowed, got 101",
    )
    spec[task]["env"].pop()
    assert validate_job(job_from_dict(job_with_pools(spec))) == []


def test_environment_variables_need_a_name() -> None:
    spec = pool()
    spec["containerSpec"]["env"] = [{"name": "A", "value": "1"}, {"value": "2"}]
    assert_violation(job_with_pools(spec), f"{POOL0}.containerSpec.env[1].name", "name is required")


@pytest.mark.parametrize("timeout", ["0s", "-5s"])
def test_the_timeout_must_be_positive(timeout: str) -> None:
    data = valid_job()
    data["trialJobSpec"]["scheduling"] = {"timeout": timeout}
    assert_violation(data, "trialJobSpec.scheduling.timeout", "must be positive")


@pytest.mark.parametrize("prefix", ["s3://bucket/out", "out/dir", "gcs/bucket", "file:///tmp/x"])
def test_the_base_output_directory_is_gs_or_absolute(prefix: str) -> None:
    data = valid_job()
    data["trialJobSpec"]["baseOutputDirectory"] = {"outputUriPrefix": prefix}
    assert_violation(
        data,
        "trialJobSpec.baseOutputDirectory.outputUriPrefix",
        f"must be a gs:// URI or an absolute local path, got {prefix!r}",
    )


@pytest.mark.parametrize("prefix", ["gs://bucket", "gs://bucket/out/", "/tmp/out", "/gcs/b/x"])
def test_gs_and_absolute_base_output_directories_are_fine(prefix: str) -> None:
    data = valid_job()
    data["trialJobSpec"]["baseOutputDirectory"] = {"outputUriPrefix": prefix}
    assert validate_job(job_from_dict(data)) == []


def test_the_base_output_directory_needs_a_prefix() -> None:
    data = valid_job()
    data["trialJobSpec"]["baseOutputDirectory"] = {}
    assert_violation(
        data, "trialJobSpec.baseOutputDirectory.outputUriPrefix", "outputUriPrefix is required"
    )


def test_the_encryption_spec_needs_a_key() -> None:
    assert_violation(
        valid_job(encryptionSpec={}), "encryptionSpec.kmsKeyName", "kmsKeyName is required"
    )
