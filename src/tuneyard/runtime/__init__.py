"""How trials run: the executor seam, the trial contract, the local and Ray executors.

``RayExecutor`` imports Ray only when it is created (``pip install 'tuneyard[ray]'``).
"""

from __future__ import annotations

from tuneyard.runtime.base import (
    Executor,
    MetricReport,
    TrialHandle,
    TrialLaunch,
    TrialProgress,
)
from tuneyard.runtime.contract import (
    OutputDirs,
    expand_env,
    expand_value,
    format_value,
    hyperparameter_args,
    output_dirs,
    replica_argv,
    replica_env,
    replica_name,
)
from tuneyard.runtime.local import LocalExecutor
from tuneyard.runtime.metrics import read_reports
from tuneyard.runtime.packages import ensure_environment
from tuneyard.runtime.ray import RayExecutor
from tuneyard.runtime.storage import is_bucket_path, local_path

__all__ = [
    "Executor",
    "LocalExecutor",
    "MetricReport",
    "OutputDirs",
    "RayExecutor",
    "TrialHandle",
    "TrialLaunch",
    "TrialProgress",
    "ensure_environment",
    "expand_env",
    "expand_value",
    "format_value",
    "hyperparameter_args",
    "is_bucket_path",
    "local_path",
    "output_dirs",
    "read_reports",
    "replica_argv",
    "replica_env",
    "replica_name",
]
