"""``tuneyard serve``: loopback by default, a token elsewhere, a clean stop on SIGTERM."""

from __future__ import annotations

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
