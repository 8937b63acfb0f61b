"""Run one DAG with ``dag.test()`` inside an Airflow venv; write a JSON report of the run.

Usage (with the Airflow venv's python)::

    run_dag.py AIRFLOW_HOME DAG_FILE DAG_ID

``AIRFLOW_HOME`` is set before Airflow is imported, and its database is migrated on first use,
so each test module gets a throwaway Airflow. The report, ``AIRFLOW_HOME/DAG_ID.report.json``,
holds the run's state, each task's state
and every XCom of the run, deserialized: ``{"state", "tasks": {id: state}, "xcom": {id: {key:
value}}}``. This file runs under Airflow 3 and 2.10+, never under the test venv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def prepare(home: Path, dag_file: Path) -> None:
    """Point Airflow at ``home`` and ``dag_file``'s folder; migrate the database once."""
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(dag_file.parent)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
    home.mkdir(parents=True, exist_ok=True)
    marker = home / ".migrated"
    if not marker.exists():
        airflow = Path(sys.executable).with_name("airflow")
        subprocess.run([str(airflow), "db", "migrate"], check=True)
        marker.touch()


def xcoms(dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    """Every XCom of one run, by task and key."""
    from airflow.utils.session import create_session

    found: dict[str, dict[str, Any]] = {}
    with create_session() as session:
        try:
            from airflow.models.xcom import XComModel  # Airflow 3
        except ImportError:  # Airflow 2
            from airflow.models.xcom import XCom

            rows = XCom.get_many(run_id=run_id, dag_ids=dag_id, session=session).all()
            for row in rows:  # Airflow 2 deserializes on load
                found.setdefault(row.task_id, {})[row.key] = row.value
        else:
            # Tasks push through the execution API, which stores the value itself as JSON;
            # XComModel.deserialize_value would json.loads a str again ("1" -> 1).
            query = XComModel.get_many(run_id=run_id, dag_ids=dag_id)
            for row in session.scalars(query).all():
                found.setdefault(row.task_id, {})[row.key] = row.value
    return found


def _value(state: Any) -> Any:
    """A state enum's plain value (``"success"``), whatever the Airflow version's enum type."""
    return getattr(state, "value", state)


def main() -> int:
    home, dag_file, dag_id = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    prepare(home, dag_file)

    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3
    except ImportError:
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(dag_file))
    if bag.import_errors:
        print(json.dumps({"import_errors": bag.import_errors}), file=sys.stderr)
        return 3
    dag = bag.get_dag(dag_id)
    run = dag.test()
    report = {
        "state": _value(run.state),
        "tasks": {ti.task_id: _value(ti.state) for ti in run.get_task_instances()},
        "xcom": xcoms(dag_id, run.run_id),
    }
    (home / f"{dag_id}.report.json").write_text(json.dumps(report, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
