"""CustomJobSpec: worker pools, empty (skipped) pools, and what the JSON looks like."""

from __future__ import annotations

from typing import Any

import pytest

from tuneyard.model import (
    ContainerSpec,
    CustomJobSpec,
    EnvVar,
    MachineSpec,
    Scheduling,
    WorkerPoolSpec,
    parse_resource,
)


@pytest.mark.parametrize("data", [{}, {"replicaCount": "0"}, {"replicaCount": 0, "nfsMounts": []}])
def test_a_pool_with_only_zero_values_is_empty(data: dict[str, Any]) -> None:
    assert parse_resource(WorkerPoolSpec, data).is_empty


@pytest.mark.parametrize(
    "data",
    [{"replicaCount": "1"}, {"machineSpec": {}}, {"containerSpec": {"imageUri": "x"}}],
)
def test_a_pool_with_anything_set_is_not_empty(data: dict[str, Any]) -> None:
    assert not parse_resource(WorkerPoolSpec, data).is_empty


def test_a_custom_job_spec_is_written_in_camel_case_without_zero_values() -> None:
    spec = CustomJobSpec(
        worker_pool_specs=[
            WorkerPoolSpec(
                machine_spec=MachineSpec(machine_type="n1-standard-4"),
                replica_count=1,
                container_spec=ContainerSpec(
                    image_uri="python:3.11",
                    command=["python", "train.py"],
                    env=[EnvVar(name="A", value="")],
                ),
            ),
            WorkerPoolSpec(),
        ],
        scheduling=Scheduling(restart_job_on_worker_restart=True),
        enable_web_access=False,
    )
    assert spec.to_json_dict() == {
        "workerPoolSpecs": [
            {
                "containerSpec": {
                    "imageUri": "python:3.11",
                    "command": ["python", "train.py"],
                    "env": [{"name": "A"}],
                },
                "machineSpec": {"machineType": "n1-standard-4"},
                "replicaCount": "1",
            },
            {},
        ],
        "scheduling": {"restartJobOnWorkerRestart": True},
    }
