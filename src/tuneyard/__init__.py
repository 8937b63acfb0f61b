"""tuneyard: Vertex AI hyperparameter tuning jobs, self-hosted."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuneyard.algorithms.study import Study
    from tuneyard.client.hook import HyperparameterTuningJobHook

__version__ = "0.1.0"

__all__ = ["HyperparameterTuningJobHook", "Study", "__version__"]

_LAZY = {
    "Study": "tuneyard.algorithms.study",
    "HyperparameterTuningJobHook": "tuneyard.client.hook",
}
"""Public names imported on first use, so ``import tuneyard`` stays light."""


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tuneyard' has no attribute {name!r}")
