"""The bundled example: its job file is valid and its trainer really trains, as a trial would."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tuneyard.model import load_job_file, validate_job

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
JOB_FILE = EXAMPLES / "job.yaml"


def test_the_job_file_is_valid_and_mixes_all_four_parameter_kinds() -> None:
    job = load_job_file(JOB_FILE)
    assert validate_job(job) == []
    assert sorted(p.kind for p in job.study.parameters) == [
        "CATEGORICAL",
        "DISCRETE",
        "DOUBLE",
        "INTEGER",
    ]
    assert [m.metric_id for m in job.study.metrics] == ["accuracy"]


def test_the_package_uri_is_a_package_folder_beside_the_job_file() -> None:
    # The CLI resolves relative local packageUris against the job file's folder.
    [pool] = load_job_file(JOB_FILE).trial_spec.worker_pool_specs
    package = pool.python_package_spec
    assert package is not None
    [uri] = package.package_uris
    folder = JOB_FILE.parent / uri
    assert (folder / "pyproject.toml").is_file()
    module_file = folder.joinpath(*package.python_module.split(".")).with_suffix(".py")
    assert module_file.is_file()


def _load_task() -> ModuleType:
    """``trainer.task`` imported in this process, under a name no other test uses."""
    path = EXAMPLES / "trainer" / "trainer" / "task.py"
    spec = importlib.util.spec_from_file_location("tuneyard_example_task", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_trainer(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(EXAMPLES / "trainer"),
        AIP_MODEL_DIR=str(tmp_path / "model"),
        CLOUD_ML_HP_METRIC_FILE=str(tmp_path / "metrics" / "output.metrics"),
        CLOUD_ML_TRIAL_ID="7",
    )
    return subprocess.run(
        [sys.executable, "-m", "trainer.task", *flags],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_trainer_reports_accuracy_each_epoch_and_saves_its_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = [
        "--epochs=3",
        "--learning_rate=0.0031622776601683794",
        "--hidden_units=32",
        "--activation=tanh",
        "--batch_size=64",  # a whole DISCRETE value, as tuneyard passes it
    ]
    trial = _run_trainer(tmp_path, *flags)
    assert trial.returncode == 0, trial.stderr
    lines = (tmp_path / "metrics" / "output.metrics").read_text().splitlines()
    reports = [json.loads(line) for line in lines]
    assert [r["global_step"] for r in reports] == ["1", "2", "3"]
    assert {r["trial"] for r in reports} == {"7"}
    accuracies = [float(r["accuracy"]) for r in reports]
    assert all(0.5 < a <= 1.0 for a in accuracies)
    with open(tmp_path / "model" / "model.pkl", "rb") as saved:
        model = pickle.load(saved)
    assert model.hidden_layer_sizes == (32,)
    assert model.predict([[0.0] * 64]).shape == (1,)
    # Deterministic: the same flags, run again here, give the same accuracies.
    monkeypatch.setenv("CLOUD_ML_HP_METRIC_FILE", str(tmp_path / "again.metrics"))
    monkeypatch.setenv("AIP_MODEL_DIR", str(tmp_path / "again"))
    assert _load_task().main(flags) == 0
    lines = (tmp_path / "again.metrics").read_text().splitlines()
    assert [float(json.loads(line)["accuracy"]) for line in lines] == accuracies


@pytest.mark.parametrize(
    ("flag", "complaint"),
    [
        ("--batch_size=16.0", "invalid int value: '16.0'"),
        ("--optimizer=adam", "unrecognized arguments: --optimizer=adam"),
        ("--activation=gelu", "invalid choice: 'gelu'"),
        ("--learning_rate=0", "--learning_rate must be positive"),
    ],
)
def test_the_trainer_refuses_bad_flags_like_a_strict_vertex_trainer(
    flag: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _load_task().parse_args(["--epochs=1", flag])
    assert exit_info.value.code == 2
    assert complaint in capsys.readouterr().err


def test_the_readme_main_job_runs_end_to_end_through_the_cli(tmp_path: Path) -> None:
    """What ``scripts/demo`` runs, shortened: the example job through ``tuneyard run``."""
    env = dict(os.environ, TUNEYARD_HOME=str(tmp_path / "home"))
    env.pop("TUNEYARD_DATABASE_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tuneyard.cli.main",
            "run",
            str(JOB_FILE),
            "--json",
            "--max-trial-count",
            "2",
            "--parallel-trial-count",
            "2",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)
    assert job["state"] == "JOB_STATE_SUCCEEDED"
    assert [t["state"] for t in job["trials"]] == ["SUCCEEDED", "SUCCEEDED"]
    for trial in job["trials"]:
        assert len(trial["measurements"]) == 10  # one report per epoch
        accuracy = trial["finalMeasurement"]["metrics"][0]
        assert accuracy["metricId"] == "accuracy" and 0.1 < accuracy["value"] <= 1.0
        model = tmp_path / "home" / "buckets" / "tuneyard-examples" / "digits-mlp"
        assert (model / trial["id"] / "model" / "model.pkl").is_file()
