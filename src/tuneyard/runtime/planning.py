"""Turning a trial launch into the replicas to start: commands, environments and folders.

This is the local executor's use of :mod:`tuneyard.runtime.contract`: it picks the local paths
(the trial folder of :mod:`tuneyard.runtime.trialdir`, the mapped output directory), free ports for
``CLUSTER_SPEC``, and the environment of each python package pool, and creates every folder the
trial may expect to exist before it starts. The Ray executor plans each replica the same way on
the node it runs on (``only``), with the addresses of every replica's node (``addresses``).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path

from tuneyard.model import HyperparameterTuningJob
from tuneyard.runtime import contract, packages, storage
from tuneyard.runtime.base import TrialLaunch
from tuneyard.runtime.spares import Spares
from tuneyard.runtime.trialdir import ReplicaPlan

TRIAL_DIR_VARIABLE = "TUNEYARD_TRIAL_DIR"
"""Set to the trial folder in every replica's environment: the processes of a trial (and their
children, which inherit it) are found by it even when no handle of theirs was kept."""


def output_base(job: HyperparameterTuningJob, job_folder: Path) -> Path:
    """The local ``baseOutputDirectory``, or ``<job folder>/trials`` when the job has none, so
    that ``AIP_MODEL_DIR`` and the others are folders of the trial's own folder."""
    base = job.trial_spec.base_output_directory
    if base is not None and base.output_uri_prefix:
        field = "trialJobSpec.baseOutputDirectory.outputUriPrefix"
        return storage.local_path(base.output_uri_prefix, field=field)
    return job_folder / "trials"


def package_pythons(
    job: HyperparameterTuningJob, pools: frozenset[int] | None = None
) -> dict[int, str]:
    """The interpreter of each python package pool's environment (of ``pools`` only, when
    given), built when needed."""
    pythons: dict[int, str] = {}
    for pool, pool_spec in enumerate(job.trial_spec.worker_pool_specs):
        package = pool_spec.python_package_spec
        if package is not None and not pool_spec.is_empty and (pools is None or pool in pools):
            field = f"trialJobSpec.workerPoolSpecs[{pool}].pythonPackageSpec.packageUris"
            python = packages.ensure_environment(package.package_uris, scope=job.name, field=field)
            pythons[pool] = str(python)
    return pythons


def make_dir(path: str | Path) -> None:
    """``os.makedirs(path, exist_ok=True)`` in one system call when the parent exists."""
    try:
        os.mkdir(path)
    except FileExistsError:
        if not os.path.isdir(path):
            raise
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)


def free_ports(count: int) -> list[int]:
    """Ports for ``CLUSTER_SPEC``: free now, all different (bound together, then released)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def plan_trial(
    launch: TrialLaunch,
    folder: Path,
    job_folder: Path,
    *,
    addresses: Mapping[int, Sequence[str]] | None = None,
    only: str | None = None,
    spares: Spares | None = None,
) -> list[ReplicaPlan]:
    """The replicas of ``launch`` with their folders created, the primary first.

    Args:
        launch: the job, trial id and parameters.
        folder: the trial folder (``<job folder>/trials/<trial_id>``).
        job_folder: the job folder, whose ``trials`` folder is the default output directory.
        addresses: ``host:port`` of every replica by pool, for ``CLUSTER_SPEC`` (default: free
            ports on 127.0.0.1, all replicas running here).
        only: plan just the replica of this name (one replica of a trial spread over machines).
        spares: where to take the folders from before creating them (the job's spares).

    Raises:
        InvalidArgument: an unmappable output directory or package URI, or a pool with nothing
            to run.
        FailedPrecondition: a python package could not be installed.
    """
    job, trial_id = launch.job, launch.trial_id
    spec = job.trial_spec
    dirs = contract.output_dirs(output_base(job, job_folder), trial_id)
    # The trial folder first: by default the output directories are in it, and each folder is
    # then one mkdir (on this machine a file system call costs up to a tenth of a millisecond).
    make_dir(folder)
    for path in (dirs.model, dirs.checkpoints, dirs.logs):
        if spares is None or not spares.take_dir(job_folder, path.rstrip("/")):
            make_dir(path)
    replicas = contract.replicas(spec)
    if only is not None:
        replicas = [r for r in replicas if contract.replica_name(*r) == only]
    pythons = package_pythons(job, frozenset(pool for pool, _ in replicas))
    if addresses is None:
        local: dict[int, list[str]] = {}
        for (pool, _), port in zip(replicas, free_ports(len(replicas)), strict=True):
            local.setdefault(pool, []).append(f"127.0.0.1:{port}")
        addresses = local
    hp_args = contract.hyperparameter_args(job.study, launch.parameters)
    job_spec = contract.trial_job_spec(job, trial_id)
    plans = []
    for pool, index in replicas:
        name = contract.replica_name(pool, index)
        env = contract.replica_env(
            job,
            trial_id,
            pool,
            index,
            addresses=addresses,
            metric_file=folder / f"{name}.metrics",
            dirs=dirs,
            job_spec=job_spec,
        )
        env[TRIAL_DIR_VARIABLE] = str(folder)  # after the pool's env: it cannot be moved
        python = pythons.get(pool)
        if python is not None:  # `python` and `pip` in the trainer's subprocesses are the env's
            env_bin = os.path.dirname(python)
            env["VIRTUAL_ENV"] = os.path.dirname(env_bin)
            env["PATH"] = env_bin + os.pathsep + env.get("PATH", os.environ.get("PATH", ""))
        argv = contract.replica_argv(spec.worker_pool_specs[pool], hp_args, package_python=python)
        if "/" not in argv[0]:
            # Resolved on the replica's own PATH (the supervisor's may differ).
            search = env.get("PATH", os.environ.get("PATH", os.defpath))
            argv[0] = shutil.which(argv[0], path=search) or argv[0]
        cwd = folder / name
        if spares is None or not spares.take_dir(job_folder, cwd):
            make_dir(cwd)
        plans.append(
            ReplicaPlan(
                name=name,
                argv=argv,
                env=env,
                cwd=str(cwd),
                # The pool's env may have moved the file, even to a path relative to its cwd.
                metrics=os.path.join(cwd, env["CLOUD_ML_HP_METRIC_FILE"]),
                stdout=f"{folder}/{name}.stdout",
                stderr=f"{folder}/{name}.stderr",
            )
        )
    return plans
