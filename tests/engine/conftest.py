"""Helpers for engine tests: jobs that run tests/trainers/toy.py with the real local executor."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tuneyard.engine import Controller
from tuneyard.model import HyperparameterTuningJob, job_from_dict
from tuneyard.runtime import LocalExecutor
from tuneyard.store import open_store

TOY = Path(__file__).resolve().parents[1] / "trainers" / "toy.py"


def toy_job(
    *,
    args: list[str] | None = None,
    max_trials: int = 4,
    parallel: int = 2,
    algorithm: str = "RANDOM_SEARCH",
    metrics: list[dict[str, Any]] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    selection: str = "BEST_MEASUREMENT",
    max_failed: int = 0,
    timeout: str | None = None,
) -> HyperparameterTuningJob:
    """A job whose trials run the toy trainer with ``args`` before the hyperparameters."""
    spec: dict[str, Any] = {
        "workerPoolSpecs": [
            {
                "machineSpec": {"machineType": "n1-standard-4"},
                "replicaCount": "1",
                "containerSpec": {
                    "imageUri": "python:3.11",
                    "command": [sys.executable, str(TOY)],
                    "args": args or [],
                },
            }
        ]
    }
    if timeout:
        spec["scheduling"] = {"timeout": timeout}
    return job_from_dict(
        {
            "displayName": "toy",
            "studySpec": {
                "metrics": metrics or [{"metricId": "score", "goal": "MAXIMIZE"}],
                "parameters": parameters
                or [
                    {
                        "parameterId": "x",
                        "doubleValueSpec": {"minValue": 0.0, "maxValue": 1.0},
                        "scaleType": "UNIT_LINEAR_SCALE",
                    },
                    {"parameterId": "n", "integerValueSpec": {"minValue": "1", "maxValue": "8"}},
                    {"parameterId": "kind", "categoricalValueSpec": {"values": ["a", "b"]}},
                ],
                "algorithm": algorithm,
                "measurementSelectionType": selection,
            },
            "maxTrialCount": max_trials,
            "parallelTrialCount": parallel,
            "maxFailedTrialCount": max_failed,
            "trialJobSpec": spec,
        }
    )


@pytest.fixture
def tuneyard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TUNEYARD_HOME (and so a fresh SQLite database) for the test."""
    home = tmp_path / "home"
    monkeypatch.setenv("TUNEYARD_HOME", str(home))
    monkeypatch.delenv("TUNEYARD_DATABASE_URL", raising=False)
    return home


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tuneyard_home: Path) -> str:
    """The engine suite runs on a SQLite file and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tuneyard_home / 'engine.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def controller(database_url: str) -> Iterator[Controller]:
    """A controller over a real store and the real local executor, with a short poll."""
    store = open_store(database_url)
    executor = LocalExecutor()
    try:
        yield Controller(store, executor, poll_interval=0.05, cancel_grace_seconds=2.0)
    finally:
        executor.close()
        store.close()
