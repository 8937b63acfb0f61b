"""The Ray executor against a real two-node Ray cluster (tests/runtime/ray_cluster.py): a job whose
trials land on both nodes, cancellation, and a worker node killed mid-trial."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.conftest import group_running, wait_for
from tests.runtime.ray_cluster import HEAD_IP, WORKER_IP, RayCluster, ray_cluster  # noqa: F401
from tuneyard.engine import Controller
from tuneyard.errors import FailedPrecondition
from tuneyard.model import HyperparameterTuningJob, JobState, TrialState, job_from_dict
from tuneyard.runtime import TrialHandle, TrialLaunch, TrialProgress
from tuneyard.runtime.ray import RayExecutor
from tuneyard.store import open_store

TOY = Path(__file__).resolve().parents[1] / "trainers" / "toy.py"
# The replica prints where it runs, then becomes the toy trainer (the flags follow "$@").
SHOW_NODE = 'echo "node=$(hostname -I 2>/dev/null) home=$TUNEYARD_HOME spec=$CLUSTER_SPEC"'
WHOLE_NODE = {"n1-standard-4": {"CPU": 2.0}}


def toy_job(
    args: list[str],
    *,
    max_trials: int = 2,
    parallel: int = 2,
    prelude: str = SHOW_NODE,
    scheduling: dict[str, Any] | None = None,
) -> HyperparameterTuningJob:
    """A job whose replicas run ``sh -c PRELUDE; exec python toy.py ARGS --x=.. --n=..``."""
    spec: dict[str, Any] = {
        "workerPoolSpecs": [
            {
                "machineSpec": {"machineType": "n1-standard-4"},
                "replicaCount": "1",
                "containerSpec": {
                    "imageUri": "python:3.11",
                    "command": ["/bin/sh", "-c", f'{prelude}; exec "$0" "$@"', sys.executable],
                    "args": [str(TOY), *args],
                },
            }
        ]
    }
    if scheduling:
        spec["scheduling"] = scheduling
    return job_from_dict(
        {
            "displayName": "ray",
            "studySpec": {
                "metrics": [{"metricId": "score", "goal": "MAXIMIZE"}],
                "parameters": [
                    {"parameterId": "x", "doubleValueSpec": {"minValue": 0.0, "maxValue": 1.0}},
                    {"parameterId": "n", "integerValueSpec": {"minValue": "1", "maxValue": "8"}},
                ],
                "algorithm": "RANDOM_SEARCH",
                "measurementSelectionType": "LAST_MEASUREMENT",
            },
            "maxTrialCount": max_trials,
            "parallelTrialCount": parallel,
            "trialJobSpec": spec,
        }
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The engine's own TUNEYARD_HOME (the nodes have theirs)."""
    path = tmp_path / "engine-home"
    monkeypatch.setenv("TUNEYARD_HOME", str(path))
    monkeypatch.delenv("TUNEYARD_DATABASE_URL", raising=False)
    return path


@pytest.fixture
def executor_for(
    ray_cluster: RayCluster,  # noqa: F811
    home: Path,
) -> Iterator[Callable[[dict[str, dict[str, float]]], RayExecutor]]:
    """Makes Ray executors with a resource table; closes them (and their idle actors) after."""
    made: list[RayExecutor] = []

    def make(resources: dict[str, dict[str, float]]) -> RayExecutor:
        made.append(RayExecutor(resources=resources, stop_grace_seconds=2.0))
        return made[-1]

    yield make
    for executor in made:
        executor.close()


@pytest.fixture
def controller(executor_for: Any, home: Path) -> Iterator[Controller]:
    store = open_store(f"sqlite:///{home / 'engine.db'}")
    try:
        yield Controller(
            store, executor_for(WHOLE_NODE), poll_interval=0.1, cancel_grace_seconds=2.0
        )
    finally:
        store.close()


def run_until(
    executor: RayExecutor, handle: TrialHandle, done: Any, timeout: float = 60.0
) -> tuple[TrialHandle, list[TrialProgress]]:
    """Poll like the engine (following new handles) until ``done(progress)``."""
    deadline = time.monotonic() + timeout
    since, seen = 0.0, []
    while True:
        executor.wait(0.1)
        progress = executor.poll(handle, since)
        seen.append(progress)
        if progress.reports:
            since = max(r.timestamp for r in progress.reports)
        if progress.handle is not None:
            handle = progress.handle
        if done(progress, handle):
            return handle, seen
        assert time.monotonic() < deadline, f"timed out; last progress {progress}"


def started(progress: TrialProgress, handle: TrialHandle) -> bool:
    return bool(handle["started"]) or progress.done


def test_a_job_runs_its_trials_on_both_nodes(controller: Controller) -> None:
    # Each trial asks for a whole node (2 CPUs), so two parallel trials must use both nodes.
    job, _ = controller.submit(toy_job(["--steps=3", "--sleep=0.5"], max_trials=4))
    snapshot = controller.run(job.name)
    assert snapshot.job.state == JobState.JOB_STATE_SUCCEEDED, snapshot.job.error
    nodes = set()
    for record in snapshot.records:
        trial = record.trial
        assert trial.state == TrialState.SUCCEEDED, trial.infeasible_reason
        assert [m.step_count for m in trial.measurements] == [1, 2, 3]
        assert trial.final_measurement is not None
        assert trial.final_measurement.step_count == 3  # LAST_MEASUREMENT
        handle = record.runtime["handle"]
        assert json.loads(json.dumps(handle)) == handle
        (replica,) = handle["replicas"]
        nodes.add(replica["node_ip"])
        log = controller.executor.read_logs(handle)["workerpool0-0"]
        # The replica ran with the node's environment and its CLUSTER_SPEC names the node.
        name = "worker" if replica["node_ip"] == WORKER_IP else "head"
        assert f"home-{name}" in log, log
        spec = json.loads(log.split("spec=", 1)[1].splitlines()[0])
        assert spec["cluster"]["workerpool0"] == [f"{replica['node_ip']}:{replica['port']}"]
    assert nodes == {HEAD_IP, WORKER_IP}


def test_a_failing_trial_reports_its_stderr(executor_for: Any) -> None:
    executor = executor_for(WHOLE_NODE)
    job = toy_job(["--mode=crash"]).model_copy(update={"name": job_name(7)})
    handle = executor.launch(TrialLaunch(job, "1", {"x": 0.5, "n": 2}))
    _, seen = run_until(executor, handle, lambda p, h: p.done)
    assert seen[-1].exit_code == 3
    assert seen[-1].message.startswith("workerpool0-0 exited with status 3: ")
    assert "boom: the trainer crashed" in seen[-1].message
    assert "boom: the trainer crashed" in executor.read_logs(handle)["workerpool0-0"]


def test_a_replica_no_node_can_hold_is_refused(executor_for: Any) -> None:
    executor = executor_for({})  # n1-standard-4 asks for 4 CPUs; the nodes have 2
    job = toy_job([]).model_copy(update={"name": job_name(8)})
    with pytest.raises(FailedPrecondition, match=r"machineSpec: a replica asks Ray for \{'CPU': 4"):
        executor.launch(TrialLaunch(job, "1", {"x": 0.5, "n": 2}))


def job_name(job_id: int) -> str:
    return f"projects/p/locations/us-central1/hyperparameterTuningJobs/{job_id}"


def test_cancel_stops_the_remote_processes(controller: Controller) -> None:
    # The replica's shell leaves a child in the process group: cancel must end the whole group.
    job, _ = controller.submit(toy_job(["--mode=hang"], prelude="sleep 600 & " + SHOW_NODE))
    wait_for(lambda: controller.reconcile(job.name).running == 2 and all_started(controller, job))
    groups = [r.runtime["handle"]["replicas"][0]["pid"] for r in trial_records(controller, job)]
    assert all(group_running(pid) for pid in groups)
    controller.cancel(job.name)
    snapshot = controller.reconcile(job.name)
    assert snapshot.job.state == JobState.JOB_STATE_CANCELLED
    assert not any(group_running(pid) for pid in groups)


def trial_records(controller: Controller, job: HyperparameterTuningJob) -> list[Any]:
    return list(controller.store.trial_records(job.name))


def all_started(controller: Controller, job: HyperparameterTuningJob) -> bool:
    records = trial_records(controller, job)
    return bool(records) and all(r.runtime.get("handle", {}).get("started") for r in records)


def test_a_killed_worker_node_fails_or_restarts_its_trials(
    ray_cluster: RayCluster,  # noqa: F811
    executor_for: Any,
) -> None:
    # Both trials are pinned to the worker node; one may restart, the other may not.
    executor = executor_for({"n1-standard-4": {"CPU": 1.0, "node_worker": 1.0}})
    once = toy_job(["--mode=hang"]).model_copy(update={"name": job_name(9)})
    again = toy_job(
        ["--steps=2", "--sleep=0.2"],
        prelude=SHOW_NODE + '; [ -e "$AIP_MODEL_DIR/ran" ] || { touch "$AIP_MODEL_DIR/ran"; '
        "sleep 600; }",
        scheduling={"restartJobOnWorkerRestart": True},
    ).model_copy(update={"name": job_name(10)})
    first = executor.launch(TrialLaunch(once, "1", {"x": 0.5, "n": 2}))
    second = executor.launch(TrialLaunch(again, "1", {"x": 0.5, "n": 2}))
    first, _ = run_until(executor, first, started)
    second, _ = run_until(executor, second, started)
    pids = [h["replicas"][0]["pid"] for h in (first, second)]
    assert {h["replicas"][0]["node_ip"] for h in (first, second)} == {WORKER_IP}
    assert all(group_running(pid) for pid in pids)

    ray_cluster.kill("worker")
    try:
        check_lost_and_restarted(ray_cluster, executor, first, second, pids)
    finally:
        if "worker" not in ray_cluster.nodes:  # the later tests need both nodes
            ray_cluster.start("worker", WORKER_IP)


def check_lost_and_restarted(
    ray_cluster: RayCluster,  # noqa: F811
    executor: RayExecutor,
    first: TrialHandle,
    second: TrialHandle,
    pids: list[int],
) -> None:
    # The watchdogs end the replicas whose actors died with the node.
    wait_for(lambda: not any(group_running(pid) for pid in pids), timeout=30)
    _, seen = run_until(executor, first, lambda p, h: p.done)
    assert seen[-1].exit_code is None
    assert seen[-1].message.startswith("workerpool0-0 was lost with its Ray node 127.0.0.3")
    second, seen = run_until(executor, second, lambda p, h: p.handle is not None and p.extra)
    assert seen[-1].extra["restarts"] == 1 and not seen[-1].done
    assert second["attempt"] == 1 and not second["started"]

    ray_cluster.start("worker", WORKER_IP)  # the restarted replica waits for a node_worker
    second, seen = run_until(executor, second, lambda p, h: p.done, timeout=120)
    assert seen[-1].exit_code == 0, seen[-1].message
    assert seen[-1].extra["restarts"] == 1
    assert [r.step for p in seen for r in p.reports if "score" in r.metrics] == [1, 2]
    log = executor.read_logs(second)["workerpool0-0"]
    assert "restarting every replica (restart 1 of 3)" in log


def test_a_trial_spread_over_both_nodes_sees_both_in_its_cluster_spec(executor_for: Any) -> None:
    # Two pools of one replica, each asking for a whole node: one replica on each node.
    job = toy_job(["--steps=2"])
    pools = [*job.trial_spec.to_json_dict()["workerPoolSpecs"]] * 2
    spec = job.trial_spec.model_validate({"workerPoolSpecs": pools})
    job = job.model_copy(update={"trial_job_spec": spec, "name": job_name(11)})
    executor = executor_for(WHOLE_NODE)
    handle = executor.launch(TrialLaunch(job, "1", {"x": 0.5, "n": 2}))
    handle, seen = run_until(executor, handle, lambda p, h: p.done)
    assert seen[-1].exit_code == 0, seen[-1].message
    ips = {r["name"]: r["node_ip"] for r in handle["replicas"]}
    assert set(ips.values()) == {HEAD_IP, WORKER_IP}
    logs = executor.read_logs(handle)
    for name in ("workerpool0-0", "workerpool1-0"):
        spec_json = json.loads(logs[name].split("spec=", 1)[1].splitlines()[0])
        cluster = spec_json["cluster"]
        assert [a.split(":")[0] for a in cluster["workerpool0"]] == [ips["workerpool0-0"]]
        assert [a.split(":")[0] for a in cluster["workerpool1"]] == [ips["workerpool1-0"]]
        assert spec_json["task"]["type"] == name.split("-")[0]


def test_another_executor_re_attaches_by_the_handle(executor_for: Any) -> None:
    # As after an engine restart: a new executor knows the trial only by its JSON handle.
    job = toy_job(["--steps=3", "--sleep=0.5"]).model_copy(update={"name": job_name(12)})
    first = executor_for(WHOLE_NODE)
    handle = first.launch(TrialLaunch(job, "1", {"x": 0.5, "n": 2}))
    handle, _ = run_until(first, handle, started)
    stored = json.loads(json.dumps(handle))
    second = executor_for(WHOLE_NODE)
    _, seen = run_until(second, stored, lambda p, h: p.done)
    assert seen[-1].exit_code == 0, seen[-1].message
    assert [r.step for p in seen for r in p.reports if "score" in r.metrics] == [1, 2, 3]


def test_a_trial_whose_actors_are_gone_is_lost(executor_for: Any) -> None:
    import ray

    job = toy_job(["--mode=hang"]).model_copy(update={"name": job_name(13)})
    executor = executor_for(WHOLE_NODE)
    handle = executor.launch(TrialLaunch(job, "1", {"x": 0.5, "n": 2}))
    handle, _ = run_until(executor, handle, started)
    (replica,) = handle["replicas"]
    ray.kill(ray.get_actor(replica["actor"], namespace="tuneyard"))
    _, seen = run_until(executor_for(WHOLE_NODE), handle, lambda p, h: p.done)
    assert seen[-1].exit_code is None
    assert seen[-1].message.startswith("workerpool0-0 was lost with its Ray node")
    wait_for(lambda: not group_running(replica["pid"]), timeout=15)  # the watchdog


def test_tuneyard_run_with_the_ray_executor(
    ray_cluster: RayCluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    job = toy_job(["--steps=2"], max_trials=2)
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job.to_json_dict()))
    env = {
        **os.environ,
        "TUNEYARD_HOME": str(tmp_path / "cli-home"),
        "TUNEYARD_RAY_RESOURCES": json.dumps(WHOLE_NODE),
    }
    env.pop("TUNEYARD_DATABASE_URL", None)
    tuneyard = str(Path(sys.executable).parent / "tuneyard")
    command = [tuneyard, "run", str(job_file), "--json", "--executor", "ray"]
    result = subprocess.run(
        [*command, "--ray-address", ray_cluster.address],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ended = json.loads(result.stdout)
    assert ended["state"] == "JOB_STATE_SUCCEEDED"
    assert [t["state"] for t in ended["trials"]] == ["SUCCEEDED", "SUCCEEDED"]


def test_a_restarted_ray_server_carries_on_with_its_trials(
    ray_cluster: RayCluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    import httpx2 as httpx

    from tests.api.conftest import PARENT, start_server, stop_server, toy_job_json

    home = tmp_path / "server-home"
    flags = ["--executor", "ray", "--ray-address", ray_cluster.address]
    env = {"TUNEYARD_RAY_RESOURCES": json.dumps(WHOLE_NODE)}
    server = start_server(home, *flags, env=env)
    try:
        body = toy_job_json("ray-serve", args=["--steps=3", "--sleep=1.0"], max_trials=2)
        name = httpx.post(f"{server.url}/v1/{PARENT}/hyperparameterTuningJobs", json=body).json()[
            "name"
        ]
        wait_for(lambda: len(httpx.get(f"{server.url}/v1/{name}").json().get("trials", [])) == 2)
    finally:
        assert stop_server(server) == 0  # the trials go on running on the cluster
    server = start_server(home, *flags, env=env)
    try:
        deadline = time.monotonic() + 120
        while (job := httpx.get(f"{server.url}/v1/{name}").json())["state"] != (
            "JOB_STATE_SUCCEEDED"
        ):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert [t["state"] for t in job["trials"]] == ["SUCCEEDED", "SUCCEEDED"]
        assert all(len(t["measurements"]) == 3 for t in job["trials"])
    finally:
        stop_server(server)
