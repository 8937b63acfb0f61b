"""``tuneyard serve``: loopback by default, a token elsewhere, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.api.conftest import start_server, stop_server
from tuneyard.cli.serve import access_token
from tuneyard.errors import InvalidArgument


def test_non_loopback_needs_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUNEYARD_TOKEN", raising=False)
    result = subprocess.run(
        [sys.executable, "-m", "tuneyard.cli.main", "serve", "--host", "0.0.0.0", "--port", "1"],
        env={"TUNEYARD_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "--token" in result.stderr
    with pytest.raises(InvalidArgument):
        access_token("192.168.1.10", None)
    assert access_token("::1", None) is None
    monkeypatch.setenv("TUNEYARD_TOKEN", "t")
    assert access_token("0.0.0.0", None) == "t"


def test_token_guards_every_request_and_sigterm_stops(tmp_path: Path) -> None:
    server = start_server(tmp_path / "home", env={"TUNEYARD_TOKEN": "s3cret"})
    try:
        jobs = f"{server.url}/v1/projects/p/locations/us-central1/hyperparameterTuningJobs"
        denied = httpx.get(jobs)
        assert denied.status_code == 401
        assert denied.json()["error"]["status"] == "UNAUTHENTICATED"
        allowed = httpx.get(jobs, headers={"Authorization": "Bearer s3cret"})
        assert allowed.json() == {"hyperparameterTuningJobs": []}
    finally:
        assert stop_server(server) == 0


def test_a_restarted_server_carries_on(tmp_path: Path) -> None:
    from tests.api.conftest import PARENT, toy_job_json

    home = tmp_path / "home"
    server = start_server(home)
    jobs = f"{server.url}/v1/{PARENT}/hyperparameterTuningJobs"
    try:
        body = toy_job_json("restart", args=["--steps=3", "--sleep=0.7"], max_trials=2)
        name = httpx.post(jobs, json=body).json()["name"]
        deadline = time.monotonic() + 30
        while not httpx.get(f"{server.url}/v1/{name}").json().get("trials"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        assert stop_server(server) == 0
    server = start_server(home)
    try:
        deadline = time.monotonic() + 60
        while (job := httpx.get(f"{server.url}/v1/{name}").json())["state"] != (
            "JOB_STATE_SUCCEEDED"
        ):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert len(job["trials"]) == 2
        assert all(trial["state"] == "SUCCEEDED" for trial in job["trials"])
    finally:
        stop_server(server)


def test_pages_of_other_sites_cannot_drive_the_server(tmp_path: Path) -> None:
    """A browser on another site (or on a DNS-rebound name) cannot create jobs here."""
    from tests.api.conftest import PARENT, toy_job_json

    server = start_server(tmp_path / "home")
    jobs = f"{server.url}/v1/{PARENT}/hyperparameterTuningJobs"
    body = toy_job_json("cross-site", args=["--steps=1"], max_trials=1, parallel=1)
    try:
        # A no-cors form/fetch POST from another origin: the body would parse as a job.
        forged = httpx.post(
            jobs,
            content=json.dumps(body),
            headers={"Origin": "https://evil.example", "Content-Type": "text/plain"},
        )
        assert forged.status_code == 403
        assert forged.json()["error"]["status"] == "PERMISSION_DENIED"
        assert "https://evil.example" in forged.json()["error"]["message"]
        # A name that resolves to 127.0.0.1 but is not loopback's: refused even for reads.
        rebound = httpx.get(jobs, headers={"Host": "evil.example:8080"})
        assert rebound.status_code == 403
        assert "not loopback" in rebound.json()["error"]["message"]
        assert httpx.get(jobs).json() == {"hyperparameterTuningJobs": []}
        # The dashboard (same origin) and API clients (no Origin) may create jobs.
        same_origin = httpx.post(jobs, json=body, headers={"Origin": server.url})
        assert same_origin.status_code == 200, same_origin.text
        assert httpx.post(jobs, json=body).status_code == 200
        assert len(httpx.get(jobs).json()["hyperparameterTuningJobs"]) == 2
    finally:
        assert stop_server(server) == 0
