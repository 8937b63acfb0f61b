"""Fixtures for the client tests: a real ``tuneyard serve`` and a hook pointed at it."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Server, start_server, stop_server
from tuneyard.client import HyperparameterTuningJobHook

TRAINER = Path(__file__).resolve().parent / "trainer.py"
PROJECT = "hook-proj"
REGION = "us-central1"


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server process for the client tests (each test uses display names of its own)."""
    running = start_server(tmp_path_factory.mktemp("home"))
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture
def hook(server: Server, monkeypatch: pytest.MonkeyPatch) -> HyperparameterTuningJobHook:
    """A hook that finds ``server`` through ``$TUNEYARD_API_ENDPOINT``."""
    monkeypatch.setenv("TUNEYARD_API_ENDPOINT", server.url)
    monkeypatch.delenv("TUNEYARD_TOKEN", raising=False)
    return HyperparameterTuningJobHook()


def worker_pools(*args: str) -> list[dict[str, Any]]:
    """One pool running the test trainer, as the provider's users write it (snake_case)."""
    return [
        {
            "machine_spec": {"machine_type": "n1-standard-4"},
            "replica_count": 1,
            "container_spec": {
                "image_uri": "python:3.11",
                "command": [sys.executable, str(TRAINER)],
                "args": list(args),
            },
        }
    ]


def unique(prefix: str) -> str:
    """A display name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
