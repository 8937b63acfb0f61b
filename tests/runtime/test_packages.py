"""pythonPackageSpec trials: the package is installed once per job into its own environment,
which still sees the engine's packages, and runs as ``python -m MODULE``."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.conftest import Runner, make_job
from tuneyard.config import buckets_root
from tuneyard.errors import FailedPrecondition, InvalidArgument
from tuneyard.model import HyperparameterTuningJob
from tuneyard.runtime import ensure_environment
from tuneyard.runtime.packages import environment_key

TASK = """
import json, os, sys
import hypertune  # an engine package, visible from the job's environment

def main():
    path = os.path.join(os.environ["AIP_MODEL_DIR"], "package.json")
    with open(path, "w") as f:
        json.dump({"argv": sys.argv[1:], "executable": sys.executable,
                   "venv": os.environ.get("VIRTUAL_ENV"), "file": __file__}, f)
    hypertune.HyperTune().report_hyperparameter_tuning_metric("accuracy", 0.75, global_step=1)

if __name__ == "__main__":
    main()
"""


def write_package(root: Path, name: str = "tytrainer", broken: bool = False) -> Path:
    """A tiny setuptools project with ``<name>/task.py``."""
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    (root / name / "task.py").write_text(TASK)
    backend = "setuptools.build_meta" if not broken else "no_such_backend.build"
    (root / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["setuptools"]\nbuild-backend = "{backend}"\n\n'
        f'[project]\nname = "{name}"\nversion = "0.1"\n\n'
        f'[tool.setuptools]\npackages = ["{name}"]\n'
    )
    return root


def package_job(uris: list[str], args: list[str] | None = None) -> HyperparameterTuningJob:
    job = make_job()
    pool: dict[str, Any] = {
        "replicaCount": "1",
        "pythonPackageSpec": {
            "executorImageUri": "python:3.11",
            "packageUris": uris,
            "pythonModule": "tytrainer.task",
            "args": args or ["--epochs=2"],
        },
    }
    spec = job.trial_spec.model_validate({"workerPoolSpecs": [pool]})
    return job.model_copy(update={"trial_job_spec": spec})


def test_a_package_from_a_bucket_runs_as_a_module(runner: Runner, home: Path) -> None:
    source = write_package(buckets_root() / "code" / "tytrainer-src")
    job = package_job(["gs://code/tytrainer-src"])
    progress, reports, _ = runner.run(runner.launch(job, "1", lr=0.5), timeout=120)
    assert progress.exit_code == 0, progress.message
    assert [r.metrics for r in reports] == [{"accuracy": 0.75}]
    model = home / "jobs" / "test-project" / "us-central1" / "42" / "trials" / "1" / "model"
    seen = json.loads((model / "package.json").read_text())
    assert seen["argv"] == ["--epochs=2", "--lr=0.5"]
    assert seen["venv"] and seen["executable"].startswith(seen["venv"])
    assert not seen["file"].startswith(str(source))  # the installed copy runs, not the source
    # The second trial reuses the environment.
    (Path(seen["venv"]) / "reused").touch()
    assert runner.run(runner.launch(job, "2", lr=0.25), timeout=60)[0].exit_code == 0
    assert (Path(seen["venv"]) / "reused").exists()


def test_two_trials_preparing_one_environment_share_it(home: Path, tmp_path: Path) -> None:
    source = write_package(tmp_path / "src")
    results: list[Path | BaseException] = []

    def prepare() -> None:
        try:
            results.append(ensure_environment([str(source)], scope="job-a"))
        except BaseException as error:  # reported by the assertion below
            results.append(error)

    threads = [threading.Thread(target=prepare) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1], results
    assert isinstance(results[0], Path) and results[0].exists()


def test_an_install_failure_says_what_pip_said(home: Path, tmp_path: Path) -> None:
    source = write_package(tmp_path / "broken", broken=True)
    with pytest.raises(FailedPrecondition) as error:
        ensure_environment([str(source)], scope="job-b", field="packageUris")
    assert "pip install exited with status" in str(error.value)
    assert "no_such_backend" in str(error.value)
    assert not [p for p in (home / "envs").iterdir() if p.is_dir()]  # the half-built env is gone


def test_a_missing_package_fails_the_launch(runner: Runner) -> None:
    with pytest.raises(FailedPrecondition, match="does not exist"):
        runner.launch(package_job(["gs://code/nothing-here.tar.gz"]))


def test_a_package_uri_outside_its_bucket_is_refused(runner: Runner) -> None:
    with pytest.raises(InvalidArgument, match="escapes its bucket"):
        runner.launch(package_job(["gs://code/../../../etc/passwd"]))


def test_a_rebuilt_package_gets_a_fresh_environment(tmp_path: Path) -> None:
    archive = tmp_path / "tytrainer-0.1.tar.gz"
    archive.write_bytes(b"first build")
    first = environment_key("job-c", [archive])
    assert environment_key("job-c", [archive]) == first
    assert environment_key("job-d", [archive]) != first  # environments are per job
    archive.write_bytes(b"second build")
    os.utime(archive, ns=(1, 1))
    assert environment_key("job-c", [archive]) != first
