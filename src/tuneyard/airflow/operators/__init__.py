"""The Google provider's four hyperparameter tuning job operators, speaking to tuneyard.

Same class names, parameters, template fields and XCom results as
``airflow.providers.google.cloud.operators.vertex_ai.hyperparameter_tuning_job``, so a DAG
written for Vertex AI changes only its imports (and its connection). The endpoint comes from
the Airflow connection ``gcp_conn_id`` (type ``tuneyard``), see :mod:`tuneyard.airflow.hooks`.

- :class:`CreateHyperparameterTuningJobOperator` creates a job and waits for it, in the worker
  or (``deferrable=True``) in the triggerer; pushes ``hyperparameter_tuning_job_id`` and returns
  the job's dict; ``on_kill`` cancels the job.
- :class:`GetHyperparameterTuningJobOperator`, :class:`ListHyperparameterTuningJobOperator`,
  :class:`DeleteHyperparameterTuningJobOperator` return what the hook's get / list / delete
  return, as dicts; a job that does not exist is logged, not raised, as in the provider.
"""

from __future__ import annotations

from tuneyard.airflow.operators.create import CreateHyperparameterTuningJobOperator
from tuneyard.airflow.operators.job_service import (
    DeleteHyperparameterTuningJobOperator,
    GetHyperparameterTuningJobOperator,
    ListHyperparameterTuningJobOperator,
)

__all__ = [
    "CreateHyperparameterTuningJobOperator",
    "DeleteHyperparameterTuningJobOperator",
    "GetHyperparameterTuningJobOperator",
    "ListHyperparameterTuningJobOperator",
]
