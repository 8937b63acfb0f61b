"""Problems, optimizer runners and the report of ``benchmarks/algorithms.py``."""

from __future__ import annotations

import ast
import math
import statistics
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import numpy as np

BUDGETS = (20, 35, 50)
ML_BUDGETS = (10, 20, 30)
REGRET_FLOOR = 1e-12
"""Normalized regrets below this count as this (a log10 of -12) so that logs stay finite."""


@dataclass(frozen=True)
class Problem:
    """A minimization problem: a study spec, the objective and what normalizes its regret."""

    name: str
    spec: dict[str, Any]
    evaluate: Callable[[Mapping[str, Any]], float]
    evals: int
    f_opt: float | None = None
    f_median: float | None = None

    def regret(self, best: float) -> float:
        """The normalized regret of ``best`` (the raw value when the optimum is unknown)."""
        if self.f_opt is None or self.f_median is None:
            return best
        return max((best - self.f_opt) / (self.f_median - self.f_opt), REGRET_FLOOR)


def _spec(parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metrics": [{"metricId": "value", "goal": "MINIMIZE"}], "parameters": parameters}


@cache
def make_problem(name: str) -> Problem:
    """``f<id>-d<dim>`` (a BBOB function, instance 1) or ``svc``."""
    if name == "svc":
        return _svc_problem()
    function, dim = (int(part[1:]) for part in name.split("-"))
    from cocoex.bare_problem import BareProblem  # type: ignore[import-untyped]

    bbob = BareProblem("bbob", function, dim, 1)
    names = [f"x{i}" for i in range(dim)]
    spec = _spec(
        [{"parameterId": n, "doubleValueSpec": {"minValue": -5, "maxValue": 5}} for n in names]
    )
    uniform = np.random.default_rng(0).uniform(-5, 5, size=(10_000, dim))
    f_median = float(np.median([bbob(x) for x in uniform]))

    def evaluate(parameters: Mapping[str, Any]) -> float:
        return float(bbob(np.array([float(parameters[n]) for n in names])))

    return Problem(name, spec, evaluate, 50, float(bbob.best_value()), f_median)


@cache
def _digits() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    return tuple(train_test_split(x / 16.0, y, test_size=0.4, random_state=0))


def _svc_problem() -> Problem:
    spec = _spec(
        [
            {
                "parameterId": "C",
                "doubleValueSpec": {"minValue": 1e-3, "maxValue": 1e3},
                "scaleType": "UNIT_LOG_SCALE",
            },
            {
                "parameterId": "gamma",
                "doubleValueSpec": {"minValue": 1e-5, "maxValue": 10},
                "scaleType": "UNIT_LOG_SCALE",
            },
            {
                "parameterId": "kernel",
                "categoricalValueSpec": {"values": ["rbf", "poly", "sigmoid"]},
            },
            {"parameterId": "degree", "integerValueSpec": {"minValue": 2, "maxValue": 5}},
            {"parameterId": "coef0", "doubleValueSpec": {"minValue": 0, "maxValue": 1}},
        ]
    )

    def evaluate(parameters: Mapping[str, Any]) -> float:
        from sklearn.svm import SVC

        x_train, x_test, y_train, y_test = _digits()
        model = SVC(
            C=parameters["C"],
            gamma=parameters["gamma"],
            kernel=parameters["kernel"],
            degree=parameters["degree"],
            coef0=parameters["coef0"],
            max_iter=100_000,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x_train, y_train)
        return 1.0 - float(model.score(x_test, y_test))

    return Problem("svc", spec, evaluate, 30)


class Runner(Protocol):
    def ask(self) -> tuple[Any, dict[str, Any]]: ...
    def tell(self, handle: Any, value: float) -> None: ...
    def inject(self, parameters: Mapping[str, Any], value: float) -> None: ...


class StudyRunner:
    """tuneyard's algorithms through :class:`tuneyard.Study`."""

    def __init__(self, spec: dict[str, Any], seed: int, algorithm: Any = None) -> None:
        from tuneyard import Study

        self.study = Study(spec, seed, algorithm=algorithm)

    def ask(self) -> tuple[Any, dict[str, Any]]:
        [trial] = self.study.suggest(1)
        return trial.id, trial.parameters

    def tell(self, handle: Any, value: float) -> None:
        self.study.complete(handle, {"value": value})

    def inject(self, parameters: Mapping[str, Any], value: float) -> None:
        self.study.add_trial(parameters, {"value": value})


class OptunaRunner:
    """An Optuna sampler used natively (one study, ask and tell)."""

    def __init__(self, spec: dict[str, Any], sampler: Any) -> None:
        import optuna

        from tuneyard.algorithms import SearchSpace
        from tuneyard.model import StudySpec

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space = SearchSpace.from_study(StudySpec.model_validate(spec))
        self.study = optuna.create_study(sampler=sampler, direction="minimize")

    def ask(self) -> tuple[Any, dict[str, Any]]:
        trial = self.study.ask()
        return trial, self.space.sample(trial)

    def tell(self, handle: Any, value: float) -> None:
        self.study.tell(handle, value)

    def inject(self, parameters: Mapping[str, Any], value: float) -> None:
        import optuna

        params, distributions = self.space.encode(parameters)
        self.study.add_trial(
            optuna.trial.create_trial(params=params, distributions=distributions, value=value)
        )


def make_runner(algorithm: str, problem: Problem, seed: int) -> Runner:
    """``default``, ``default:key=value/key=value``, ``random``, ``tpe`` or ``gp``."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if algorithm == "default":
            return StudyRunner(problem.spec, seed)
        if algorithm.startswith("default:"):
            from tuneyard.algorithms import BayesianOptimization

            pairs = (item.split("=", 1) for item in algorithm.split(":", 1)[1].split("/"))
            kwargs = {key: ast.literal_eval(value) for key, value in pairs}
            return StudyRunner(problem.spec, seed, BayesianOptimization(**kwargs))
        if algorithm == "random":
            return OptunaRunner(problem.spec, optuna.samplers.RandomSampler(seed=seed))
        if algorithm == "tpe":
            return OptunaRunner(problem.spec, optuna.samplers.TPESampler(seed=seed))
        if algorithm == "gp":
            return OptunaRunner(problem.spec, optuna.samplers.GPSampler(seed=seed))
        raise ValueError(f"unknown algorithm {algorithm!r}")


# --- the report ---------------------------------------------------------------------------------


def _best_so_far(values: Sequence[float]) -> list[float]:
    return list(np.minimum.accumulate(np.asarray(values, dtype=float)))


def _median_regret(
    records: Mapping[str, dict[str, Any]],
    problem: Problem,
    algorithm: str,
    mode: str,
    seeds: int,
    budget: int,
) -> float | None:
    regrets = []
    for seed in range(seeds):
        record = records.get(f"{algorithm}|{problem.name}|{mode}|{seed}")
        if record is None:
            return None
        regrets.append(problem.regret(_best_so_far(record["values"])[budget - 1]))
    return statistics.median(regrets)


def _ranks(values: list[float]) -> list[float]:
    from scipy.stats import rankdata

    return [float(r) for r in rankdata(values)]


def report(
    tasks: Sequence[Any],
    records: Mapping[str, dict[str, Any]],
    problems: Mapping[str, Problem],
    algorithms: Sequence[str],
    modes: Sequence[str],
    latency: Mapping[str, Mapping[int, float]],
    png: str,
) -> str:
    """The markdown tables of the benchmark; also writes the regret-curve PNG to ``png``."""
    seeds = 1 + max(t.seed for t in tasks)
    bbob = [p for p in problems.values() if p.f_opt is not None]
    lines: list[str] = []
    for mode in modes:
        table = {
            (a, p.name, b): _median_regret(records, p, a, mode, seeds, b)
            for a in algorithms
            for p in bbob
            for b in BUDGETS
        }
        if bbob:
            lines += [f"### BBOB, {mode}: summary over {len(bbob)} problems, {seeds} seeds", ""]
            lines += [
                "| algorithm | mean rank @20 / 35 / 50 | median log10 regret @20 / 35 / 50 "
                "| beats random @50 | beats tpe @50 |",
                "|---|---|---|---|---|",
            ]
            ranks: dict[tuple[str, int], list[float]] = {}
            for budget in BUDGETS:
                for p in bbob:
                    row = [table[(a, p.name, budget)] for a in algorithms]
                    if any(v is None for v in row):
                        continue
                    for a, r in zip(
                        algorithms, _ranks([float(v) for v in row if v is not None]), strict=True
                    ):
                        ranks.setdefault((a, budget), []).append(r)
            for a in algorithms:
                mean_ranks = " / ".join(
                    f"{statistics.mean(ranks[(a, b)]):.2f}" if (a, b) in ranks else "-"
                    for b in BUDGETS
                )
                logs = []
                for b in BUDGETS:
                    vals = [table[(a, p.name, b)] for p in bbob]
                    ok = [math.log10(v) for v in vals if v is not None]
                    logs.append(f"{statistics.median(ok):.2f}" if ok else "-")
                wins = []
                for rival in ("random", "tpe"):
                    pairs = [
                        (x, y)
                        for p in bbob
                        if (x := table[(a, p.name, 50)]) is not None
                        and (y := table.get((rival, p.name, 50))) is not None
                    ]
                    wins.append(
                        f"{sum(x < y for x, y in pairs)}/{len(pairs)}"
                        if rival in algorithms and a != rival
                        else ""
                    )
                lines.append(f"| {a} | {mean_ranks} | {' / '.join(logs)} | {wins[0]} | {wins[1]} |")
            lines.append("")
            for budget in (20, 50):
                lines += [f"Median normalized regret at {budget} evaluations, {mode}:", ""]
                lines += [
                    "| problem | " + " | ".join(algorithms) + " |",
                    "|---|" + "---|" * len(algorithms),
                ]
                for p in bbob:
                    cells = [table[(a, p.name, budget)] for a in algorithms]
                    present = [c for c in cells if c is not None]
                    best = min(present) if present else None
                    text = [
                        ("-" if c is None else (f"**{c:.2e}**" if c == best else f"{c:.2e}"))
                        for c in cells
                    ]
                    lines.append(f"| {p.name} | " + " | ".join(text) + " |")
                lines.append("")
        if "svc" in problems:
            p = problems["svc"]
            lines += [
                f"SVC on digits, {mode}: median validation error at 10 / 20 / 30 evaluations:",
                "",
                "| algorithm | error |",
                "|---|---|",
            ]
            for a in algorithms:
                cells = [_median_regret(records, p, a, mode, seeds, b) for b in ML_BUDGETS]
                lines.append(
                    f"| {a} | " + " / ".join("-" if c is None else f"{c:.4f}" for c in cells) + " |"
                )
            lines.append("")
    if latency:
        lines += [
            "Median suggestion latency (ms), f15 in 4-D, after 10 / 50 / 100 observations:",
            "",
            "| algorithm | 10 | 50 | 100 |",
            "|---|---|---|---|",
        ]
        for a, times in latency.items():
            lines.append(
                f"| {a} | " + " | ".join(f"{times[n] * 1000:.0f}" for n in sorted(times)) + " |"
            )
        lines.append("")
    if bbob:
        _plot(records, bbob, algorithms, modes, seeds, png)
        lines.append(f"Regret curves: {png}\n")
    return "\n".join(lines)


def _plot(
    records: Mapping[str, dict[str, Any]],
    bbob: Sequence[Problem],
    algorithms: Sequence[str],
    modes: Sequence[str],
    seeds: int,
    png: str,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(modes), figsize=(6 * len(modes), 4.5), squeeze=False)
    for axis, mode in zip(axes[0], modes, strict=True):
        for a in algorithms:
            curves = []
            for p in bbob:
                per_seed = []
                for seed in range(seeds):
                    record = records.get(f"{a}|{p.name}|{mode}|{seed}")
                    if record is not None:
                        per_seed.append([p.regret(v) for v in _best_so_far(record["values"])])
                if len(per_seed) == seeds:
                    curves.append(np.log10(np.median(np.array(per_seed), axis=0)))
            if curves:
                median = np.median(np.array(curves), axis=0)
                axis.plot(np.arange(1, len(median) + 1), median, label=a)
        axis.set_title(f"BBOB, {len(bbob)} problems, {mode}")
        axis.set_xlabel("evaluations")
        axis.set_ylabel("median log10 normalized regret")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(png, dpi=110)
    plt.close(figure)
