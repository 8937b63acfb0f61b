"""``HyperparameterTuningJobHook`` against a real ``tuneyard serve``, through the hook only."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.api.conftest import Server
from tests.client.conftest import PROJECT, REGION, unique, worker_pools
from tuneyard.client import HyperparameterTuningJobHook, JobFailed
from tuneyard.errors import FailedPrecondition, InvalidArgument, NotFound
from tuneyard.hyperparameter_tuning import (
    CategoricalParameterSpec,
    DiscreteParameterSpec,
    DoubleParameterSpec,
    IntegerParameterSpec,
)
from tuneyard.model import JobState

KEY = "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k"
TENSORBOARD = "projects/p/locations/us-central1/tensorboards/7"


def _space() -> dict[str, object]:
    """All four kinds, with conditional children under the INTEGER, CATEGORICAL and DISCRETE."""
    return {
        "x": DoubleParameterSpec(min=0.0, max=1.0, scale="linear"),
        "units": IntegerParameterSpec(
            min=1,
            max=2,
            scale="linear",
            conditional_parameter_spec={
                "width": IntegerParameterSpec(4, 8, "linear", parent_values=[2]),
            },
        ),
        "kind": CategoricalParameterSpec(
            values=["a", "b"],
            conditional_parameter_spec={
                "alpha": DoubleParameterSpec(0.1, 0.9, "log", parent_values=["b"]),
            },
        ),
        "batch": DiscreteParameterSpec(
            values=[16, 32],
            scale="linear",
            conditional_parameter_spec={
                "mode": CategoricalParameterSpec(["p", "q"], parent_values=[32]),
            },
        ),
    }


def _given(server: Server, trial_id: str) -> dict[str, object]:
    """What the test trainer of trial ``trial_id`` recorded (under the staging bucket)."""
    [path] = (server.home / "buckets" / "stage").glob(f"*/{trial_id}/model/given.json")
    given: dict[str, object] = json.loads(path.read_text())
    return given


def test_sync_create_tunes_to_succeeded_and_every_parameter_reaches_the_job(
    hook: HyperparameterTuningJobHook, server: Server
) -> None:
    name = unique("every-param")
    job = hook.create_hyperparameter_tuning_job(
        project_id=PROJECT,
        region=REGION,
        display_name=name,
        metric_spec={"score": "maximize", "loss": "minimize"},
        parameter_spec=_space(),
        max_trial_count=3,
        parallel_trial_count=3,
        worker_pool_specs=worker_pools(),
        staging_bucket="gs://stage",
        custom_job_labels={"team": "ml"},
        custom_job_encryption_spec_key_name=KEY,
        max_failed_trial_count=1,
        search_algorithm="random",
        measurement_selection="last",
        hyperparameter_tuning_job_labels={"run": "one"},
        service_account="trainer@p.iam.gserviceaccount.com",
        network="projects/1/global/networks/vpc",
        timeout=600,
        restart_job_on_worker_restart=True,
        enable_web_access=True,
        tensorboard=TENSORBOARD,
    )
    assert job.state == JobState.JOB_STATE_SUCCEEDED
    assert job.done()
    assert job.name.isdigit() and job.resource_name.endswith(
        f"/hyperparameterTuningJobs/{job.name}"
    )
    assert len(job.trials) == 3
    assert all(t.final_measurement is not None for t in job.trials)

    got = hook.get_hyperparameter_tuning_job(
        project_id=PROJECT, region=REGION, hyperparameter_tuning_job=job.name
    )
    assert got.state.name == "JOB_STATE_SUCCEEDED"
    assert got.trials[0].final_measurement.metrics[0].metric_id == "score"  # type: ignore[union-attr]
    record = got.to_dict()  # proto-plus style: snake_case, enum numbers
    assert record["state"] == 4 and record["display_name"] == name
    assert record["labels"] == {"team": "ml", "run": "one"}
    assert record["encryption_spec"] == {"kms_key_name": KEY}
    assert record["max_failed_trial_count"] == 1
    study = record["study_spec"]
    assert [(m["metric_id"], m["goal"]) for m in study["metrics"]] == [("score", 1), ("loss", 2)]
    assert study["algorithm"] == 3 and study["measurement_selection_type"] == 1
    spec = record["trial_job_spec"]
    assert spec["service_account"] == "trainer@p.iam.gserviceaccount.com"
    assert spec["network"] == "projects/1/global/networks/vpc"
    assert spec["scheduling"]["timeout"] == "600s"
    assert spec["scheduling"]["restart_job_on_worker_restart"] is True
    assert spec["enable_web_access"] is True and spec["tensorboard"] == TENSORBOARD
    assert spec["base_output_directory"]["output_uri_prefix"].startswith(
        "gs://stage/aiplatform-custom-job-"
    )
    camel = job.to_dict()  # the SDK object's: camelCase, enum names
    assert camel["state"] == "JOB_STATE_SUCCEEDED" and camel["trialJobSpec"]["tensorboard"]

    for trial in got.trials:
        given = _given(server, trial.id)
        flags = given["flags"]
        assert isinstance(flags, dict)
        expected = {p.parameter_id for p in trial.parameters}
        assert set(flags) == expected  # active children only, and every one of them
        assert given["dirs"] == {
            "AIP_MODEL_DIR": True,
            "AIP_CHECKPOINT_DIR": True,
            "AIP_TENSORBOARD_LOG_DIR": True,
        }
        env = given["env"]
        assert isinstance(env, dict)
        assert env["AIP_TENSORBOARD_LOG_DIR"].endswith(f"/{trial.id}/logs/")
        assert env["CLOUD_ML_TRIAL_ID"] == trial.id


def test_the_search_space_arrives_with_its_conditions(
    hook: HyperparameterTuningJobHook,
) -> None:
    job = hook.create_hyperparameter_tuning_job(
        project_id=PROJECT,
        region=REGION,
        display_name=unique("space"),
        metric_spec={"score": "maximize"},
        parameter_spec=_space(),
        max_trial_count=1,
        parallel_trial_count=1,
        worker_pool_specs=worker_pools(),
        wait_job_completed=False,
    )
    job.wait()
    got = hook.get_hyperparameter_tuning_job(
        project_id=PROJECT, region=REGION, hyperparameter_tuning_job=job.name
    )
    assert got.study_spec is not None
    x, units, kind, batch = got.study_spec.parameters
    assert x.kind == "DOUBLE" and x.scale_type.name == "UNIT_LINEAR_SCALE"
    assert (x.double_value_spec.min_value, x.double_value_spec.max_value) == (0.0, 1.0)  # type: ignore[union-attr]
    [width] = units.conditional_parameter_specs
    assert width.parent_int_values is not None and width.parent_int_values.values == [2]
    [alpha] = kind.conditional_parameter_specs
    assert alpha.parent_categorical_values.values == ["b"]  # type: ignore[union-attr]
    assert alpha.parameter_spec.scale_type.name == "UNIT_LOG_SCALE"  # type: ignore[union-attr]
    [mode] = batch.conditional_parameter_specs
    assert mode.parent_discrete_values.values == [32.0]  # type: ignore[union-attr]
    assert mode.parameter_spec.categorical_value_spec.values == ["p", "q"]  # type: ignore[union-attr]


def test_async_create_returns_once_the_job_exists_and_cancel_stops_it(
    hook: HyperparameterTuningJobHook,
) -> None:
    job = hook.create_hyperparameter_tuning_job(
        project_id=PROJECT,
        region=REGION,
        display_name=unique("cancel"),
        metric_spec={"score": "maximize"},
        parameter_spec={"x": DoubleParameterSpec(0.0, 1.0, "linear")},
        max_trial_count=2,
        parallel_trial_count=1,
        worker_pool_specs=worker_pools("--sleep=120"),
        sync=False,
        wait_job_completed=False,
    )
    assert job.name.isdigit()  # it exists: the id is known
    assert not job.done()
    hook.cancel_hyperparameter_tuning_job()
    with pytest.raises(JobFailed) as failed:
        job.wait()
    assert failed.value.state == JobState.JOB_STATE_CANCELLED
    assert failed.value.error is not None and failed.value.error.code == 1
    got = hook.get_hyperparameter_tuning_job(
        project_id=PROJECT, region=REGION, hyperparameter_tuning_job=job.name
    )
    assert got.state.name == "JOB_STATE_CANCELLED"


def test_delete_waits_for_its_operation_and_the_job_is_gone(
    hook: HyperparameterTuningJobHook,
) -> None:
    job = hook.create_hyperparameter_tuning_job(
        project_id=PROJECT,
        region=REGION,
        display_name=unique("delete"),
        metric_spec={"score": "maximize"},
        parameter_spec={"x": DoubleParameterSpec(0.0, 1.0, "linear")},
        max_trial_count=1,
        parallel_trial_count=1,
        worker_pool_specs=worker_pools(),
        sync=False,
    )
    operation = hook.delete_hyperparameter_tuning_job(
        project_id=PROJECT, region=REGION, hyperparameter_tuning_job=job.name
    )
    assert operation.operation.name.startswith(f"projects/{PROJECT}/locations/{REGION}/operations/")
    assert hook.wait_for_operation(operation, timeout=30) is None
    assert operation.done()
    with pytest.raises(NotFound) as missing:
        hook.get_hyperparameter_tuning_job(
            project_id=PROJECT, region=REGION, hyperparameter_tuning_job=job.name
        )
    assert job.resource_name in missing.value.message


def test_errors_carry_the_servers_message(
    hook: HyperparameterTuningJobHook, server: Server
) -> None:
    path = f"projects/{PROJECT}/locations/{REGION}/hyperparameterTuningJobs/999999"
    with pytest.raises(urllib.error.HTTPError) as raw:
        urllib.request.urlopen(f"{server.url}/v1/{path}")
    server_message = json.loads(raw.value.read())["error"]["message"]
    with pytest.raises(NotFound) as missing:
        hook.get_hyperparameter_tuning_job(
            project_id=PROJECT, region=REGION, hyperparameter_tuning_job="999999"
        )
    assert missing.value.message == server_message and str(missing.value) == server_message
    with pytest.raises(NotFound):
        hook.delete_hyperparameter_tuning_job(
            project_id=PROJECT, region=REGION, hyperparameter_tuning_job="999999"
        )

    with pytest.raises(InvalidArgument) as invalid:
        hook.create_hyperparameter_tuning_job(
            project_id=PROJECT,
            region=REGION,
            display_name=unique("invalid"),
            metric_spec={"score": "maximize"},
            parameter_spec={"x": DoubleParameterSpec(0.0, 1.0, "linear")},
            max_trial_count=1,
            parallel_trial_count=2,
            worker_pool_specs=worker_pools(),
        )
    assert [v.field for v in invalid.value.violations] == ["parallelTrialCount"]
    assert "greater than maxTrialCount" in invalid.value.message


def test_a_running_job_cannot_be_deleted_and_a_failed_one_raises(
    hook: HyperparameterTuningJobHook,
) -> None:
    running = hook.create_hyperparameter_tuning_job(
        project_id=PROJECT,
        region=REGION,
        display_name=unique("busy"),
        metric_spec={"score": "maximize"},
        parameter_spec={"x": DoubleParameterSpec(0.0, 1.0, "linear")},
        max_trial_count=1,
        parallel_trial_count=1,
        worker_pool_specs=worker_pools("--sleep=120"),
        sync=False,
        wait_job_completed=False,
    )
    with pytest.raises(FailedPrecondition, match="cancel it first"):
        hook.delete_hyperparameter_tuning_job(
            project_id=PROJECT, region=REGION, hyperparameter_tuning_job=running.name
        )
    running.cancel()
    with pytest.raises(JobFailed):
        running.wait_for_completion()

    with pytest.raises(JobFailed) as failed:
        hook.create_hyperparameter_tuning_job(
            project_id=PROJECT,
            region=REGION,
            display_name=unique("fails"),
            metric_spec={"score": "maximize"},
            parameter_spec={"x": DoubleParameterSpec(0.0, 1.0, "linear")},
            max_trial_count=1,
            parallel_trial_count=1,
            max_failed_trial_count=1,
            worker_pool_specs=worker_pools("--fail=1"),
        )
    assert failed.value.state == JobState.JOB_STATE_FAILED


def test_client_side_rules_name_the_parameter(hook: HyperparameterTuningJobHook) -> None:
    with pytest.raises(InvalidArgument) as double_parent:
        hook.create_hyperparameter_tuning_job(
            project_id=PROJECT,
            region=REGION,
            display_name="never-sent",
            metric_spec={"score": "maximize"},
            parameter_spec={
                "x": DoubleParameterSpec(
                    0.0,
                    1.0,
                    "linear",
                    conditional_parameter_spec={"y": DoubleParameterSpec(0, 1, "linear")},
                )
            },
            max_trial_count=1,
            parallel_trial_count=1,
            worker_pool_specs=worker_pools(),
        )
    assert double_parent.value.violations[0].field.startswith("parameter_spec['x']")
    with pytest.raises(InvalidArgument, match="metric_spec\\['score'\\]"):
        hook.get_hyperparameter_tuning_job_object(
            display_name="x",
            custom_job=hook.get_custom_job_object("x", worker_pools()),
            metric_spec={"score": "biggest"},
            parameter_spec={},
            max_trial_count=1,
            parallel_trial_count=1,
            project=PROJECT,
        )
    custom_job = hook.get_custom_job_object(
        "x", worker_pools(), labels={"team": "ml"}, encryption_spec_key_name=KEY
    )
    common = {
        "display_name": "x",
        "custom_job": custom_job,
        "metric_spec": {"score": "maximize"},
        "parameter_spec": {},
        "max_trial_count": 1,
        "parallel_trial_count": 1,
        "project": PROJECT,
    }
    with pytest.raises(InvalidArgument, match="labels\\['team'\\]"):
        hook.get_hyperparameter_tuning_job_object(**common, labels={"team": "ops"})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="encryption_spec_key_name"):
        hook.get_hyperparameter_tuning_job_object(**common, encryption_spec_key_name=KEY + "2")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hook.get_hyperparameter_tuning_job(PROJECT, REGION, "1")  # type: ignore[call-arg]
    assert (
        HyperparameterTuningJobHook.extract_hyperparameter_tuning_job_id(
            {"name": f"projects/{PROJECT}/locations/{REGION}/hyperparameterTuningJobs/42"}
        )
        == "42"
    )
