"""The trial contract: flags, environment, folders and cluster spec, as training code sees them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.conftest import PROBE, Runner, make_job, worker_pool
from tuneyard.model import EnvVar, ParameterValue, StudySpec, WorkerPoolSpec
from tuneyard.runtime import expand_env, expand_value, format_value, hyperparameter_args
from tuneyard.runtime.contract import replica_argv


def study(parameters: list[dict[str, Any]]) -> StudySpec:
    return StudySpec.model_validate({"parameters": parameters})


@pytest.mark.parametrize(
    ("kind", "value", "flag"),
    [
        ("INTEGER", 64, "64"),
        ("INTEGER", 64.0, "64"),
        ("DISCRETE", 16.0, "16"),
        ("DISCRETE", 16, "16"),
        ("DISCRETE", 0.5, "0.5"),
        ("DISCRETE", -2.0, "-2"),
        ("DOUBLE", 0.001, "0.001"),
        ("DOUBLE", 1.0, "1.0"),
        ("DOUBLE", 0.0031622776601683794, "0.0031622776601683794"),
        ("DOUBLE", 1e-05, "1e-05"),
        ("CATEGORICAL", "relu", "relu"),
        ("CATEGORICAL", "a b=c", "a b=c"),
    ],
)
def test_values_are_formatted_by_kind(kind: str, value: Any, flag: str) -> None:
    assert format_value(kind, value) == flag


def test_flags_follow_the_study_order_with_children_after_their_parent() -> None:
    spec = study(
        [
            {
                "parameterId": "model",
                "categoricalValueSpec": {"values": ["linear", "tree"]},
                "conditionalParameterSpecs": [
                    {
                        "parameterSpec": {
                            "parameterId": "depth",
                            "integerValueSpec": {"minValue": "1", "maxValue": "9"},
                        },
                        "parentCategoricalValues": {"values": ["tree"]},
                    }
                ],
            },
            {"parameterId": "lr", "doubleValueSpec": {"minValue": 0.001, "maxValue": 0.1}},
            {"parameterId": "batch_size", "discreteValueSpec": {"values": [16, 32, 64]}},
        ]
    )
    parameters: dict[str, ParameterValue] = {
        "batch_size": 16.0,
        "lr": 0.001,
        "depth": 3,
        "model": "tree",
        "extra": 2,
    }
    assert hyperparameter_args(spec, parameters) == [
        "--model=tree",
        "--depth=3",
        "--lr=0.001",
        "--batch_size=16",
        "--extra=2",
    ]
    assert hyperparameter_args(spec, {"model": "linear"}) == ["--model=linear"]


def test_container_argv_puts_the_flags_last_and_python_is_the_engine_s() -> None:
    pool = WorkerPoolSpec.model_validate(
        {"containerSpec": {"imageUri": "i", "command": ["python3", "-m", "t"], "args": ["--a=1"]}}
    )
    assert replica_argv(pool, ["--lr=0.1"]) == [sys.executable, "-m", "t", "--a=1", "--lr=0.1"]


def test_package_argv_runs_the_module_with_the_environment_s_python() -> None:
    pool = WorkerPoolSpec.model_validate(
        {
            "pythonPackageSpec": {
                "executorImageUri": "i",
                "packageUris": ["gs://b/t.tar.gz"],
                "pythonModule": "trainer.task",
                "args": ["--epochs=2"],
            }
        }
    )
    argv = replica_argv(pool, ["--lr=0.1"], package_python="/envs/x/bin/python")
    assert argv == ["/envs/x/bin/python", "-m", "trainer.task", "--epochs=2", "--lr=0.1"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$(A)", "1"),
        ("x-$(A)-$(B)", "x-1-two"),
        ("$(MISSING)", "$(MISSING)"),
        ("$$(A)", "$(A)"),
        ("$$$(A)", "$1"),
        ("cost: $5", "cost: $5"),
        ("$(A", "$(A"),
        ("end$", "end$"),
        ("$$", "$"),
    ],
)
def test_env_references_expand_like_vertex(value: str, expected: str) -> None:
    assert expand_value(value, {"A": "1", "B": "two"}) == expected


def test_env_sees_earlier_pool_variables_but_not_later_ones() -> None:
    env = [
        EnvVar(name="X", value="$(Y)"),
        EnvVar(name="Y", value="y"),
        EnvVar(name="Z", value="$(Y)"),
    ]
    assert expand_env(env, {}) == {"X": "$(Y)", "Y": "y", "Z": "y"}


# -- what a running trainer sees ---------------------------------------------------------------


def records(model_dir: Path) -> dict[str, Any]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(model_dir.glob("*.json"))}


def test_tuned_flags_come_last_and_win_with_a_strict_parser(runner: Runner) -> None:
    job = make_job(["--batch_size=4", "--activation=sigmoid", "--sleep=0"])
    handle = runner.launch(job, lr=0.001, batch_size=16.0, units=64, activation="tanh")
    progress, _, _ = runner.run(handle)
    assert progress.exit_code == 0, progress.message
    record = records(_trial_output(runner, "1") / "model")["workerpool0-0"]
    assert record["argv"] == [
        "--batch_size=4",
        "--activation=sigmoid",
        "--sleep=0",
        "--lr=0.001",
        "--batch_size=16",
        "--units=64",
        "--activation=tanh",
    ]


def _trial_output(runner: Runner, trial_id: str) -> Path:
    from tuneyard.config import home

    return home() / "jobs" / "test-project" / "us-central1" / "42" / "trials" / trial_id


def test_environment_and_output_folders(runner: Runner, home: Path) -> None:
    env = [
        EnvVar(name="WHERE", value="trial $(CLOUD_ML_TRIAL_ID) in $(AIP_MODEL_DIR)"),
        EnvVar(name="LITERAL", value="$$(CLOUD_ML_TRIAL_ID)"),
        EnvVar(name="PYTHONUNBUFFERED", value="0"),
    ]
    job = make_job(env=[e.model_dump() for e in env], base_output="gs://out-bucket/run/")
    progress, _, _ = runner.run(runner.launch(job, "7", lr=0.5))
    assert progress.exit_code == 0, progress.message
    base = home.resolve() / "buckets" / "out-bucket" / "run" / "7"
    record = records(base / "model")["workerpool0-0"]
    seen = record["env"]
    assert seen["CLOUD_ML_TRIAL_ID"] == "7"
    assert seen["CLOUD_ML_JOB_ID"] == "42"
    assert seen["AIP_MODEL_DIR"] == f"{base}/model/"
    assert seen["AIP_CHECKPOINT_DIR"] == f"{base}/checkpoints/"
    assert seen["AIP_TENSORBOARD_LOG_DIR"] == f"{base}/logs/"
    # Folders before the trial started, and still there once it ended (until a later trial of
    # the job takes the empty ones).
    assert record["folders"] == dict.fromkeys(
        ("AIP_MODEL_DIR", "AIP_CHECKPOINT_DIR", "AIP_TENSORBOARD_LOG_DIR"), True
    )
    assert (base / "checkpoints").is_dir() and (base / "logs").is_dir()
    assert seen["WHERE"] == f"trial 7 in {base}/model/"
    assert seen["LITERAL"] == "$(CLOUD_ML_TRIAL_ID)"
    assert seen["PYTHONUNBUFFERED"] == "0"  # the pool's env is applied last
    assert "/trials/7/workerpool0-0.metrics" in seen["CLOUD_ML_HP_METRIC_FILE"]


def test_every_trial_has_its_own_working_directory_and_metric_file(runner: Runner) -> None:
    job = make_job()
    handles = [runner.launch(job, trial_id) for trial_id in ("1", "2")]
    for handle in handles:
        assert runner.run(handle)[0].exit_code == 0
    seen = [records(_trial_output(runner, t) / "model")["workerpool0-0"] for t in ("1", "2")]
    assert seen[0]["cwd"] != seen[1]["cwd"]
    assert seen[0]["env"]["CLOUD_ML_HP_METRIC_FILE"] != seen[1]["env"]["CLOUD_ML_HP_METRIC_FILE"]
    for record in seen:
        assert (Path(record["cwd"]) / "scratch.txt").read_text() == "workerpool0-0"


def test_cluster_spec_and_tf_config(runner: Runner) -> None:
    pools = [worker_pool([], replicas=2), worker_pool([]), worker_pool([])]
    job = make_job(["--await-peers"], pools=pools)
    progress, _, _ = runner.run(runner.launch(job, "3"), timeout=30)
    assert progress.exit_code == 0, progress.message
    seen = records(_trial_output(runner, "3") / "model")
    names = ["workerpool0-0", "workerpool1-0", "workerpool1-1", "workerpool2-0", "workerpool3-0"]
    assert sorted(seen) == names
    cluster = json.loads(seen["workerpool1-1"]["env"]["CLUSTER_SPEC"])
    assert cluster["environment"] == "cloud"
    assert cluster["task"] == {"type": "workerpool1", "index": 1, "trial": "3"}
    assert sorted(cluster["cluster"]) == [
        "workerpool0",
        "workerpool1",
        "workerpool2",
        "workerpool3",
    ]
    assert len(cluster["cluster"]["workerpool1"]) == 2
    addresses = [a for pool in cluster["cluster"].values() for a in pool]
    assert len(set(addresses)) == 5 and all(a.startswith("127.0.0.1:") for a in addresses)
    assert cluster["job"]["workerPoolSpecs"][0]["containerSpec"]["command"][1] == str(PROBE)
    tf = json.loads(seen["workerpool0-0"]["env"]["TF_CONFIG"])
    assert tf["environment"] == "cloud"
    assert tf["task"] == {"type": "chief", "index": 0, "trial": "3"}
    assert sorted(tf["cluster"]) == ["chief", "ps", "worker"]  # the evaluator is not in it
    assert tf["cluster"]["chief"] == cluster["cluster"]["workerpool0"]
    assert tf["cluster"]["worker"] == cluster["cluster"]["workerpool1"]
    task_types = {n: json.loads(seen[n]["env"]["TF_CONFIG"])["task"]["type"] for n in names}
    assert task_types == {
        "workerpool0-0": "chief",
        "workerpool1-0": "worker",
        "workerpool1-1": "worker",
        "workerpool2-0": "ps",
        "workerpool3-0": "evaluator",
    }


def test_empty_pools_are_skipped(runner: Runner) -> None:
    job = make_job(["--await-peers"], pools=[{}, worker_pool([])])
    assert runner.run(runner.launch(job))[0].exit_code == 0
    seen = records(_trial_output(runner, "1") / "model")
    assert sorted(seen) == ["workerpool0-0", "workerpool2-0"]
    cluster = json.loads(seen["workerpool2-0"]["env"]["CLUSTER_SPEC"])
    assert sorted(cluster["cluster"]) == ["workerpool0", "workerpool2"]


def test_the_job_in_cluster_spec_has_the_trial_s_output_directory(runner: Runner) -> None:
    job = make_job(base_output="gs://b/hpt")
    assert runner.run(runner.launch(job, "5"))[0].exit_code == 0
    from tuneyard.config import buckets_root

    seen = records(buckets_root() / "b" / "hpt" / "5" / "model")["workerpool0-0"]
    spec = json.loads(seen["env"]["CLUSTER_SPEC"])["job"]
    assert spec["baseOutputDirectory"] == {"outputUriPrefix": "gs://b/hpt/5/"}
