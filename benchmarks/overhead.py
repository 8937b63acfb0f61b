"""Orchestration overhead: tuneyard running N no-op trials vs a bare process pool.

Both sides run the same command (a Python process that reports one metric with the real
cloudml-hypertune library) N times, P at a time, in this one run, in pairs (bare, tuneyard)
alternating which goes first, after a short warm-up of each. The ratio quoted is the median over
the pairs of each pair's ratio: the two runs of a pair are adjacent in time, so a drift in the
machine's speed (on these machines a no-op Python process costs 30 to 40 ms of CPU from one
minute to the next) cancels. Each process starts in a session of its own on both sides, as
tuneyard starts every replica: with the kernel's autogroup scheduling a session is a scheduling
group, so on a machine that also runs other work this keeps the two sides' share of the CPU
alike. Prints a markdown table; the ratio is tuneyard's wall time over the bare pool's.

A second table says where the CPU went, per trial: the trial processes themselves (on the
bare side the pool's children, from ``getrusage``; on tuneyard's the supervisor's reaped
children, from ``/proc/<supervisor>/stat``), and what runs them (the pool's threads; the engine
and the supervisor). With the trials filling both cores, the ratio is about one plus what
tuneyard adds per trial over a no-op trial's own CPU.

    python benchmarks/overhead.py [--trials 200] [--parallel 4] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tuneyard.engine import Controller, JobLeases
from tuneyard.model import JobState, job_from_dict
from tuneyard.runtime import LocalExecutor
from tuneyard.store import open_store

ENGINE_CPU: list[float] = []
MACHINE_CPU: dict[str, list[float]] = {"bare": [], "tuneyard": []}
# Per run, CPU seconds: the trial processes, and what ran them besides the engine.
TRIALS_CPU: dict[str, list[float]] = {"bare": [], "tuneyard": []}
RUNNER_CPU: dict[str, list[float]] = {"bare": [], "tuneyard": []}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
NOOP = (
    "import hypertune; "
    "hypertune.HyperTune().report_hyperparameter_tuning_metric('score', 1.0, global_step=1)"
)


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy since boot, all cores (``/proc/stat``):
    the difference over a run counts every process of it, the trials' and the supervisor's
    included."""
    with open("/proc/stat") as file:
        fields = [int(v) for v in file.readline().split()[1:]]
    busy = sum(fields[:3]) + sum(fields[5:8])  # user nice system, irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def bare_pool(trials: int, parallel: int, workdir: Path) -> float:
    """Wall time of running the no-op command ``trials`` times, ``parallel`` at a time."""

    def one(index: int) -> int:
        env = dict(os.environ, CLOUD_ML_HP_METRIC_FILE=str(workdir / f"bare-{index}.metrics"))
        command = [sys.executable, "-c", NOOP]
        return subprocess.run(command, env=env, check=True, start_new_session=True).returncode

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_started = time.process_time()
    started = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, range(trials)))
    elapsed = time.perf_counter() - started
    RUNNER_CPU["bare"].append(time.process_time() - cpu_started)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    TRIALS_CPU["bare"].append(
        after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    )
    return elapsed


def _process_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of process ``pid`` itself, and of its children that it has reaped."""
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) / CLOCK_TICKS for v in fields[11:15])
    return utime + stime, cutime + cstime


def tuneyard_run(trials: int, parallel: int, workdir: Path, algorithm: str) -> float:
    """Wall time of a tuneyard job of ``trials`` no-op trials at ``parallel``, SQLite store,
    driven as ``tuneyard run`` drives it (under the job's lease)."""
    os.environ["TUNEYARD_HOME"] = str(workdir / "home")
    job = job_from_dict(
        {
            "displayName": "overhead",
            "studySpec": {
                "metrics": [{"metricId": "score", "goal": "MAXIMIZE"}],
                "parameters": [
                    {"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}
                ],
                "algorithm": algorithm,
            },
            "maxTrialCount": trials,
            "parallelTrialCount": parallel,
            "trialJobSpec": {
                "workerPoolSpecs": [
                    {
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
    store = open_store(f"sqlite:///{workdir / 'overhead.db'}")
    executor = LocalExecutor()
    try:
        controller = Controller(store, executor, leases=JobLeases(store))
        created, _ = controller.submit(job, claim=True)
        started = time.perf_counter()
        cpu_started = time.process_time()
        snapshot = controller.run(created.name)
        elapsed = time.perf_counter() - started
        ENGINE_CPU.append(time.process_time() - cpu_started)
        assert snapshot.job.state == JobState.JOB_STATE_SUCCEEDED, snapshot.job.error
        assert len(snapshot.records) == trials
        supervisor = executor.supervisor_pid
        assert supervisor is not None
        own, reaped = _process_cpu(supervisor)  # one supervisor per executor: this run's
        RUNNER_CPU["tuneyard"].append(own)
        TRIALS_CPU["tuneyard"].append(reaped)
        return elapsed
    finally:
        executor.close()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--algorithm", default="RANDOM_SEARCH")
    args = parser.parse_args()
    bare: list[float] = []
    ours: list[float] = []
    # One folder for every run, removed only at the end: on this machine's ext4, creating
    # folders cost two to three times more right after thousands were deleted (measured by
    # hand), so cleaning up one run between pairs would slow the next (tuneyard's side more).
    with tempfile.TemporaryDirectory() as tmp:
        warm_up = Path(tmp) / "warm-up"  # imports, caches, compiled SQL
        warm_up.mkdir()
        bare_pool(8, args.parallel, warm_up)
        tuneyard_run(8, args.parallel, warm_up, args.algorithm)
        for kept in (ENGINE_CPU, *TRIALS_CPU.values(), *RUNNER_CPU.values()):
            kept.clear()
        for repeat in range(args.repeats):
            workdir = Path(tmp) / f"run-{repeat}"
            workdir.mkdir()
            order = ("bare", "tuneyard") if repeat % 2 == 0 else ("tuneyard", "bare")
            for side in order:
                busy = machine_busy_seconds()
                if side == "bare":
                    bare.append(bare_pool(args.trials, args.parallel, workdir))
                else:
                    ours.append(tuneyard_run(args.trials, args.parallel, workdir, args.algorithm))
                MACHINE_CPU[side].append(machine_busy_seconds() - busy)
    b, t = statistics.median(bare), statistics.median(ours)
    ratios = sorted(o / r for o, r in zip(ours, bare, strict=True))
    print(
        f"{args.trials} no-op trials, {args.parallel} at a time, {args.algorithm}, "
        f"median of {args.repeats} runs\n"
    )
    cpu_b, cpu_t = (1000 * statistics.median(MACHINE_CPU[s]) / args.trials for s in MACHINE_CPU)
    print("| runner | wall time (s) | per trial (ms) | machine CPU per trial (ms) |")
    print("|---|---:|---:|---:|")
    print(f"| bare process pool | {b:.2f} | {1000 * b / args.trials:.1f} | {cpu_b:.1f} |")
    print(
        f"| tuneyard (local executor, SQLite) | {t:.2f} | {1000 * t / args.trials:.1f} "
        f"| {cpu_t:.1f} |"
    )
    cpu = statistics.median(ENGINE_CPU)
    spread = ", ".join(f"{r:.2f}" for r in ratios)
    print(
        f"\nratio tuneyard / bare: **{statistics.median(ratios):.2f}** (median of the pairs' "
        f"ratios: {spread}); the engine's own CPU time: "
        f"{1000 * cpu / args.trials:.1f} ms per trial ({cpu:.2f} s in all)"
    )

    def per_trial(values: list[float]) -> str:
        return f"{1000 * statistics.median(values) / args.trials:.2f}"

    print("\nCPU per trial (ms, medians):\n")
    print("| runner | the trial processes | what runs them |")
    print("|---|---:|---:|")
    print(
        f"| bare process pool | {per_trial(TRIALS_CPU['bare'])} | {per_trial(RUNNER_CPU['bare'])} |"
    )
    print(
        f"| tuneyard | {per_trial(TRIALS_CPU['tuneyard'])} | "
        f"{per_trial(ENGINE_CPU)} (engine) + {per_trial(RUNNER_CPU['tuneyard'])} (supervisor) |"
    )


if __name__ == "__main__":
    main()
