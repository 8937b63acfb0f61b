"""API test fixtures: a real ``tuneyard serve`` process on a free port, and toy job bodies."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx2 as httpx
import pytest

TOY = Path(__file__).resolve().parents[1] / "trainers" / "toy.py"
PROJECT = "my-proj"
LOCATION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"


@dataclass(frozen=True)
class Server:
    """A running server: its base URL and home directory."""

    url: str
    home: Path
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(home: Path, *extra: str, env: dict[str, str] | None = None) -> Server:
    """Start ``tuneyard serve`` and wait until it answers."""
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("TUNEYARD_DATABASE_URL", "TUNEYARD_TOKEN")
    }
    environment.update({"TUNEYARD_HOME": str(home), **(env or {})})
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tuneyard.cli.main", "serve", "--port", str(port), *extra],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.close()
            pytest.fail(f"server exited: {(home / 'server.log').read_text()}", pytrace=False)
        try:
            httpx.get(f"{url}/openapi.json", timeout=1)
            return Server(url, home, process, log)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    log.close()
    pytest.fail("server did not answer within 30 s", pytrace=False)


def stop_server(server: Server) -> int:
    """SIGTERM the server; return its exit status."""
    server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
        raise
    finally:
        server.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server process for the test module."""
    running = start_server(tmp_path_factory.mktemp("home"))
    try:
        yield running
    finally:
        stop_server(running)


def toy_job_json(
    display_name: str = "toy",
    *,
    args: list[str] | None = None,
    max_trials: int = 2,
    parallel: int = 2,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A job body as Google's REST client sends it: enum numbers, int64 as strings."""
    return {
        "displayName": display_name,
        "studySpec": {
            "metrics": [{"metricId": "score", "goal": 1}],
            "parameters": [
                {"parameterId": "x", "doubleValueSpec": {"maxValue": 1.0}, "scaleType": 1},
                {"parameterId": "n", "integerValueSpec": {"minValue": "1", "maxValue": "8"}},
            ],
            "algorithm": 3,
            "measurementSelectionType": 2,
        },
        "maxTrialCount": max_trials,
        "parallelTrialCount": parallel,
        "trialJobSpec": {
            "workerPoolSpecs": [
                {
                    "machineSpec": {"machineType": "n1-standard-4"},
                    "replicaCount": "1",
                    "containerSpec": {
                        "imageUri": "python:3.11",
                        "command": [sys.executable, str(TOY)],
                        "args": args or ["--steps=2"],
                    },
                }
            ]
        },
        "labels": labels or {},
    }
