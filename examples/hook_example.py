"""Tune the bundled example with ``HyperparameterTuningJobHook``, the way an Airflow task would.

The same code runs against Vertex AI through Airflow's Google provider; here the hook talks to
``tuneyard serve``. It tunes ``examples/trainer`` (a small neural network on scikit-learn's
digits, the trainer of ``examples/job.yaml``) over a DOUBLE, an INTEGER, a CATEGORICAL and a
DISCRETE parameter, waits for the job to succeed, prints the best trial, and deletes the job.

Run it::

    tuneyard serve &                              # http://127.0.0.1:8080
    python examples/hook_example.py --max-trial-count 4

Point it at another server with ``TUNEYARD_API_ENDPOINT=http://HOST:PORT`` (and
``TUNEYARD_TOKEN``); under Airflow the ``gcp_conn_id`` connection says where instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tuneyard import HyperparameterTuningJobHook
from tuneyard.hyperparameter_tuning import (
    CategoricalParameterSpec,
    DiscreteParameterSpec,
    DoubleParameterSpec,
    IntegerParameterSpec,
)

TRAINER = Path(__file__).resolve().parent / "trainer"
"""The trainer package; on Vertex AI this would be the gs:// URI of its sdist."""
SKLEARN_IMAGE = "us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest"


def main(argv: list[str] | None = None) -> int:
    """Create the job, wait until it ends, print the best trial; 0 when it succeeded."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="demo")
    parser.add_argument("--region", default="us-central1")
    parser.add_argument("--max-trial-count", type=int, default=4)
    parser.add_argument("--parallel-trial-count", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)

    hook = HyperparameterTuningJobHook()
    job = hook.create_hyperparameter_tuning_job(
        project_id=args.project,
        region=args.region,
        display_name="digits-mlp-hook",
        metric_spec={"accuracy": "maximize"},
        parameter_spec={
            "learning_rate": DoubleParameterSpec(min=1e-4, max=0.1, scale="log"),
            "hidden_units": IntegerParameterSpec(min=16, max=128, scale="linear"),
            "activation": CategoricalParameterSpec(values=["relu", "tanh", "logistic"]),
            "batch_size": DiscreteParameterSpec(values=[16, 32, 64, 128], scale="linear"),
        },
        max_trial_count=args.max_trial_count,
        parallel_trial_count=args.parallel_trial_count,
        worker_pool_specs=[
            {
                "machine_spec": {"machine_type": "n1-standard-4"},
                "replica_count": 1,
                "python_package_spec": {
                    "executor_image_uri": SKLEARN_IMAGE,
                    "package_uris": [str(TRAINER)],
                    "python_module": "trainer.task",
                    "args": [f"--epochs={args.epochs}"],
                },
            }
        ],
        base_output_dir="gs://tuneyard-examples/digits-mlp-hook",
        hyperparameter_tuning_job_labels={"example": "hook"},
        timeout=300,
        sync=True,  # returns when the job has ended; raises if it failed
    )
    state = job.state.name
    print(f"job {job.resource_name}: {state}")
    best = max(
        (t for t in job.trials if t.final_measurement is not None),
        key=lambda t: t.final_measurement.metrics[0].value,  # type: ignore[union-attr]
    )
    accuracy = best.final_measurement.metrics[0].value  # type: ignore[union-attr]
    values = {p.parameter_id: p.value for p in best.parameters}
    print(f"best trial {best.id}: accuracy {accuracy:.4f} with {values}")

    listed = hook.list_hyperparameter_tuning_jobs(
        project_id=args.project, region=args.region, filter='labels.example="hook"'
    )
    print(f"jobs labelled example=hook: {len(list(listed))}")
    operation = hook.delete_hyperparameter_tuning_job(
        project_id=args.project, region=args.region, hyperparameter_tuning_job=job.name
    )
    hook.wait_for_operation(operation, timeout=60)
    print(f"deleted {job.resource_name}")
    return 0 if state == "JOB_STATE_SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
