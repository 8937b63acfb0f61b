"""A one-task DAG for the Airflow tests: tune ``tests/trainers/toy.py``.

The trainer runs on the server's machine with the server's interpreter
(``TUNEYARD_TEST_TRAINER_PYTHON``); ``TUNEYARD_TEST_TOY_ARGS`` sets its flags (a long
``--sleep`` keeps the job running for the ``on_kill`` test), ``TUNEYARD_TEST_PROJECT`` the
project, ``TUNEYARD_TEST_DEFERRABLE=true`` defers the wait. Runs under Airflow 3 and 2.10+.
"""

from __future__ import annotations

import os
import shlex
from datetime import datetime
from pathlib import Path

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

from tuneyard import hyperparameter_tuning as hpt
from tuneyard.airflow import CreateHyperparameterTuningJobOperator

TOY = Path(__file__).resolve().parents[2] / "trainers" / "toy.py"

with DAG(dag_id="tune_toy", schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:
    CreateHyperparameterTuningJobOperator(
        task_id="tune",
        project_id=os.environ.get("TUNEYARD_TEST_PROJECT", "toy"),
        region="us-central1",
        display_name="toy-airflow",
        metric_spec={"score": "maximize"},
        parameter_spec={
            "x": hpt.DoubleParameterSpec(min=0.0, max=1.0, scale="linear"),
            "n": hpt.IntegerParameterSpec(min=1, max=8, scale="linear"),
        },
        max_trial_count=2,
        parallel_trial_count=2,
        search_algorithm="random",
        worker_pool_specs=[
            {
                "machine_spec": {"machine_type": "n1-standard-4"},
                "replica_count": 1,
                "container_spec": {
                    "image_uri": "python:3.11",
                    "command": [os.environ["TUNEYARD_TEST_TRAINER_PYTHON"], str(TOY)],
                    "args": shlex.split(os.environ.get("TUNEYARD_TEST_TOY_ARGS", "--steps=2")),
                },
            }
        ],
        hyperparameter_tuning_job_labels={"test": "airflow"},
        gcp_conn_id=os.environ.get("TUNEYARD_TEST_CONN_ID", "tuneyard_test"),
        deferrable=os.environ.get("TUNEYARD_TEST_DEFERRABLE") == "true",
        poll_interval=1,
    )
