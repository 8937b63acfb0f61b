"""Median latency of one suggestion, by algorithm and by how many trials have finished.

Run it from the repository root::

    .venv/bin/python benchmarks/suggest_latency.py [--repeats 5]

It prints a markdown table. The study has four parameters (a linear DOUBLE, a log-scale DOUBLE,
an INTEGER and a CATEGORICAL) and one metric; finished trials carry the value of a smooth test
function at random points. "running" columns add three ACTIVE trials, the usual state of a job
with four parallel slots when one frees up. The first call of each algorithm is a warm-up (torch
and Optuna's GP modules load lazily) and is not timed.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Sequence

from tuneyard.algorithms import BayesianOptimization, RandomSearch, SuggestionAlgorithm
from tuneyard.model import (
    Measurement,
    MeasurementMetric,
    ParameterValue,
    StudySpec,
    Trial,
    TrialParameter,
    TrialState,
)

SPEC = StudySpec.model_validate(
    {
        "metrics": [{"metricId": "loss", "goal": "MINIMIZE"}],
        "parameters": [
            {"parameterId": "x", "doubleValueSpec": {"minValue": -5, "maxValue": 5}},
            {
                "parameterId": "lr",
                "doubleValueSpec": {"minValue": 1e-5, "maxValue": 1},
                "scaleType": "UNIT_LOG_SCALE",
            },
            {"parameterId": "units", "integerValueSpec": {"minValue": 8, "maxValue": 512}},
            {"parameterId": "act", "categoricalValueSpec": {"values": ["relu", "tanh", "gelu"]}},
        ],
    }
)
FINISHED = (10, 50, 100)
RUNNING = 3


def loss(parameters: dict[str, ParameterValue]) -> float:
    """A smooth test function of the four parameters, least at x=1, lr=1e-3, units=128, tanh."""
    x, lr, units = float(parameters["x"]), float(parameters["lr"]), float(parameters["units"])
    return (
        (x - 1) ** 2
        + (math.log10(lr) + 3) ** 2
        + (math.log2(units) - 7) ** 2
        + (0.0 if parameters["act"] == "tanh" else 1.0)
    )


def history(finished: int, running: int) -> list[Trial]:
    """``finished`` SUCCEEDED trials at random points, then ``running`` ACTIVE ones."""
    points = RandomSearch().suggest(SPEC, [], finished + running, seed=2024)
    trials = []
    for number, parameters in enumerate(points, start=1):
        done = number <= finished
        trials.append(
            Trial(
                id=str(number),
                state=TrialState.SUCCEEDED if done else TrialState.ACTIVE,
                parameters=[TrialParameter(parameter_id=k, value=v) for k, v in parameters.items()],
                final_measurement=Measurement(
                    metrics=[MeasurementMetric(metric_id="loss", value=loss(parameters))]
                )
                if done
                else None,
            )
        )
    return trials


def median_ms(algorithm: SuggestionAlgorithm, trials: Sequence[Trial], repeats: int) -> float:
    """The median wall time of ``repeats`` one-suggestion calls, each with another seed."""
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        algorithm.suggest(SPEC, trials, 1, seed=seed)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per cell")
    args = parser.parse_args(argv)
    algorithms: list[tuple[str, SuggestionAlgorithm]] = [
        ("default (GP)", BayesianOptimization()),
        ("RANDOM_SEARCH", RandomSearch()),
    ]
    header = ["algorithm"]
    for finished in FINISHED:
        header += [f"{finished} finished", f"{finished} + {RUNNING} running"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, algorithm in algorithms:
        algorithm.suggest(SPEC, history(FINISHED[0], RUNNING), 1, seed=0)  # warm-up
        cells = [name]
        for finished in FINISHED:
            for running in (0, RUNNING):
                trials = history(finished, running)
                cells.append(f"{median_ms(algorithm, trials, args.repeats):.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    sys.stdout.write("Median latency of one suggestion (ms), 4 parameters:\n\n")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
