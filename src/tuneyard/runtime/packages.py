"""Environments for ``pythonPackageSpec`` trials: the job's packages installed once, reused.

Vertex installs ``packageUris`` into a prebuilt image and runs ``python -m pythonModule``. Here
each job gets a virtual environment under ``$TUNEYARD_HOME/envs/<key>/``, where the key hashes the
job, the engine's interpreter and each package (path, size and modification time, so a package
rebuilt in place gets a fresh environment). The environment:

- sees the engine's packages (``cloudml-hypertune``, scikit-learn, ...): it is created with
  ``--system-site-packages`` and, when the engine itself runs in a virtual environment (whose
  packages ``--system-site-packages`` would not reach), a ``.pth`` file adds the engine's
  site-packages after its own, so the job's packages win over the engine's;
- gets the packages with ``python -m pip install --no-build-isolation`` (the engine's pip and
  setuptools, so local packages install offline);
- is built under an exclusive lock file, so trials that start together wait for one build, and is
  marked ready only when the install succeeded; a failed or interrupted build is thrown away.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import shutil
import site
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path

from tuneyard import config
from tuneyard.errors import FailedPrecondition
from tuneyard.runtime import storage

logger = logging.getLogger(__name__)

READY_MARKER = ".tuneyard-ready"
PIP_TIMEOUT_SECONDS = 1800.0
_TAIL_CHARS = 2000


def package_paths(package_uris: Sequence[str], *, field: str = "") -> list[Path]:
    """The local files or folders of ``package_uris`` (``gs://`` mapped to buckets).

    Raises:
        InvalidArgument: a URI that cannot be mapped (see :func:`storage.local_path`).
        FailedPrecondition: a package that does not exist.
    """
    paths = [storage.local_path(uri, field=field) for uri in package_uris]
    for uri, path in zip(package_uris, paths, strict=True):
        if not path.exists():
            raise FailedPrecondition(f"{field or 'packageUris'}: {uri} does not exist ({path})")
    return paths


def environment_key(scope: str, paths: Sequence[Path]) -> str:
    """A short hash naming the environment of ``paths`` for ``scope`` (the job name)."""
    stamps: list[list[object]] = []
    for path in paths:
        if path.is_dir():
            # pip writes build/ and *.egg-info into a package folder it installs, which changes
            # the folder's mtime: a folder is named by its path alone (the scope is one job).
            stamps.append([str(path)])
            continue
        stat = path.stat()
        stamps.append([str(path), stat.st_size, stat.st_mtime_ns])
    text = json.dumps({"scope": scope, "python": sys.executable, "packages": stamps})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_environment(package_uris: Sequence[str], *, scope: str, field: str = "") -> Path:
    """The interpreter of an environment with ``package_uris`` installed, built if needed.

    Args:
        package_uris: ``pythonPackageSpec.packageUris``: sdists, wheels or package folders, as
            ``gs://`` URIs, ``/gcs/`` paths or absolute local paths.
        scope: what the environment belongs to (the job's resource name).
        field: the request field of the URIs, named in errors.

    Returns:
        ``$TUNEYARD_HOME/envs/<key>/bin/python``.

    Raises:
        InvalidArgument: a URI that cannot be mapped.
        FailedPrecondition: a missing package, or pip failed (the message ends with pip's output).

    Example:
        >>> ensure_environment(["gs://my-bucket/trainer-0.1.tar.gz"],
        ...                    scope="projects/p/locations/l/hyperparameterTuningJobs/1")
        ... # doctest: +SKIP
        PosixPath('/home/me/.tuneyard/envs/3f2a.../bin/python')
    """
    paths = package_paths(package_uris, field=field)
    root = config.home() / "envs"
    root.mkdir(parents=True, exist_ok=True)
    key = environment_key(scope, paths)
    env_dir = root / key
    python = env_dir / "bin" / "python"
    if (env_dir / READY_MARKER).exists():
        return python
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if (env_dir / READY_MARKER).exists():
            return python
        if env_dir.exists():
            shutil.rmtree(env_dir)  # a build that crashed half way
        try:
            _build(env_dir, python, paths, field or "packageUris")
        except BaseException:
            shutil.rmtree(env_dir, ignore_errors=True)
            raise
        (env_dir / READY_MARKER).write_text(json.dumps([str(p) for p in paths]) + "\n")
    return python


def _build(env_dir: Path, python: Path, paths: Sequence[Path], field: str) -> None:
    logger.info("creating the environment %s for %s", env_dir, ", ".join(map(str, paths)))
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True).create(env_dir)
    _link_engine_packages(python)
    command = [
        str(python),
        "-m",
        "pip",
        "install",
        "--no-build-isolation",
        "--disable-pip-version-check",
        "--no-input",
        *map(str, paths),
    ]
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=PIP_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise FailedPrecondition(
            f"{field}: pip install did not finish within {PIP_TIMEOUT_SECONDS:.0f}s"
        ) from error
    if result.returncode != 0:
        output = result.stdout.decode(errors="replace").strip()[-_TAIL_CHARS:]
        raise FailedPrecondition(
            f"{field}: pip install exited with status {result.returncode}:\n{output}"
        )


def _link_engine_packages(python: Path) -> None:
    """Make the engine's site-packages importable in the environment, after its own."""
    if sys.prefix == sys.base_prefix:
        return  # --system-site-packages already reaches the engine's packages
    engine_dirs = [d for d in site.getsitepackages() if Path(d).is_dir()]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    target = python.parent.parent / "lib" / version / "site-packages"
    lines = [f"import site; site.addsitedir({d!r})" for d in engine_dirs]
    (target / "_tuneyard_engine.pth").write_text("\n".join(lines) + "\n")
