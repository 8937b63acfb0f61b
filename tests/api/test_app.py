"""The app in process (FastAPI's TestClient, a real store): paging, masks, encodings, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import PARENT, toy_job_json
from tuneyard.api import MAX_PAGE_SIZE, create_app
from tuneyard.api.listing import decode_page_token, encode_page_token, page_size
from tuneyard.engine import Controller
from tuneyard.errors import InvalidArgument
from tuneyard.runtime import LocalExecutor
from tuneyard.store import open_store

JOBS = f"/v1/{PARENT}/hyperparameterTuningJobs"


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    store = open_store(f"sqlite:///{tmp_path / 'api.db'}")
    executor = LocalExecutor()
    try:
        yield Controller(store, executor)
    finally:
        executor.close()
        store.close()


@pytest.fixture
def client(controller: Controller) -> Iterator[TestClient]:
    with TestClient(create_app(controller)) as test_client:
        yield test_client


def create(client: TestClient, name: str = "toy", **kwargs: Any) -> dict[str, Any]:
    response = client.post(JOBS, json=toy_job_json(name, **kwargs))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == status
    assert error["status"] == code
    return error


def test_page_tokens_round_trip_and_reject_forgeries() -> None:
    assert decode_page_token(encode_page_token(41)) == 41
    assert decode_page_token("") is None
    for forged in ("41", "djE6eA", "!!!", encode_page_token(1)[:-2]):
        with pytest.raises(InvalidArgument):
            decode_page_token(forged)
    assert page_size(None) == page_size(0) == 50
    assert page_size(10**6) == MAX_PAGE_SIZE


def test_pages_stay_correct_while_jobs_are_created(client: TestClient) -> None:
    names = [create(client, f"job-{i}")["name"] for i in range(5)]
    seen: list[str] = []
    token = ""
    while True:
        page = client.get(JOBS, params={"pageSize": 2, "pageToken": token}).json()
        seen += [job["name"] for job in page["hyperparameterTuningJobs"]]
        names.append(create(client, f"late-{len(names)}")["name"])  # created between pages
        token = page.get("nextPageToken", "")
        if not token or len(seen) > 20:
            break
    assert seen == names[: len(seen)]
    assert len(seen) == len(set(seen)) >= 5
    error = error_of(client.get(JOBS, params={"pageToken": "nope"}), 400, "INVALID_ARGUMENT")
    assert error["details"][0]["fieldViolations"][0]["field"] == "pageToken"


def test_filter_mask_and_enum_numbers(client: TestClient) -> None:
    create(client, "a", labels={"team": "ml"})
    create(client, "b")
    page = client.get(
        JOBS + "?filter=labels.team%3Dml&readMask=display_name,state"
        "&%24alt=json%3Benum-encoding%3Dint&prettyPrint=false&key=k&%24.xgafv=2&%24fields=x"
    ).json()
    assert page == {"hyperparameterTuningJobs": [{"displayName": "a", "state": 1}]}
    bad = client.get(JOBS, params={"filter": "state<1"})
    error = error_of(bad, 400, "INVALID_ARGUMENT")
    assert "column 6" in error["message"]


def test_get_uses_enum_names_unless_asked_and_scopes_by_project(client: TestClient) -> None:
    name = create(client)["name"]
    assert client.get(f"/v1/{name}").json()["studySpec"]["metrics"][0]["goal"] == "MAXIMIZE"
    numbers = client.get(f"/v1/{name}", params={"$alt": "json;enum-encoding=int"}).json()
    assert numbers["studySpec"]["metrics"][0]["goal"] == 1
    other = name.replace("projects/my-proj/", "projects/someone-else/")
    error_of(client.get(f"/v1/{other}"), 404, "NOT_FOUND")
    error_of(client.get(f"{JOBS}/not-a-number"), 404, "NOT_FOUND")


def test_create_ignores_output_only_and_refuses_unknown_fields(client: TestClient) -> None:
    body = {**toy_job_json(), "name": "x/y", "state": "JOB_STATE_SUCCEEDED", "trials": []}
    created = client.post(JOBS, json=body).json()
    assert created["state"] == "JOB_STATE_QUEUED"
    assert created["name"].startswith(f"{PARENT}/hyperparameterTuningJobs/")
    error = error_of(
        client.post(JOBS, json={**toy_job_json(), "bogus": 1}), 400, "INVALID_ARGUMENT"
    )
    assert error["details"][0]["fieldViolations"][0]["field"] == "bogus"
    error_of(client.post(JOBS, content=b"{not json"), 400, "INVALID_ARGUMENT")
    error_of(client.post(JOBS, json=[1, 2]), 400, "INVALID_ARGUMENT")
    error_of(client.get(JOBS, params={"pageSize": "many"}), 400, "INVALID_ARGUMENT")


def test_cancel_and_delete_and_operations_on_both_paths(client: TestClient) -> None:
    name = create(client)["name"]
    error = error_of(client.delete(f"/v1/{name}"), 400, "FAILED_PRECONDITION")
    assert "cancel it first" in error["message"]
    assert client.post(f"/v1/{name}:cancel", json={}).json() == {}
    assert client.get(f"/v1/{name}").json()["state"] == "JOB_STATE_CANCELLING"
    error_of(client.post(f"/v1/{name}:pause", json={}), 405, "UNIMPLEMENTED")


def test_delete_operation_is_kept(client: TestClient, controller: Controller) -> None:
    from tuneyard.model import JobState

    name = create(client)["name"]
    controller.store.set_job_state(name, JobState.JOB_STATE_CANCELLED)
    operation = client.delete(f"/v1/{name}").json()
    assert operation["done"] is True
    assert operation["response"] == {"@type": "type.googleapis.com/google.protobuf.Empty"}
    meta = operation["metadata"]
    assert meta["@type"] == "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata"
    assert set(meta["genericMetadata"]) == {"createTime", "updateTime"}
    for prefix in ("v1", "ui"):
        assert client.get(f"/{prefix}/{operation['name']}").json() == operation
    error_of(client.get(f"/v1/{name}"), 404, "NOT_FOUND")
    error_of(client.get(f"/ui/{PARENT}/operations/999"), 404, "NOT_FOUND")
    error_of(client.get(f"/ui/{name}/operations/1"), 404, "NOT_FOUND")


def test_unknown_routes_and_methods_in_googles_shape(client: TestClient) -> None:
    error_of(client.get("/v1/nothing/here"), 404, "NOT_FOUND")
    assert client.put(JOBS).status_code == 405
    assert client.put(JOBS).json()["error"]["status"] == "UNIMPLEMENTED"
    schema = client.get("/openapi.json").json()
    assert (
        "/v1/projects/{project}/locations/{location}/hyperparameterTuningJobs" in (schema["paths"])
    )


def test_token_required_when_set(controller: Controller) -> None:
    with TestClient(create_app(controller, token="s3cret")) as client:
        error_of(client.get(JOBS), 401, "UNAUTHENTICATED")
        error_of(
            client.get(JOBS, headers={"Authorization": "Bearer wrong"}), 401, "UNAUTHENTICATED"
        )
        ok = client.get(JOBS, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
