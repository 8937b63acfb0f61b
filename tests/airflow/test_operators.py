"""The operators in real Airflow (3 and 2), against a real ``tuneyard serve``.

Each test runs a DAG with ``dag.test()`` in an Airflow venv and checks the outcome twice: in
the run's XComs (what a downstream task sees) and on the server (what really happened).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

import httpx2 as httpx
import pytest

from tests.airflow.conftest import CONN_ID, DAGS, EXAMPLE_DAG, Airflow, job_url
from tests.api.conftest import Server

REGION = "us-central1"
SUCCEEDED = 4  # JobState.JOB_STATE_SUCCEEDED, as proto-plus's to_dict writes enums


def _server_job(server: Server, project: str, job_id: str) -> dict[str, Any]:
    answer = httpx.get(job_url(server, project, REGION, job_id))
    answer.raise_for_status()
    job: dict[str, Any] = answer.json()
    return job


def test_example_dag_tunes_digits_deferred(airflow: Airflow, server: Server) -> None:
    """examples/dags: create (deferred to the trigger), get, list, delete; 2 trials."""
    project = f"{airflow.name}-example"
    env = airflow.env(
        server,
        TUNEYARD_EXAMPLE_CONN_ID=CONN_ID,
        TUNEYARD_EXAMPLE_PROJECT=project,
        TUNEYARD_EXAMPLE_TRIALS="2",
        TUNEYARD_EXAMPLE_EPOCHS="3",
        TUNEYARD_EXAMPLE_DEFERRABLE="true",
    )
    report = airflow.run(EXAMPLE_DAG, "tuneyard_digits", env)

    assert report["state"] == "success", airflow.log("tuneyard_digits")
    assert set(report["tasks"].values()) == {"success"}
    assert set(report["tasks"]) == {"tune", "get_job", "list_jobs", "delete_job"}
    xcom = report["xcom"]
    job_id = xcom["tune"]["hyperparameter_tuning_job_id"]
    assert job_id.isdigit()
    name = f"projects/{project}/locations/{REGION}/hyperparameterTuningJobs/{job_id}"

    # Deferred: the result is the trigger's event, proto-plus's to_dict (snake_case, enum
    # numbers), where the worker's wait would return the SDK object's camelCase dict.
    created = xcom["tune"]["return_value"]
    assert created["name"] == name
    assert created["state"] == SUCCEEDED
    assert created["display_name"] == "digits-mlp-airflow"
    log = airflow.log("tuneyard_digits", tail=None)
    assert "running trigger in line" in log
    assert f"Hyperparameter Tuning Job {job_id} completed with status JOB_STATE_SUCCEEDED" in log

    got = xcom["get_job"]["return_value"]
    assert got["name"] == name
    assert got["state"] == SUCCEEDED
    assert len(got["trials"]) == 2
    for trial in got["trials"]:
        (metric,) = trial["final_measurement"]["metrics"]
        assert metric["metric_id"] == "accuracy"
        assert 0.0 < metric["value"] <= 1.0
        assert {p["parameter_id"] for p in trial["parameters"]} == {
            "learning_rate",
            "hidden_units",
            "activation",
            "batch_size",
        }
    assert got["labels"] == {"example": "digits", "launched_by": "airflow"}

    listed = xcom["list_jobs"]["return_value"]
    assert name in [job["name"] for job in listed]
    assert all(job["display_name"] == "digits-mlp-airflow" for job in listed)

    assert xcom["tune"]["tuneyard_hyperparameter_tuning_job"] == job_url(
        server, project, REGION, job_id
    )
    # delete_job waited for the operation: the job is gone from the server.
    assert httpx.get(job_url(server, project, REGION, job_id)).status_code == 404


def test_create_waits_in_the_worker(airflow: Airflow, server: Server) -> None:
    """Not deferred: the worker waits, and returns the SDK object's to_dict (camelCase)."""
    project = f"{airflow.name}-wait"
    env = airflow.env(
        server,
        TUNEYARD_TEST_PROJECT=project,
        TUNEYARD_TEST_TRAINER_PYTHON=sys.executable,
        TUNEYARD_TEST_TOY_ARGS="--steps=2",
    )
    report = airflow.run(DAGS / "tune_toy.py", "tune_toy", env)

    assert report["state"] == "success", airflow.log("tune_toy")
    job_id = report["xcom"]["tune"]["hyperparameter_tuning_job_id"]
    on_server = _server_job(server, project, job_id)
    assert on_server["state"] == "JOB_STATE_SUCCEEDED"
    assert len(on_server["trials"]) == 2
    assert on_server["labels"] == {"test": "airflow"}
    assert on_server["studySpec"]["algorithm"] == "RANDOM_SEARCH"
    returned = report["xcom"]["tune"]["return_value"]
    assert returned["name"] == on_server["name"]
    assert returned["state"] == "JOB_STATE_SUCCEEDED"
    assert returned["displayName"] == "toy-airflow"


def test_a_failed_job_fails_the_deferred_task(airflow: Airflow, server: Server) -> None:
    """The trigger's error event makes execute_complete raise: the task fails with its message."""
    project = f"{airflow.name}-fail"
    env = airflow.env(
        server,
        TUNEYARD_TEST_PROJECT=project,
        TUNEYARD_TEST_TRAINER_PYTHON=sys.executable,
        TUNEYARD_TEST_TOY_ARGS="--mode=fail",
        TUNEYARD_TEST_DEFERRABLE="true",
    )
    report = airflow.run(DAGS / "tune_toy.py", "tune_toy", env)

    assert report["state"] == "failed"
    assert report["tasks"] == {"tune": "failed"}
    job_id = report["xcom"]["tune"]["hyperparameter_tuning_job_id"]
    assert "return_value" not in report["xcom"]["tune"]
    assert _server_job(server, project, job_id)["state"] == "JOB_STATE_FAILED"
    log = airflow.log("tune_toy", tail=None)
    assert "running trigger in line" in log
    assert f"Hyperparameter Tuning Job {job_id} completed with status JOB_STATE_FAILED" in log
    assert "AirflowException" in log


def test_killing_the_task_cancels_the_job(airflow: Airflow, server: Server) -> None:
    """SIGTERM to the task runs on_kill, which cancels the job on the server."""
    project = f"{airflow.name}-kill"
    env = airflow.env(
        server,
        TUNEYARD_TEST_PROJECT=project,
        TUNEYARD_TEST_TRAINER_PYTHON=sys.executable,
        TUNEYARD_TEST_TOY_ARGS="--steps=2 --sleep=120",
    )
    jobs = f"{server.url}/v1/projects/{project}/locations/{REGION}/hyperparameterTuningJobs"
    process = airflow.popen(DAGS / "tune_toy.py", "tune_toy", env)
    try:
        job = _wait_for(lambda: _running_job(server, jobs), "a running trial", process, airflow)
        process.send_signal(signal.SIGTERM)
        ended = _wait_for(
            lambda: _ended(_server_job(server, project, job["name"].rpartition("/")[2])),
            "the job to end",
            process,
            airflow,
            check_process=False,
        )
        assert ended["state"] == "JOB_STATE_CANCELLED", airflow.log("tune_toy")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def _running_job(server: Server, jobs_url: str) -> dict[str, Any] | None:
    """The job whose trial is running (a list leaves trials out: GET each job)."""
    for listed in httpx.get(jobs_url).json().get("hyperparameterTuningJobs", []):
        job: dict[str, Any] = httpx.get(f"{server.url}/v1/{listed['name']}").json()
        if any(trial.get("state") == "ACTIVE" for trial in job.get("trials", [])):
            return job
    return None


def _ended(job: dict[str, Any]) -> dict[str, Any] | None:
    ended = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")
    return job if job.get("state") in ended else None


def _wait_for(
    probe: Any,
    what: str,
    process: subprocess.Popen[str],
    airflow: Airflow,
    *,
    check_process: bool = True,
    seconds: float = 300,
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return dict(found)
        if check_process and process.poll() is not None:
            pytest.fail(f"the DAG run ended before {what}:\n{airflow.log('tune_toy')}")
        time.sleep(0.5)
    pytest.fail(f"no {what} within {seconds} s:\n{airflow.log('tune_toy')}")
