"""Google's raw REST client (``aiplatform_v1.JobServiceClient``) against a real server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform_v1

from tests.api.conftest import PARENT, Server, toy_job_json

JobState = aiplatform_v1.JobState


def as_job(body: dict[str, Any]) -> aiplatform_v1.HyperparameterTuningJob:
    """A proto-plus job from Vertex JSON (the SDK's own JSON parser)."""
    return aiplatform_v1.HyperparameterTuningJob.from_json(json.dumps(body))


@pytest.fixture(scope="module")
def client(server: Server) -> aiplatform_v1.JobServiceClient:
    return aiplatform_v1.JobServiceClient(
        transport="rest",
        client_options={"api_endpoint": server.url},
        credentials=AnonymousCredentials(),
    )


def wait_for(
    client: aiplatform_v1.JobServiceClient,
    name: str,
    done: Callable[[Any], bool],
    timeout: float = 60,
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get_hyperparameter_tuning_job(name=name)
        if done(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def ended(job: Any) -> bool:
    return job.state in (
        JobState.JOB_STATE_SUCCEEDED,
        JobState.JOB_STATE_FAILED,
        JobState.JOB_STATE_CANCELLED,
    )


def test_create_runs_to_succeeded_with_trials(client: aiplatform_v1.JobServiceClient) -> None:
    job = as_job(toy_job_json("raw-ok", labels={"team": "ml"}))
    created = client.create_hyperparameter_tuning_job(parent=PARENT, hyperparameter_tuning_job=job)
    assert created.name.startswith(f"{PARENT}/hyperparameterTuningJobs/")
    assert created.state == JobState.JOB_STATE_QUEUED
    assert created.labels == {"team": "ml"}
    finished = wait_for(client, created.name, ended)
    assert finished.state == JobState.JOB_STATE_SUCCEEDED
    assert len(finished.trials) == 2
    for trial in finished.trials:
        assert trial.state == aiplatform_v1.Trial.State.SUCCEEDED
        assert "score" in [m.metric_id for m in trial.final_measurement.metrics]
        assert {p.parameter_id for p in trial.parameters} == {"x", "n"}
        assert len(trial.measurements) == 2
    assert (
        finished.study_spec.metrics[0].goal == aiplatform_v1.StudySpec.MetricSpec.GoalType.MAXIMIZE
    )


def test_list_filters_and_pages(client: aiplatform_v1.JobServiceClient) -> None:
    names = []
    for i in range(3):
        body = toy_job_json(f"paged-{i}", args=["--mode=hang"], max_trials=1, parallel=1)
        names.append(
            client.create_hyperparameter_tuning_job(
                parent=PARENT, hyperparameter_tuning_job=as_job(body)
            ).name
        )
    try:
        request = aiplatform_v1.ListHyperparameterTuningJobsRequest(
            parent=PARENT, filter='display_name:"paged-*"', page_size=1
        )
        pager = client.list_hyperparameter_tuning_jobs(request=request)
        pages = list(pager.pages)
        assert len(pages) >= 3
        listed = [job for page in pages for job in page.hyperparameter_tuning_jobs]
        assert [job.name for job in listed] == names
        assert all(len(job.trials) == 0 for job in listed)
        one = client.list_hyperparameter_tuning_jobs(
            request={
                "parent": PARENT,
                "filter": 'display_name="paged-1" AND NOT labels.team:*',
                "read_mask": "name,displayName",
            }
        )
        assert [(job.display_name, job.state) for job in one] == [("paged-1", 0)]
    finally:
        for name in names:
            client.cancel_hyperparameter_tuning_job(name=name)
    for name in names:
        assert wait_for(client, name, ended).state == JobState.JOB_STATE_CANCELLED


def test_cancel_then_delete(client: aiplatform_v1.JobServiceClient) -> None:
    body = toy_job_json("raw-hang", args=["--mode=hang"], max_trials=2, parallel=2)
    name = client.create_hyperparameter_tuning_job(
        parent=PARENT, hyperparameter_tuning_job=as_job(body)
    ).name
    wait_for(client, name, lambda job: len(job.trials) == 2, timeout=30)
    with pytest.raises(exceptions.BadRequest, match="cancel it first"):
        client.delete_hyperparameter_tuning_job(name=name)
    client.cancel_hyperparameter_tuning_job(name=name)
    cancelled = wait_for(client, name, ended)
    assert cancelled.state == JobState.JOB_STATE_CANCELLED
    assert cancelled.error.code == 1
    with pytest.raises(exceptions.BadRequest):
        client.cancel_hyperparameter_tuning_job(name=name)
    operation = client.delete_hyperparameter_tuning_job(name=name)
    operation.result(timeout=30)
    assert operation.done()
    assert operation.operation.name.startswith(f"{PARENT}/operations/")
    with pytest.raises(exceptions.NotFound):
        client.get_hyperparameter_tuning_job(name=name)
    with pytest.raises(exceptions.NotFound):
        client.delete_hyperparameter_tuning_job(name=name)


def test_bad_job_is_bad_request_with_field_violations(
    client: aiplatform_v1.JobServiceClient,
) -> None:
    body = toy_job_json("bad")
    body["studySpec"]["parameters"][1]["integerValueSpec"] = {"minValue": "9", "maxValue": "2"}
    with pytest.raises(exceptions.BadRequest) as info:
        client.create_hyperparameter_tuning_job(
            parent=PARENT, hyperparameter_tuning_job=as_job(body)
        )
    assert "studySpec.parameters[1]" in str(info.value)
    violations = info.value.details[0]["fieldViolations"]
    assert violations[0]["field"].startswith("studySpec.parameters[1]")


def test_other_projects_jobs_are_not_found(client: aiplatform_v1.JobServiceClient) -> None:
    created = client.create_hyperparameter_tuning_job(
        parent=PARENT,
        hyperparameter_tuning_job=as_job(toy_job_json("mine", max_trials=1, parallel=1)),
    )
    other = created.name.replace("projects/my-proj/", "projects/other-proj/")
    with pytest.raises(exceptions.NotFound):
        client.get_hyperparameter_tuning_job(name=other)
    listed = client.list_hyperparameter_tuning_jobs(
        parent="projects/other-proj/locations/us-central1"
    )
    assert list(listed) == []
    assert wait_for(client, created.name, ended).state == JobState.JOB_STATE_SUCCEEDED
