"""Throughput: no-op trials per second with the local executor, Ray on one node, Ray on two nodes.

Each configuration runs one job of N no-op trials (a Python process that reports one metric with
the real cloudml-hypertune library), P at a time, through the real engine and a SQLite store, and
reports trials per second of wall time and the engine's own CPU time per trial (the controller,
the store and, for Ray, the Ray driver's threads: the scheduling overhead per trial). The Ray
cluster is started here on loopback aliases (head 127.0.0.2, worker 127.0.0.3, 2 CPUs each, each
trial asking for 1 CPU) and stopped at the end; only its own processes are touched.

    python benchmarks/throughput.py [--trials 40] [--parallel 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test cluster helper

from tests.runtime.ray_cluster import HEAD_IP, RAY_ENV, WORKER_IP, RayCluster

from tuneyard.engine import Controller
from tuneyard.model import JobState, job_from_dict
from tuneyard.runtime import Executor, LocalExecutor, RayExecutor
from tuneyard.store import open_store

NOOP = (
    "import hypertune; "
    "hypertune.HyperTune().report_hyperparameter_tuning_metric('score', 1.0, global_step=1)"
)


def run_job(executor: Executor, trials: int, parallel: int, workdir: Path) -> tuple[float, float]:
    """Wall time and engine CPU time of one job of ``trials`` no-op trials."""
    job = job_from_dict(
        {
            "displayName": "throughput",
            "studySpec": {
                "metrics": [{"metricId": "score", "goal": "MAXIMIZE"}],
                "parameters": [
                    {"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}
                ],
                "algorithm": "RANDOM_SEARCH",
            },
            "maxTrialCount": trials,
            "parallelTrialCount": parallel,
            "trialJobSpec": {
                "workerPoolSpecs": [
                    {
                        "machineSpec": {"machineType": "n1-standard-4"},
                        "replicaCount": 1,
                        "containerSpec": {
                            "imageUri": "local",
                            "command": [sys.executable, "-c", NOOP + " # "],
                        },
                    }
                ]
            },
        }
    )
    store = open_store(f"sqlite:///{workdir / f'throughput-{time.monotonic_ns()}.db'}")
    try:
        controller = Controller(store, executor)
        created, _ = controller.submit(job)
        started, cpu_started = time.perf_counter(), time.process_time()
        snapshot = controller.run(created.name)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        assert snapshot.job.state == JobState.JOB_STATE_SUCCEEDED, snapshot.job.error
        assert len(snapshot.records) == trials
        return elapsed, cpu
    finally:
        store.close()


def measure(
    label: str, make: Callable[[], Executor], args: argparse.Namespace, workdir: Path
) -> str:
    executor = make()
    try:
        run_job(executor, min(args.parallel, args.trials), args.parallel, workdir)  # warm up
        wall, cpu = run_job(executor, args.trials, args.parallel, workdir)
    finally:
        executor.close()
    per_second = args.trials / wall
    return f"| {label} | {wall:.1f} | {per_second:.2f} | {1000 * cpu / args.trials:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="tyr-bench-", dir="/tmp"))
    os.environ["TUNEYARD_HOME"] = str(workdir / "engine-home")
    os.environ.update(RAY_ENV)
    rows = [measure("local executor", LocalExecutor, args, workdir)]
    cluster = RayCluster(workdir)
    one_cpu = {"*": {"CPU": 1.0}}
    try:
        cluster.start("head", HEAD_IP)
        import ray

        ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
        rows.append(measure("Ray, 1 node", lambda: RayExecutor(resources=one_cpu), args, workdir))
        cluster.start("worker", WORKER_IP)
        rows.append(measure("Ray, 2 nodes", lambda: RayExecutor(resources=one_cpu), args, workdir))
        ray.shutdown()
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{args.trials} no-op trials, {args.parallel} at a time, RANDOM_SEARCH, SQLite store\n")
    print("| executor | wall time (s) | trials per second | engine CPU per trial (ms) |")
    print("|---|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
