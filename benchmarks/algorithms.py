"""Search quality of the default algorithm against Optuna's TPE and random search.

Run it from the repository root (needs the ``dev`` extra: coco-experiment, matplotlib)::

    .venv/bin/python benchmarks/algorithms.py                        # the whole grid, 1 process
    .venv/bin/python benchmarks/algorithms.py --problems f15,f21 --dims 4 --seeds 3 \\
        --algorithms default,default:n_startup_trials=5/centre=False,tpe --modes sequential

Problems: the BBOB functions f1, f7, f10, f15, f20, f21 of the COCO suite (``cocoex``'s
``BareProblem``, instance 1, bounds [-5, 5]) in 2, 4 and 8 dimensions, 50 evaluations each, and
``svc``: an SVM on scikit-learn's digits (log-scale C and gamma, the kernel, the polynomial
degree; validation error), 30 evaluations. Each runs sequentially (ask, evaluate, tell) and
batched (4 trials outstanding: a new one is suggested while 3 still run, completions in order).

Algorithms: ``default`` (tuneyard's ALGORITHM_UNSPECIFIED through :class:`tuneyard.Study`, the
engine's code), ``default:key=value/key=value`` (the same with ``BayesianOptimization``
arguments, to compare settings), ``random`` and ``tpe`` (Optuna's RandomSampler and
TPESampler with defaults, used natively), ``gp`` (Optuna's GPSampler with defaults, natively).

Normalized regret = (best f - f_opt) / (median f over 10,000 uniform points - f_opt), per
problem the median over seeds; the mean rank ranks the algorithms on each BBOB problem by that
median. Results go to a JSON-lines file (``--results``) and accumulate: runs already there are
not repeated, so settings can be compared over several invocations; the tables are printed and
written to ``--report`` in markdown, the regret curves to ``--png``. Every process runs torch on
one thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from algorithms_support import (
    Problem,
    make_problem,
    make_runner,
    report,
)

MODES = ("sequential", "batched")
OUTSTANDING = 4
LATENCY_OBS = (10, 50, 100)


@dataclass(frozen=True)
class Task:
    """One run: an algorithm on a problem in a mode with a seed."""

    algorithm: str
    problem: str
    mode: str
    seed: int

    @property
    def key(self) -> str:
        return f"{self.algorithm}|{self.problem}|{self.mode}|{self.seed}"


def run_task(task: Task) -> dict[str, Any]:
    """Run one task; the values in order of completion and each suggestion's latency."""
    import torch

    torch.set_num_threads(1)
    problem = make_problem(task.problem)
    runner = make_runner(task.algorithm, problem, task.seed)
    values: list[float] = []
    latencies: list[tuple[int, float]] = []
    outstanding: list[tuple[Any, dict[str, Any]]] = []
    width = 1 if task.mode == "sequential" else OUTSTANDING
    asked = 0
    while len(values) < problem.evals:
        while asked < problem.evals and len(outstanding) < width:
            start = time.perf_counter()
            outstanding.append(runner.ask())
            latencies.append((len(values), time.perf_counter() - start))
            asked += 1
        handle, parameters = outstanding.pop(0)
        value = problem.evaluate(parameters)
        runner.tell(handle, value)
        values.append(value)
    return {"key": task.key, "values": values, "latencies": latencies}


def measure_latency(algorithm: str, repeats: int) -> dict[int, float]:
    """Median seconds of one suggestion after 10 / 50 / 100 random observations of f15 in 4-D."""
    import torch

    torch.set_num_threads(1)
    problem = make_problem("f15-d4")
    rng = np.random.default_rng(0)
    points = rng.uniform(-5, 5, size=(max(LATENCY_OBS), 4))
    result = {}
    for observations in LATENCY_OBS:
        times = []
        for seed in range(repeats + 1):
            runner = make_runner(algorithm, problem, seed)
            for point in points[:observations]:
                parameters = {f"x{i}": float(v) for i, v in enumerate(point)}
                runner.inject(parameters, problem.evaluate(parameters))
            start = time.perf_counter()
            runner.ask()
            if seed:  # the first call warms up lazy imports
                times.append(time.perf_counter() - start)
        result[observations] = statistics.median(times)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="f1,f7,f10,f15,f20,f21,svc")
    parser.add_argument("--dims", default="2,4,8")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--algorithms", default="default,tpe,random")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--latency-repeats", type=int, default=5, help="0 skips the latency")
    parser.add_argument("--results", default="benchmarks/results/algorithms.jsonl")
    parser.add_argument("--report", default="benchmarks/results/algorithms.md")
    parser.add_argument("--png", default="docs/algorithms-regret.png")
    args = parser.parse_args(argv)

    algorithms = args.algorithms.split(",")
    problems = []
    for name in args.problems.split(","):
        if name.startswith("f") and "-d" not in name:
            problems += [f"{name}-d{d}" for d in args.dims.split(",")]
        else:
            problems.append(name)
    modes = args.modes.split(",")
    tasks = [
        Task(a, p, m, s)
        for a in algorithms
        for p in problems
        for m in modes
        for s in range(args.seeds)
    ]
    results_path = Path(args.results)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    done = _load(results_path)
    todo = [t for t in tasks if t.key not in done]
    sys.stderr.write(f"{len(tasks)} runs, {len(todo)} to do\n")
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    with context.Pool(args.processes) as pool, results_path.open("a") as out:
        for number, record in enumerate(pool.imap_unordered(run_task, todo), start=1):
            out.write(json.dumps(record) + "\n")
            out.flush()
            done[record["key"]] = record
            if number % 10 == 0 or number == len(todo):
                elapsed = time.perf_counter() - started
                sys.stderr.write(f"  {number}/{len(todo)} runs, {elapsed:.0f} s\n")
        latency = {}
        if args.latency_repeats:
            jobs = [(a, args.latency_repeats) for a in algorithms]
            for algorithm, times in zip(
                algorithms, pool.starmap(measure_latency, jobs), strict=True
            ):
                latency[algorithm] = times
    problem_objects: dict[str, Problem] = {p: make_problem(p) for p in problems}
    text = report(tasks, done, problem_objects, algorithms, modes, latency, args.png)
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(text)
    sys.stdout.write(text)
    return 0


def _load(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    records: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            records[record["key"]] = record
    return records


if __name__ == "__main__":
    raise SystemExit(main())
