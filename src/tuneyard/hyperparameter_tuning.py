"""Parameter spec classes for ``parameter_spec``, as in ``google.cloud.aiplatform``.

Example:
    >>> from tuneyard import hyperparameter_tuning as hpt
    >>> spec = {"lr": hpt.DoubleParameterSpec(min=1e-4, max=0.1, scale="log"),
    ...         "units": hpt.IntegerParameterSpec(min=16, max=128, scale="linear")}
"""

from __future__ import annotations

from tuneyard.client.hyperparameter_tuning import (
    CategoricalParameterSpec,
    DiscreteParameterSpec,
    DoubleParameterSpec,
    IntegerParameterSpec,
)

__all__ = [
    "CategoricalParameterSpec",
    "DiscreteParameterSpec",
    "DoubleParameterSpec",
    "IntegerParameterSpec",
]
