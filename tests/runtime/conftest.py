"""Fixtures for the runtime tests: a fresh TUNEYARD_HOME, jobs that run the probe trainer, and
an executor whose trials are all stopped when the test ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tuneyard.model import HyperparameterTuningJob, job_from_dict
from tuneyard.runtime import LocalExecutor, MetricReport, TrialHandle, TrialLaunch, TrialProgress

PROBE = Path(__file__).parent / "trainers" / "probe.py"
JOB_NAME = "projects/test-project/locations/us-central1/hyperparameterTuningJobs/42"

PARAMETERS: list[dict[str, Any]] = [
    {"parameterId": "lr", "doubleValueSpec": {"minValue": 1e-4, "maxValue": 1.0}},
    {"parameterId": "batch_size", "discreteValueSpec": {"values": [8, 16, 32]}},
    {"parameterId": "units", "integerValueSpec": {"minValue": "1", "maxValue": "128"}},
    {"parameterId": "activation", "categoricalValueSpec": {"values": ["relu", "tanh"]}},
]


def make_job(
    args: list[str] | None = None,
    *,
    pools: list[dict[str, Any]] | None = None,
    env: list[dict[str, str]] | None = None,
    scheduling: dict[str, Any] | None = None,
    base_output: str | None = None,
) -> HyperparameterTuningJob:
    """A job whose pool 0 runs ``python probe.py ARGS``; ``pools`` adds pools 1, 2, ..."""
    primary = {
        "replicaCount": "1",
        "containerSpec": {
            "imageUri": "python:3.11",
            "command": ["python", str(PROBE)],
            "args": args or [],
            "env": env or [],
        },
    }
    spec: dict[str, Any] = {"workerPoolSpecs": [primary, *(pools or [])]}
    if scheduling:
        spec["scheduling"] = scheduling
    if base_output:
        spec["baseOutputDirectory"] = {"outputUriPrefix": base_output}
    job = job_from_dict(
        {
            "displayName": "runtime-test",
            "studySpec": {
                "metrics": [{"metricId": "accuracy", "goal": "MAXIMIZE"}],
                "parameters": PARAMETERS,
            },
            "maxTrialCount": 10,
            "parallelTrialCount": 2,
            "trialJobSpec": spec,
        }
    )
    return job.model_copy(update={"name": JOB_NAME})


def worker_pool(args: list[str], replicas: int = 1) -> dict[str, Any]:
    """A secondary pool running the probe trainer too."""
    return {
        "replicaCount": str(replicas),
        "containerSpec": {
            "imageUri": "python:3.11",
            "command": ["python", str(PROBE)],
            "args": args,
        },
    }


class Runner:
    """Launches trials and polls them to the end; stops whatever still runs at teardown."""

    def __init__(self, executor: LocalExecutor) -> None:
        self.executor = executor
        self.handles: list[TrialHandle] = []

    def launch(
        self, job: HyperparameterTuningJob, trial_id: str = "1", **parameters: Any
    ) -> TrialHandle:
        handle = self.executor.launch(TrialLaunch(job, trial_id, parameters))
        self.handles.append(handle)
        return handle

    def run(
        self, handle: TrialHandle, *, timeout: float = 20.0, executor: LocalExecutor | None = None
    ) -> tuple[TrialProgress, list[MetricReport], list[TrialProgress]]:
        """Poll until done, like the engine: the last progress, every report, every progress."""
        executor = executor or self.executor
        deadline = time.monotonic() + timeout
        since = 0.0
        reports: list[MetricReport] = []
        seen: list[TrialProgress] = []
        while True:
            executor.wait(0.05)
            progress = executor.poll(handle, since)
            seen.append(progress)
            reports.extend(progress.reports)
            if progress.reports:
                since = max(r.timestamp for r in progress.reports)
            if progress.handle is not None:
                handle = progress.handle
                self.handles.append(handle)
            if progress.done:
                return progress, reports, seen
            if time.monotonic() > deadline:
                raise AssertionError(f"the trial did not end within {timeout}s: {progress}")

    def stop_all(self) -> None:
        for handle in self.handles:
            self.executor.cancel(handle, grace_seconds=0.0)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TUNEYARD_HOME for the test."""
    path = tmp_path / "home"
    monkeypatch.setenv("TUNEYARD_HOME", str(path))
    return path


@pytest.fixture
def runner(home: Path) -> Iterator[Runner]:
    """A runner on a fresh LocalExecutor; nothing it launched outlives the test."""
    executor = LocalExecutor(stop_grace_seconds=2.0)
    runner = Runner(executor)
    yield runner
    runner.stop_all()
    executor.close()


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return data[data.rindex(b")") + 2 :].split()[0] not in (b"Z", b"X")


def group_running(pgid: int) -> bool:
    """True while any process of the process group ``pgid`` runs (zombies do not count)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                data = (entry / "stat").read_bytes()
            except (FileNotFoundError, ProcessLookupError):
                continue
            fields = data[data.rindex(b")") + 2 :].split()
            if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
                return True
    return False


def replica_group(handle: dict[str, Any], name: str) -> int:
    """The process group of replica ``name`` in a local executor handle."""
    return next(int(r["pid"]) for r in handle["replicas"] if r["name"] == name)


def pid_of(markers: Path, name: str) -> int:
    """The pid the replica ``name`` wrote on its (last) start, once it has."""
    path = markers / f"{name}.starts"
    wait_for(lambda: path.exists() and path.read_text().endswith("\n"))
    return int(path.read_text().split()[-1])


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    """Wait until ``condition()`` is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for a condition")
        time.sleep(0.01)
