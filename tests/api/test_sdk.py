"""The high-level SDK (``google.cloud.aiplatform``) pointed at a real server by ``init`` alone.

The SDK polls a running job every 5 s, so these jobs are short.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform
from google.cloud.aiplatform import hyperparameter_tuning as hpt_lib
from google.cloud.aiplatform_v1 import JobState

from tests.api.conftest import LOCATION, PROJECT, TOY, Server


@pytest.fixture(scope="module", autouse=True)
def sdk(server: Server) -> Iterator[None]:
    """The two-line switch: ``aiplatform.init`` with the server's endpoint, over REST."""
    aiplatform.init(
        project=PROJECT,
        location=LOCATION,
        api_endpoint=server.url,
        api_transport="rest",
        credentials=AnonymousCredentials(),
        staging_bucket="gs://my-bucket",
    )
    yield
    aiplatform.initializer.global_pool.shutdown(wait=True)
    aiplatform.initializer.global_config.__init__()  # type: ignore[misc]


def tuning_job(
    display_name: str, args: list[str], algorithm: str | None = "random"
) -> aiplatform.HyperparameterTuningJob:
    custom_job = aiplatform.CustomJob(
        display_name=f"{display_name}-trial",
        worker_pool_specs=[
            {
                "machine_spec": {"machine_type": "n1-standard-4"},
                "replica_count": 1,
                "container_spec": {
                    "image_uri": "python:3.11",
                    "command": [sys.executable, str(TOY)],
                    "args": args,
                },
            }
        ],
    )
    return aiplatform.HyperparameterTuningJob(
        display_name=display_name,
        custom_job=custom_job,
        metric_spec={"score": "maximize"},
        parameter_spec={
            # Grid search takes no DOUBLE parameters.
            "x": hpt_lib.DiscreteParameterSpec(values=[0.1, 0.3], scale="linear")
            if algorithm == "grid"
            else hpt_lib.DoubleParameterSpec(min=0, max=1, scale="linear"),
            "n": hpt_lib.IntegerParameterSpec(min=1, max=8, scale="linear"),
            "kind": hpt_lib.CategoricalParameterSpec(values=["a", "b"]),
            "batch": hpt_lib.DiscreteParameterSpec(values=[16, 32], scale="linear"),
        },
        max_trial_count=3,
        parallel_trial_count=2,
        search_algorithm=algorithm,
        labels={"suite": "sdk"},
    )


@pytest.mark.parametrize("algorithm", ["random", "grid", None])
def test_run_to_succeeded_and_read_trials(algorithm: str | None) -> None:
    job = tuning_job(f"sdk-{algorithm}", ["--steps=2"], algorithm)
    job.run()
    assert job.state == JobState.JOB_STATE_SUCCEEDED
    assert len(job.trials) == 3
    for trial in job.trials:
        values = {p.parameter_id: p.value for p in trial.parameters}
        assert set(values) == {"x", "n", "kind", "batch"}
        assert values["batch"] in (16, 32)
        assert "score" in [m.metric_id for m in trial.final_measurement.metrics]
    listed = aiplatform.HyperparameterTuningJob.list(filter=f'display_name="sdk-{algorithm}"')
    assert [j.resource_name for j in listed] == [job.resource_name]
    job.delete()
    with pytest.raises(exceptions.NotFound):
        aiplatform.HyperparameterTuningJob.get(job.resource_name)


def test_run_async_then_cancel() -> None:
    job = tuning_job("sdk-cancel", ["--mode=hang"])
    job.run(sync=False)
    job.wait_for_resource_creation()
    job.cancel()
    deadline = time.monotonic() + 60
    while job.state != JobState.JOB_STATE_CANCELLED and time.monotonic() < deadline:
        time.sleep(0.5)
    assert job.state == JobState.JOB_STATE_CANCELLED
    assert job.error.code == 1
    with pytest.raises(RuntimeError, match="CANCELED"):
        job.wait()
    listed = aiplatform.HyperparameterTuningJob.list(
        filter='state="JOB_STATE_CANCELLED" AND labels.suite="sdk"'
    )
    assert job.resource_name in [j.resource_name for j in listed]
    # This object re-raises its run's failure on every call now; delete through a fresh one.
    aiplatform.HyperparameterTuningJob.get(job.resource_name).delete()
    assert job.resource_name not in [
        j.resource_name for j in aiplatform.HyperparameterTuningJob.list()
    ]
