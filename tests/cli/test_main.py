"""``tuneyard`` as a user runs it: real processes, a real SQLite file, real trainers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine.conftest import toy_job
from tuneyard.model import JobState
from tuneyard.store import open_store

CLI = [sys.executable, "-m", "tuneyard.cli.main"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user with their own TUNEYARD_HOME."""
    environment = dict(os.environ)
    environment["TUNEYARD_HOME"] = str(tmp_path / "home")
    environment.pop("TUNEYARD_DATABASE_URL", None)
    return environment


def write_job(path: Path, **kwargs: Any) -> Path:
    path.write_text(yaml.safe_dump(toy_job(**kwargs).to_json_dict()))
    return path


def tuneyard(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_run_prints_trials_and_best_and_exits_zero(env: dict[str, str], tmp_path: Path) -> None:
    job_file = write_job(tmp_path / "job.yaml", max_trials=3, parallel=2)
    result = tuneyard(env, "run", str(job_file))
    assert result.returncode == 0, result.stderr
    assert "Trials of job 1" in result.stderr
    assert "Best trial" in result.stderr
    assert "JOB_STATE_SUCCEEDED" not in result.stdout
    assert "SUCCEEDED" in result.stderr


def test_run_json_prints_the_vertex_resource(env: dict[str, str], tmp_path: Path) -> None:
    job_file = write_job(tmp_path / "job.yaml", max_trials=2, parallel=1)
    result = tuneyard(env, "run", str(job_file), "--json", "--max-trial-count", "3")
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)
    assert job["state"] == "JOB_STATE_SUCCEEDED"
    assert job["name"] == "projects/local/locations/us-central1/hyperparameterTuningJobs/1"
    assert job["maxTrialCount"] == 3
    assert [t["id"] for t in job["trials"]] == ["1", "2", "3"]
    assert all(t["finalMeasurement"]["metrics"] for t in job["trials"])
    listed = json.loads(tuneyard(env, "jobs", "list", "--json").stdout)
    assert [j["name"] for j in listed["hyperparameterTuningJobs"]] == [job["name"]]
    assert "trials" not in listed["hyperparameterTuningJobs"][0]
    described = json.loads(tuneyard(env, "jobs", "describe", "1", "--json").stdout)
    assert described["trials"] == job["trials"]


def test_invalid_job_exits_two_with_a_clear_message(env: dict[str, str], tmp_path: Path) -> None:
    data = toy_job().to_json_dict()
    data["parallelTrialCount"] = 9
    data["studySpec"]["parameters"][0]["doubleValueSpec"] = {"minValue": 2.0, "maxValue": 1.0}
    job_file = tmp_path / "bad.yaml"
    job_file.write_text(yaml.safe_dump(data))
    result = tuneyard(env, "run", str(job_file))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "parallelTrialCount: 9 is greater than maxTrialCount 4" in result.stderr
    assert (
        "studySpec.parameters[0].doubleValueSpec: minValue 2.0 is greater than maxValue 1.0"
        in result.stderr
    )
    missing = tuneyard(env, "run", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "cannot read job file" in missing.stderr
    override = tuneyard(env, "run", str(write_job(tmp_path / "ok.yaml")), "--max-trial-count", "0")
    assert override.returncode == 2 and "--max-trial-count: must be at least 1" in override.stderr


def test_failed_job_exits_one(env: dict[str, str], tmp_path: Path) -> None:
    job_file = write_job(tmp_path / "job.yaml", args=["--mode=crash"], max_trials=2, parallel=1)
    result = tuneyard(env, "run", str(job_file))
    assert result.returncode == 1
    assert "FAILED" in result.stderr
    assert "boom: the trainer crashed" in result.stderr


def test_ctrl_c_cancels_cleanly(env: dict[str, str], tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    job_file = write_job(
        tmp_path / "job.yaml", args=["--mode=hang", f"--trace={trace}"], parallel=2
    )
    process = subprocess.Popen(
        [*CLI, "run", str(job_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while (not trace.exists() or trace.read_text().count("start") < 2) and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "Traceback" not in stderr
    assert "CANCELLED" in stderr
    described = json.loads(tuneyard(env, "jobs", "describe", "1", "--json").stdout)
    assert described["state"] == "JOB_STATE_CANCELLED"
    assert described["error"]["code"] == 1


def _wait_for(predicate: Any, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_sigkill_mid_job_then_resume_carries_on(env: dict[str, str], tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    job_file = write_job(
        tmp_path / "job.yaml", args=["--sleep=0.4", f"--trace={trace}"], max_trials=6, parallel=2
    )
    process = subprocess.Popen(
        [*CLI, "run", str(job_file)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"sqlite:///{tmp_path / 'home' / 'tuneyard.db'}"
    name = "projects/local/locations/us-central1/hyperparameterTuningJobs/1"

    def trials_done() -> int:
        if not trace.exists():
            return 0
        return trace.read_text().count("end")

    _wait_for(lambda: trials_done() >= 2 and trace.read_text().count("start") >= 4)
    process.kill()
    process.wait(timeout=10)
    store = open_store(url)
    try:
        before = {t.id: t for t in store.get_job(name).trials if t.end_time is not None}
        assert store.get_job(name).state == JobState.JOB_STATE_RUNNING
    finally:
        store.close()
    assert before, "some trials had finished before the kill"
    result = tuneyard(env, "jobs", "resume", "1", "--json")
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)
    assert job["state"] == "JOB_STATE_SUCCEEDED"
    ids = [t["id"] for t in job["trials"]]
    assert ids == ["1", "2", "3", "4", "5", "6"]
    for trial in job["trials"]:
        assert trial["state"] == "SUCCEEDED"
        if trial["id"] in before:
            kept = before[trial["id"]].to_json_dict()
            assert trial["finalMeasurement"] == kept["finalMeasurement"]
    # Every trial started exactly once: running trials were re-attached, not run twice.
    starts = [
        line.split()[1] for line in trace.read_text().splitlines() if line.startswith("start")
    ]
    assert sorted(starts) == ids
