"""The user side: a REST client for Vertex AI's v1 tuning-job API, SDK-like job objects,
parameter spec classes, and ``HyperparameterTuningJobHook`` with Airflow's interface.

It needs only the base install (pydantic, pyyaml); it never imports the server's layers.
"""

from __future__ import annotations

from tuneyard.client.endpoint import (
    DEFAULT_ENDPOINT,
    ConnectionSettings,
    Endpoint,
    resolve_endpoint,
)
from tuneyard.client.hook import HyperparameterTuningJobHook
from tuneyard.client.hyperparameter_tuning import (
    CategoricalParameterSpec,
    DiscreteParameterSpec,
    DoubleParameterSpec,
    IntegerParameterSpec,
)
from tuneyard.client.jobs import CustomJob, HyperparameterTuningJob, JobFailed
from tuneyard.client.rest import DEFAULT, Retry
from tuneyard.client.results import ListHyperparameterTuningJobsPager, Operation
from tuneyard.client.service import JobServiceClient

__all__ = [
    "DEFAULT",
    "DEFAULT_ENDPOINT",
    "CategoricalParameterSpec",
    "ConnectionSettings",
    "CustomJob",
    "DiscreteParameterSpec",
    "DoubleParameterSpec",
    "Endpoint",
    "HyperparameterTuningJob",
    "HyperparameterTuningJobHook",
    "IntegerParameterSpec",
    "JobFailed",
    "JobServiceClient",
    "ListHyperparameterTuningJobsPager",
    "Operation",
    "Retry",
    "resolve_endpoint",
]
