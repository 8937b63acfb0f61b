"""tuneyard is an Airflow provider: its connection type, hook, form and trigger are registered."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.airflow.conftest import Airflow
from tuneyard.airflow.provider import HOOK_NAME

REPORT = Path(__file__).with_name("provider_report.py")


def _env(airflow: Airflow) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(airflow.home)}


def test_connection_type_is_registered(airflow: Airflow) -> None:
    result = subprocess.run(
        [str(airflow.python), str(REPORT), str(airflow.home)],
        env=_env(airflow),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["version"] == "0.1.0"
    assert report["hook"] == {
        "class": "tuneyard.airflow.hooks.HyperparameterTuningJobHook",
        "conn_id_attribute": "gcp_conn_id",
        "name": HOOK_NAME,
        "package": "tuneyard",
    }
    assert report["widgets"] == ["extra__tuneyard__is_anonymous", "extra__tuneyard__project"]
    assert report["behaviour"]["hidden_fields"] == ["schema", "login"]
    assert report["behaviour"]["relabeling"] == {"host": "Endpoint", "password": "Access token"}
    assert report["triggers"] == ["tuneyard.airflow.triggers"]


def test_providers_cli_lists_tuneyard(airflow: Airflow) -> None:
    airflow_cli = airflow.python.with_name("airflow")
    listed = subprocess.run(
        [str(airflow_cli), "providers", "list", "--output", "json"],
        env=_env(airflow),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    providers = {entry["package_name"]: entry for entry in json.loads(listed.stdout)}
    assert providers["tuneyard"]["version"] == "0.1.0"
    hooks = subprocess.run(
        [str(airflow_cli), "providers", "hooks", "--output", "json"],
        env=_env(airflow),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    by_type = {entry["connection_type"]: entry for entry in json.loads(hooks.stdout)}
    assert by_type["tuneyard"]["class"] == "tuneyard.airflow.hooks.HyperparameterTuningJobHook"
