"""Airflow test fixtures: the Airflow venvs, a real ``tuneyard serve``, and a DAG runner.

The DAGs run in ``.venv-airflow`` (Airflow 3) and ``.venv-airflow2`` (Airflow 2), which
``scripts/setup-airflow`` creates, never in the test venv: they hold tuneyard's base install
beside Airflow, without the server's dependencies. The server runs from the test venv.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Server, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
RUN_DAG = Path(__file__).with_name("run_dag.py")
DAGS = Path(__file__).with_name("dags")
EXAMPLE_DAG = ROOT / "examples" / "dags" / "tune_digits.py"
VENVS = {"airflow3": ROOT / ".venv-airflow", "airflow2": ROOT / ".venv-airflow2"}
CONN_ID = "tuneyard_test"


@dataclass(frozen=True)
class Airflow:
    """One Airflow venv, with a throwaway ``AIRFLOW_HOME`` of its own."""

    name: str
    python: Path
    home: Path

    def env(self, server: Server, **extra: str) -> dict[str, str]:
        """The environment of a DAG run: the connection to ``server``, plus ``extra``."""
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
        env = {key: os.environ[key] for key in keep if key in os.environ}
        connection = {"conn_type": "tuneyard", "host": server.url}
        env.update(
            {
                f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(connection),
                "PYTHONPATH": str(ROOT),
                **extra,
            }
        )
        return env

    def popen(self, dag_file: Path, dag_id: str, env: dict[str, str]) -> subprocess.Popen[str]:
        """Start ``dag.test()`` of ``dag_id`` from ``dag_file``, its output into its log."""
        command = [str(self.python), str(RUN_DAG), str(self.home), str(dag_file), dag_id]
        (self.home / f"{dag_id}.report.json").unlink(missing_ok=True)
        with (self.home / f"{dag_id}.log").open("a") as log:  # the child keeps its own copy
            return subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
            )

    def run(self, dag_file: Path, dag_id: str, env: dict[str, str]) -> dict[str, Any]:
        """Run ``dag_id`` to the end; its report (run state, task states, XComs)."""
        process = self.popen(dag_file, dag_id, env)
        try:
            process.wait(timeout=420)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode != 0:
            pytest.fail(f"{self.name}: dag.test() of {dag_id} failed:\n{self.log(dag_id)}")
        report: dict[str, Any] = json.loads((self.home / f"{dag_id}.report.json").read_text())
        return report

    def log(self, dag_id: str, tail: int | None = 8000) -> str:
        """The Airflow output of ``dag_id``'s runs: its last ``tail`` characters, or all."""
        text = (self.home / f"{dag_id}.log").read_text(errors="replace")
        return text[-tail:] if tail else text


@pytest.fixture(scope="module", params=sorted(VENVS))
def airflow(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Airflow:
    """Each Airflow venv in turn; skipped (with the command that makes it) when it is missing."""
    name: str = request.param
    python = VENVS[name] / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{python} is missing: scripts/test runs scripts/setup-airflow first")
        pytest.skip(f"{VENVS[name].name} is missing: run scripts/setup-airflow to create it")
    return Airflow(name, python, tmp_path_factory.mktemp(f"{name}-home"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One ``tuneyard serve`` for the module, from the test venv."""
    running = start_server(tmp_path_factory.mktemp("tuneyard-home"))
    try:
        yield running
    finally:
        stop_server(running)


def job_url(server: Server, project: str, region: str, job_id: str) -> str:
    """The v1 URL of a job on ``server``."""
    parent = f"projects/{project}/locations/{region}"
    return f"{server.url}/v1/{parent}/hyperparameterTuningJobs/{job_id}"
