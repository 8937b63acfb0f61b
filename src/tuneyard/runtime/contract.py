"""The trial contract: the arguments, environment and folders training code is given.

Pure functions, no processes and no file system writes, shared by every executor. For each replica
of each non-empty worker pool a trial runs::

    argv = containerSpec.command + containerSpec.args + hyperparameter flags
         | [python, "-m", pythonPackageSpec.pythonModule] + pythonPackageSpec.args + flags

with the hyperparameters appended last as ``--<parameter_id>=<value>`` (so a tuned value wins over
the same flag in the pool's own args: argparse keeps the last one). ``python``/``python3`` as a
container command run the engine's own interpreter (:data:`sys.executable`), because locally the
"image" is this machine and the engine's environment is the one that has ``cloudml-hypertune``.

The environment is the engine's plus, per replica:

- ``CLOUD_ML_TRIAL_ID``, ``CLOUD_ML_JOB_ID`` (the tuning job's id);
- ``CLOUD_ML_HP_METRIC_FILE``, a file of this trial and replica only, so concurrent trials never
  share cloudml-hypertune's default ``/tmp/hypertune/output.metrics``;
- ``AIP_MODEL_DIR``, ``AIP_CHECKPOINT_DIR``, ``AIP_TENSORBOARD_LOG_DIR``:
  ``<base>/<trial_id>/{model,checkpoints,logs}/`` as local paths, where ``<base>`` is the mapped
  ``baseOutputDirectory`` or a per-job folder; the executor creates them before the trial starts;
- ``CLUSTER_SPEC`` and ``TF_CONFIG`` (below), ``PYTHONUNBUFFERED=1`` (logs arrive as written);
- last, the pool's own ``env`` with ``$(VAR)`` references expanded (:func:`expand_env`), so the
  pool can override anything above.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneyard.errors import InvalidArgument
from tuneyard.model import (
    CustomJobSpec,
    EnvVar,
    GcsDestination,
    HyperparameterTuningJob,
    ParameterSpec,
    ParameterValue,
    StudySpec,
    WorkerPoolSpec,
)

PYTHON_COMMANDS = frozenset({"python", "python3"})
"""Container commands that run the engine's interpreter (:data:`sys.executable`)."""

TF_TASK_TYPES = ("chief", "worker", "ps", "evaluator")
"""TensorFlow's names for worker pools 0-3 in ``TF_CONFIG``; the evaluator is not in ``cluster``."""


def replica_name(pool: int, index: int) -> str:
    """``workerpool{pool}-{index}``, the name of a replica in logs, files and messages."""
    return f"workerpool{pool}-{index}"


def replicas(spec: CustomJobSpec) -> list[tuple[int, int]]:
    """``(pool, index)`` of every replica of every non-empty pool; the primary comes first."""
    return [
        (pool, index)
        for pool, pool_spec in enumerate(spec.worker_pool_specs)
        if not pool_spec.is_empty
        for index in range(max(pool_spec.replica_count, 1 if pool == 0 else 0))
    ]


# -- arguments ---------------------------------------------------------------------------------


def format_value(kind: str, value: ParameterValue) -> str:
    """One hyperparameter value as the trainer receives it.

    INTEGER as an integer; DISCRETE whole numbers without a decimal point (``16``: Google's own
    samples parse them with ``type=int``); other DISCRETE and DOUBLE values as the float's repr;
    CATEGORICAL as the string. ``kind`` ``""`` (unknown) formats by the value's own type.
    """
    if kind == "CATEGORICAL" or isinstance(value, str):
        return str(value)
    if kind == "INTEGER":
        return str(int(value))
    number = float(value)
    if kind == "DISCRETE" and number.is_integer():
        return str(int(number))
    if kind == "" and isinstance(value, int):
        return str(value)
    return repr(number)


def _walk(specs: Sequence[ParameterSpec]) -> Iterator[ParameterSpec]:
    for spec in specs:
        yield spec
        yield from _walk(
            [c.parameter_spec for c in spec.conditional_parameter_specs if c.parameter_spec]
        )


def hyperparameter_args(study: StudySpec, parameters: Mapping[str, ParameterValue]) -> list[str]:
    """``--<parameter_id>=<value>`` for every parameter in ``parameters``.

    The order is the study spec's: each parameter, then its conditional children depth-first
    (inactive children are simply absent from ``parameters``). Ids the spec does not know come
    last, sorted, formatted by their value's type.

    Example:
        >>> from tuneyard.model import StudySpec
        >>> study = StudySpec.model_validate({"parameters": [
        ...     {"parameterId": "lr", "doubleValueSpec": {"minValue": 1e-4, "maxValue": 0.1}},
        ...     {"parameterId": "batch_size", "discreteValueSpec": {"values": [16, 32]}}]})
        >>> hyperparameter_args(study, {"batch_size": 16.0, "lr": 0.001})
        ['--lr=0.001', '--batch_size=16']
    """
    args: list[str] = []
    known: set[str] = set()
    for spec in _walk(study.parameters):
        known.add(spec.parameter_id)
        if spec.parameter_id in parameters:
            value = format_value(spec.kind, parameters[spec.parameter_id])
            args.append(f"--{spec.parameter_id}={value}")
    for parameter_id in sorted(set(parameters) - known):
        args.append(f"--{parameter_id}={format_value('', parameters[parameter_id])}")
    return args


def replica_argv(
    pool_spec: WorkerPoolSpec, hp_args: Sequence[str], *, package_python: str | None = None
) -> list[str]:
    """The command line of one replica of ``pool_spec``.

    Args:
        pool_spec: a non-empty worker pool.
        hp_args: from :func:`hyperparameter_args`; appended after the pool's own args.
        package_python: the interpreter of the environment the pool's python package is
            installed in (required for a python package spec).

    Raises:
        InvalidArgument: the pool has neither a command nor a python module to run.
    """
    container, package = pool_spec.container_spec, pool_spec.python_package_spec
    if container is not None:
        if not container.command:
            raise InvalidArgument("containerSpec.command is required to run a trial locally")
        command = list(container.command)
        if command[0] in PYTHON_COMMANDS:
            command[0] = sys.executable
        return [*command, *container.args, *hp_args]
    if package is not None and package.python_module:
        if package_python is None:
            raise InvalidArgument("pythonPackageSpec needs an environment with its packages")
        return [package_python, "-m", package.python_module, *package.args, *hp_args]
    raise InvalidArgument("a worker pool needs containerSpec.command or pythonPackageSpec")


# -- environment -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputDirs:
    """A trial's ``AIP_*_DIR`` folders (local, with a trailing slash, as Vertex writes them)."""

    model: str
    checkpoints: str
    logs: str

    def as_env(self) -> dict[str, str]:
        """The three ``AIP_*_DIR`` variables."""
        return {
            "AIP_MODEL_DIR": self.model,
            "AIP_CHECKPOINT_DIR": self.checkpoints,
            "AIP_TENSORBOARD_LOG_DIR": self.logs,
        }


def output_dirs(base: Path, trial_id: str) -> OutputDirs:
    """``<base>/<trial_id>/model/``, ``.../checkpoints/``, ``.../logs/``."""
    trial = base / trial_id
    return OutputDirs(f"{trial / 'model'}/", f"{trial / 'checkpoints'}/", f"{trial / 'logs'}/")


def expand_value(value: str, defined: Mapping[str, str]) -> str:
    """Expand ``$(VAR)`` in ``value`` the way Vertex (and Kubernetes) expand ``EnvVar.value``.

    ``$(VAR)`` becomes ``defined[VAR]`` and stays as written when ``VAR`` is undefined;
    ``$$`` becomes ``$``, so ``$$(VAR)`` is the literal ``$(VAR)``.
    """
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        if value[i] != "$" or i + 1 == n:
            out.append(value[i])
            i += 1
            continue
        following = value[i + 1]
        end = value.find(")", i + 2) if following == "(" else -1
        if following == "$":
            out.append("$")
        elif end != -1:
            name = value[i + 2 : end]
            out.append(defined.get(name, value[i : end + 1]))
            i = end + 1
            continue
        else:  # "$x" or an unterminated "$(": both are kept literally
            out.append(value[i : i + 2])
        i += 2
    return "".join(out)


def expand_env(env: Sequence[EnvVar], defined: Mapping[str, str]) -> dict[str, str]:
    """A pool's ``env`` with references expanded against ``defined`` (the variables the service
    sets) and the pool's earlier variables, as the ``EnvVar`` docs describe."""
    scope = dict(defined)
    result: dict[str, str] = {}
    for var in env:
        result[var.name] = scope[var.name] = expand_value(var.value, scope)
    return result


def cluster_spec(
    job_spec: Mapping[str, Any],
    addresses: Mapping[int, Sequence[str]],
    trial_id: str,
    pool: int,
    index: int,
) -> tuple[str, str]:
    """``CLUSTER_SPEC`` and ``TF_CONFIG`` of one replica, as JSON.

    Args:
        job_spec: the trial's CustomJobSpec as JSON (``job`` in both documents).
        addresses: ``host:port`` of every replica, by pool index (non-empty pools only).
        trial_id: ``task.trial``.
        pool: this replica's pool index.
        index: this replica's index in its pool.
    """
    task = {"index": index, "trial": trial_id}
    spec = {
        "cluster": {f"workerpool{p}": list(a) for p, a in addresses.items()},
        "environment": "cloud",
        "task": {"type": f"workerpool{pool}", **task},
        "job": job_spec,
    }
    tf_cluster = {_tf_type(p): list(a) for p, a in addresses.items() if p != 3}
    tf = {
        "cluster": tf_cluster,
        "environment": "cloud",
        "task": {"type": _tf_type(pool), **task},
        "job": job_spec,
    }
    return json.dumps(spec), json.dumps(tf)


def _tf_type(pool: int) -> str:
    return TF_TASK_TYPES[pool] if pool < len(TF_TASK_TYPES) else f"workerpool{pool}"


def trial_job_spec(job: HyperparameterTuningJob, trial_id: str) -> dict[str, Any]:
    """The CustomJobSpec a trial runs, as JSON: the template with ``baseOutputDirectory`` set to
    ``<prefix>/<trial_id>/`` as Vertex does for each trial's child job."""
    spec = job.trial_spec
    base = spec.base_output_directory
    if base is not None and base.output_uri_prefix:
        prefix = base.output_uri_prefix.rstrip("/")
        trial_base = GcsDestination(output_uri_prefix=f"{prefix}/{trial_id}/")
        spec = spec.model_copy(update={"base_output_directory": trial_base})
    return spec.to_json_dict()


def replica_env(
    job: HyperparameterTuningJob,
    trial_id: str,
    pool: int,
    index: int,
    *,
    addresses: Mapping[int, Sequence[str]],
    metric_file: Path,
    dirs: OutputDirs,
    job_spec: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The variables the contract adds to the engine's environment for one replica.

    ``job_spec`` is :func:`trial_job_spec` (computed here when not given).
    """
    if job_spec is None:
        job_spec = trial_job_spec(job, trial_id)
    cluster, tf_config = cluster_spec(job_spec, addresses, trial_id, pool, index)
    defined = {
        "CLOUD_ML_TRIAL_ID": trial_id,
        "CLOUD_ML_JOB_ID": job.job_id,
        "CLOUD_ML_HP_METRIC_FILE": str(metric_file),
        **dirs.as_env(),
        "CLUSTER_SPEC": cluster,
        "TF_CONFIG": tf_config,
        "PYTHONUNBUFFERED": "1",
    }
    pool_spec = job.trial_spec.worker_pool_specs[pool]
    task = pool_spec.container_spec or pool_spec.python_package_spec
    pool_env = task.env if task is not None else []
    return {**defined, **expand_env(pool_env, defined)}
