"""Run inside an Airflow venv: the client hook reads its Airflow connection and raises
AirflowExceptions. Prints one JSON line with what it saw."""

from __future__ import annotations

import json
import sys

from airflow.exceptions import AirflowException

from tuneyard.client import HyperparameterTuningJobHook
from tuneyard.errors import NotFound


def main() -> int:
    conn_id, region = sys.argv[1], sys.argv[2]
    hook = HyperparameterTuningJobHook(gcp_conn_id=conn_id)
    endpoint = hook.get_endpoint(region)
    listed = [job.display_name for job in hook.list_hyperparameter_tuning_jobs(region=region)]
    try:
        hook.get_hyperparameter_tuning_job(region=region, hyperparameter_tuning_job="424242")
    except AirflowException as error:
        caught = {"not_found": isinstance(error, NotFound), "message": str(error)}
    print(
        json.dumps(
            {
                "url": endpoint.url,
                "project": hook.project_id,
                "listed": listed,
                "caught": caught,
                "server_deps": "fastapi" in sys.modules,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
