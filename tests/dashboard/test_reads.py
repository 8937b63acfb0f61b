"""The dashboard's read endpoints under /tuneyard/v1/, against a real server running real jobs."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx

from tests.api.conftest import PARENT, Server, toy_job_json
from tests.dashboard.conftest import chatty_job, job_json, post_job, wait_for

ENDED = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")


def _ended(server: Server, name: str) -> dict[str, Any]:
    return wait_for(  # type: ignore[no-any-return]
        f"{name} to end",
        lambda: (job := job_json(server, name))["state"] in ENDED and job,
    )


def _progress(server: Server, ids: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/tuneyard/v1/{PARENT}/hyperparameterTuningJobs:batchGetProgress",
        params={"ids": ids},
    )


def test_progress_counts_trials_and_names_the_best(server: Server) -> None:
    good = post_job(server, chatty_job("good", max_trials=3, parallel=3))
    bad = post_job(server, toy_job_json("bad", args=["--mode=fail"], max_trials=2, parallel=1))
    good_job, bad_job = _ended(server, good), _ended(server, bad)
    good_id, bad_id = good.rsplit("/", 1)[1], bad.rsplit("/", 1)[1]

    answer = _progress(server, f"{bad_id},999999,{good_id}").json()["progress"]

    assert [p["name"] for p in answer] == [bad, good]  # the unknown id is left out
    failed, succeeded = answer
    assert failed["state"] == "JOB_STATE_FAILED" == bad_job["state"]
    assert failed["failed"] == failed["infeasible"] == failed["trialCount"] >= 1
    assert failed["failedTrialIds"] == [t["id"] for t in bad_job["trials"]]
    assert failed["optimalTrials"] == []
    assert (succeeded["succeeded"], succeeded["running"], succeeded["failed"]) == (3, 0, 0)
    assert succeeded["maxTrialCount"] == 3
    scores = {t["id"]: t["finalMeasurement"]["metrics"][0]["value"] for t in good_job["trials"]}
    best = max(scores, key=lambda trial_id: (scores[trial_id], -int(trial_id)))
    assert succeeded["optimalTrials"] == [{"trialId": best, "values": {"score": scores[best]}}]


def test_progress_refuses_ids_that_are_not_job_ids(server: Server) -> None:
    refused = _progress(server, "1,abc")
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["fieldViolations"][0]["field"] == "ids"
    too_many = _progress(server, ",".join(str(i) for i in range(1, 300)))
    assert too_many.status_code == 400
    assert "at most 200" in too_many.json()["error"]["message"]


def test_trial_logs_tail_each_replica(server: Server) -> None:
    name = post_job(server, chatty_job("logs", steps=4, max_trials=1, parallel=1))
    _ended(server, name)
    logs = f"{server.url}/tuneyard/v1/{name}/trials/1/logs"

    replicas = httpx.get(logs).json()["replicas"]

    assert [r["replica"] for r in replicas] == ["workerpool0-0"]
    text = replicas[0]["text"]
    assert "training with x=" in text
    assert "step 4/4" in text
    assert text.rstrip().endswith("done")  # stderr after stdout
    tail = httpx.get(logs, params={"maxBytes": 10}).json()["replicas"][0]["text"]
    assert len(tail.encode()) <= 10
    assert "done" in tail
    missing = httpx.get(f"{server.url}/tuneyard/v1/{name}/trials/7/logs")
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"
    assert httpx.get(logs, params={"maxBytes": 0}).status_code == 400


def test_locations_list_where_jobs_are(server: Server) -> None:
    post_job(server, chatty_job("here", max_trials=1, parallel=1))
    other = toy_job_json("elsewhere", max_trials=1, parallel=1)
    response = httpx.post(
        f"{server.url}/v1/projects/other/locations/europe-west4/hyperparameterTuningJobs",
        json=other,
    )
    response.raise_for_status()

    locations = httpx.get(f"{server.url}/tuneyard/v1/locations").json()["locations"]

    # Newest job first: the other project's job was created last.
    assert locations[0] == {
        "name": "projects/other/locations/europe-west4",
        "project": "other",
        "location": "europe-west4",
        "jobCount": 1,
    }
    mine = [loc for loc in locations if loc["name"] == PARENT]
    listed = httpx.get(f"{server.url}/v1/{PARENT}/hyperparameterTuningJobs").json()
    assert mine[0]["jobCount"] == len(listed["hyperparameterTuningJobs"])


def test_an_open_server_serves_the_dashboard_to_anyone(server: Server) -> None:
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200
    assert "<title>tuneyard</title>" in page.text
    assert httpx.get(f"{server.url}/?token=anything").status_code == 200
    script = httpx.get(f"{server.url}/dashboard/vendor/echarts.min.js")
    assert script.status_code == 200
    assert 'version="6.1.0"' in script.text
    assert httpx.get(f"{server.url}/dashboard/js/app.js").status_code == 200
