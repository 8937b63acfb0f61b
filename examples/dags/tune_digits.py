"""Tune the bundled digits example from Airflow, through tuneyard's operators.

The same job as ``examples/job.yaml`` (its trainer in ``examples/trainer``, as a Python package),
written the way a DAG for Vertex AI is: create the tuning job and wait for it (deferred, so no
worker slot is held while the trials run), read it back, list the jobs, delete it.

Run it against ``tuneyard serve`` (same machine: the trainer folder is a local path)::

    tuneyard serve &                                   # http://127.0.0.1:8080
    pip install tuneyard apache-airflow                # the client side only, no extras
    export AIRFLOW_CONN_TUNEYARD_DEFAULT='{"conn_type": "tuneyard", "host": "http://127.0.0.1:8080"}'
    AIRFLOW__CORE__DAGS_FOLDER=examples/dags airflow dags test tuneyard_digits

To run it on Vertex AI instead, import the operators from
``airflow.providers.google.cloud.operators.vertex_ai.hyperparameter_tuning_job``, the parameter
specs from ``google.cloud.aiplatform.hyperparameter_tuning``, and upload the trainer as an sdist
to a ``gs://`` URI: nothing else changes.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.10 / 2.11
    from airflow import DAG

from tuneyard import hyperparameter_tuning as hpt
from tuneyard.airflow import (
    CreateHyperparameterTuningJobOperator,
    DeleteHyperparameterTuningJobOperator,
    GetHyperparameterTuningJobOperator,
    ListHyperparameterTuningJobOperator,
)

# Settings a run may change through the environment (the tests make the job small).
PROJECT_ID = os.environ.get("TUNEYARD_EXAMPLE_PROJECT", "tuneyard-examples")
REGION = os.environ.get("TUNEYARD_EXAMPLE_REGION", "us-central1")
CONN_ID = os.environ.get("TUNEYARD_EXAMPLE_CONN_ID", "tuneyard_default")
MAX_TRIALS = int(os.environ.get("TUNEYARD_EXAMPLE_TRIALS", "8"))
EPOCHS = int(os.environ.get("TUNEYARD_EXAMPLE_EPOCHS", "10"))
DEFERRABLE = os.environ.get("TUNEYARD_EXAMPLE_DEFERRABLE", "true").lower() == "true"

DISPLAY_NAME = "digits-mlp-airflow"
TRAINER = Path(__file__).resolve().parents[1] / "trainer"
"""The trainer package's folder. The server reads it, so it must be a path on the server's
machine (or a gs:// URI, which tuneyard maps to $TUNEYARD_HOME/buckets)."""

WORKER_POOL_SPECS = [
    {
        "machine_spec": {"machine_type": "n1-standard-4"},
        "replica_count": 1,
        "python_package_spec": {
            "executor_image_uri": "us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest",
            "package_uris": [str(TRAINER)],
            "python_module": "trainer.task",
            "args": [f"--epochs={EPOCHS}"],
        },
    }
]

PARAMETER_SPEC = {
    "learning_rate": hpt.DoubleParameterSpec(min=1e-4, max=1e-1, scale="log"),
    "hidden_units": hpt.IntegerParameterSpec(min=16, max=128, scale="linear"),
    "activation": hpt.CategoricalParameterSpec(values=["relu", "tanh", "logistic"]),
    "batch_size": hpt.DiscreteParameterSpec(values=[16, 32, 64, 128], scale="linear"),
}

JOB_ID = "{{ ti.xcom_pull(task_ids='tune', key='hyperparameter_tuning_job_id') }}"

with DAG(
    dag_id="tuneyard_digits",
    description="Tune a small neural network on scikit-learn's digits with tuneyard",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["tuneyard", "example"],
) as dag:
    tune = CreateHyperparameterTuningJobOperator(
        task_id="tune",
        project_id=PROJECT_ID,
        region=REGION,
        display_name=DISPLAY_NAME,
        metric_spec={"accuracy": "maximize"},
        parameter_spec=PARAMETER_SPEC,
        max_trial_count=MAX_TRIALS,
        parallel_trial_count=2,
        max_failed_trial_count=2,
        measurement_selection="best",
        worker_pool_specs=WORKER_POOL_SPECS,
        base_output_dir="gs://tuneyard-examples/digits-mlp-airflow",
        hyperparameter_tuning_job_labels={"example": "digits", "launched_by": "airflow"},
        gcp_conn_id=CONN_ID,
        deferrable=DEFERRABLE,
        poll_interval=2,
    )
    get_job = GetHyperparameterTuningJobOperator(
        task_id="get_job",
        project_id=PROJECT_ID,
        region=REGION,
        hyperparameter_tuning_job_id=JOB_ID,
        gcp_conn_id=CONN_ID,
    )
    list_jobs = ListHyperparameterTuningJobOperator(
        task_id="list_jobs",
        project_id=PROJECT_ID,
        region=REGION,
        filter=f'display_name="{DISPLAY_NAME}"',
        gcp_conn_id=CONN_ID,
    )
    delete_job = DeleteHyperparameterTuningJobOperator(
        task_id="delete_job",
        project_id=PROJECT_ID,
        region=REGION,
        hyperparameter_tuning_job_id=JOB_ID,
        gcp_conn_id=CONN_ID,
    )

    tune >> get_job >> list_jobs >> delete_job
