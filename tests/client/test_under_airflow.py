"""The client hook inside real Airflow venvs (base install only): it reads its endpoint and
project from the Airflow connection, and its errors are also ``AirflowException`` s."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.airflow.conftest import VENVS
from tests.api.conftest import Server
from tests.client.conftest import REGION, unique, worker_pools
from tuneyard.client import HyperparameterTuningJobHook
from tuneyard.hyperparameter_tuning import DoubleParameterSpec

PROBE = Path(__file__).with_name("airflow_probe.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("venv", sorted(VENVS))
def test_the_hook_under_airflow_uses_the_connection(
    venv: str, server: Server, hook: HyperparameterTuningJobHook, tmp_path: Path
) -> None:
    python = VENVS[venv] / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{python} is missing: scripts/test runs scripts/setup-airflow first")
        pytest.skip(f"{VENVS[venv].name} is missing: run scripts/setup-airflow to create it")
    project = f"af-{venv}"
    name = unique("under-airflow")
    hook.create_hyperparameter_tuning_job(
        project_id=project,
        region=REGION,
        display_name=name,
        metric_spec={"score": "maximize"},
        parameter_spec={"x": DoubleParameterSpec(0.0, 1.0, "linear")},
        max_trial_count=1,
        parallel_trial_count=1,
        worker_pool_specs=worker_pools(),
        sync=False,
        wait_job_completed=False,
    )
    connection = {
        "conn_type": "tuneyard",
        "host": server.url,
        "extra": {"project": project, "is_anonymous": True},
    }
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        AIRFLOW_HOME=str(tmp_path),
        AIRFLOW_CONN_TUNEYARD_PROBE=json.dumps(connection),
        TUNEYARD_API_ENDPOINT="http://127.0.0.1:9",  # the connection must win over this
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [str(python), str(PROBE), "tuneyard_probe", REGION],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["url"] == server.url and seen["project"] == project
    assert seen["listed"] == [name]
    assert seen["caught"]["not_found"] is True
    assert "424242" in seen["caught"]["message"]
    assert seen["server_deps"] is False
