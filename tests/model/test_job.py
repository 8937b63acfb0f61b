"""HyperparameterTuningJob as a whole: JSON → model → JSON round trips, names, operations."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.model.conftest import STOPPING_SPECS, full_job
from tuneyard.model import (
    ENDED_JOB_STATES,
    HyperparameterTuningJob,
    JobState,
    Operation,
    Status,
    job_name,
    parse_job_name,
    parse_resource,
)


def _through_json_text(data: dict[str, Any]) -> dict[str, Any]:
    # Real JSON text: NaN and Infinity must already be strings, or dumps refuses them.
    decoded: dict[str, Any] = json.loads(json.dumps(data, allow_nan=False))
    return decoded


@pytest.mark.parametrize("stopping", sorted(STOPPING_SPECS))
def test_a_job_with_every_field_round_trips(stopping: str) -> None:
    original = full_job(stopping)
    job = parse_resource(HyperparameterTuningJob, original)
    assert _through_json_text(job.to_json_dict()) == original


@pytest.mark.parametrize("stopping", sorted(STOPPING_SPECS))
def test_a_job_round_trips_through_numeric_enums(stopping: str) -> None:
    job = parse_resource(HyperparameterTuningJob, full_job(stopping))
    numeric = _through_json_text(job.to_json_dict(enum_int=True))
    assert numeric["state"] == 4
    assert numeric["studySpec"]["algorithm"] == 3
    assert numeric["studySpec"]["parameters"][0]["scaleType"] == 2
    assert numeric["trials"][1]["state"] == 5
    pool = numeric["trialJobSpec"]["workerPoolSpecs"][0]
    assert pool["machineSpec"]["acceleratorType"] == 5
    assert pool["machineSpec"]["reservationAffinity"]["reservationAffinityType"] == 3
    assert numeric["trialJobSpec"]["scheduling"]["strategy"] == 4
    again = parse_resource(HyperparameterTuningJob, numeric)
    assert again == job
    assert again.to_json_dict() == full_job(stopping)


def test_the_round_trip_keeps_values_and_types() -> None:
    job = parse_resource(HyperparameterTuningJob, full_job("convexAutomatedStoppingSpec"))
    study = job.study
    assert study.convex_automated_stopping_spec is not None
    assert study.convex_automated_stopping_spec.max_step_count == 100
    assert study.study_stopping_config is not None
    assert study.study_stopping_config.should_stop_asap is False
    assert study.study_stopping_config.min_num_trials == 0
    first, second = job.trials
    assert first.parameter_dict() == {
        "lr": 0.0031622776601683794,
        "units": 64,
        "activation": "selu",
        "alpha": 1.5,
        "batch_size": 32.0,
    }
    assert isinstance(first.parameter_dict()["units"], int)
    assert isinstance(first.parameter_dict()["batch_size"], float)
    assert first.final_measurement is not None
    assert first.final_measurement.step_count == 10
    assert first.final_measurement.value("loss") == 0.25
    assert first.final_measurement.value("absent") is None
    assert [
        m.elapsed_duration.total_seconds() for m in first.measurements if m.elapsed_duration
    ] == [
        30.2,
        61.0,
    ]
    assert second.final_measurement is None
    assert job.error == Status(
        code=1,
        message="CANCELED",
        details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "X"}],
    )
    assert job.trial_spec.worker_pool_specs[1].is_empty


def test_job_name_round_trips() -> None:
    name = job_name("my-proj", "us-central1", "1001")
    assert name == "projects/my-proj/locations/us-central1/hyperparameterTuningJobs/1001"
    assert parse_job_name(name) == ("my-proj", "us-central1", "1001")
    assert HyperparameterTuningJob(name=name).job_id == "1001"
    assert HyperparameterTuningJob().job_id == ""


@pytest.mark.parametrize(
    "name",
    [
        "projects/p/locations/l/hyperparameterTuningJobs/",
        "projects/p/locations/l/customJobs/1",
        "projects/p/locations/l/hyperparameterTuningJobs/1/extra",
        "projects/p/locations/l/hyperparameterTuningJobs/a.b",
        "hyperparameterTuningJobs/1",
    ],
)
def test_malformed_job_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is not a job name"):
        parse_job_name(name)


def test_study_and_trial_spec_accessors_need_their_fields() -> None:
    job = HyperparameterTuningJob()
    with pytest.raises(ValueError, match="no studySpec"):
        _ = job.study
    with pytest.raises(ValueError, match="no trialJobSpec"):
        _ = job.trial_spec


def test_ended_states() -> None:
    assert {
        JobState.JOB_STATE_SUCCEEDED,
        JobState.JOB_STATE_FAILED,
        JobState.JOB_STATE_CANCELLED,
    } == ENDED_JOB_STATES
    assert JobState.JOB_STATE_CANCELLED.ended
    assert not JobState.JOB_STATE_CANCELLING.ended
    assert not JobState.JOB_STATE_PAUSED.ended


def test_a_done_delete_operation_is_written_as_google_does() -> None:
    operation = Operation(
        name="projects/p/locations/l/operations/1002",
        metadata={
            "@type": "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata",
            "genericMetadata": {"createTime": "2026-01-01T00:00:00Z"},
        },
        done=True,
        response={"@type": "type.googleapis.com/google.protobuf.Empty"},
    )
    written = operation.to_json_dict()
    assert written["done"] is True
    assert written["response"] == {"@type": "type.googleapis.com/google.protobuf.Empty"}
    assert "error" not in written
    assert parse_resource(Operation, written) == operation


def test_a_failed_operation_carries_a_status() -> None:
    operation = parse_resource(
        Operation, {"name": "operations/1", "done": True, "error": {"code": 5, "message": "gone"}}
    )
    assert operation.error == Status(code=5, message="gone")
    assert operation.to_json_dict() == {
        "name": "operations/1",
        "done": True,
        "error": {"code": 5, "message": "gone"},
    }
