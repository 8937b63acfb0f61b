"""Airflow operators, trigger and hook for tuneyard's (or Vertex AI's) hyperparameter tuning jobs.

The names, parameters and XCom results are those of the Google provider's
``airflow.providers.google.cloud.operators.vertex_ai.hyperparameter_tuning_job``::

    from tuneyard.airflow import (
        CreateHyperparameterTuningJobOperator,
        DeleteHyperparameterTuningJobOperator,
        GetHyperparameterTuningJobOperator,
        ListHyperparameterTuningJobOperator,
    )

Works on Airflow 3 and 2.10+. The names load on first use, because Airflow imports
``tuneyard.airflow.provider`` (through this package) while it discovers providers, and that
must not import Airflow back.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuneyard.airflow.hooks import HyperparameterTuningJobHook
    from tuneyard.airflow.operators import (
        CreateHyperparameterTuningJobOperator,
        DeleteHyperparameterTuningJobOperator,
        GetHyperparameterTuningJobOperator,
        ListHyperparameterTuningJobOperator,
    )
    from tuneyard.airflow.triggers import CreateHyperparameterTuningJobTrigger

_WHERE = {
    "CreateHyperparameterTuningJobOperator": "tuneyard.airflow.operators",
    "DeleteHyperparameterTuningJobOperator": "tuneyard.airflow.operators",
    "GetHyperparameterTuningJobOperator": "tuneyard.airflow.operators",
    "ListHyperparameterTuningJobOperator": "tuneyard.airflow.operators",
    "CreateHyperparameterTuningJobTrigger": "tuneyard.airflow.triggers",
    "HyperparameterTuningJobHook": "tuneyard.airflow.hooks",
}

__all__ = [
    "CreateHyperparameterTuningJobOperator",
    "CreateHyperparameterTuningJobTrigger",
    "DeleteHyperparameterTuningJobOperator",
    "GetHyperparameterTuningJobOperator",
    "HyperparameterTuningJobHook",
    "ListHyperparameterTuningJobOperator",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'tuneyard.airflow' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
