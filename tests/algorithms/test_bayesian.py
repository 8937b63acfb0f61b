"""ALGORITHM_UNSPECIFIED: Gaussian-process Bayesian optimization through Optuna's GPSampler."""

from __future__ import annotations

import itertools
import math
import statistics
from typing import Any

import pytest
from optuna.samplers import BaseSampler

from tests.algorithms.conftest import (
    categorical,
    check_suggestion,
    discrete,
    double,
    integer,
    study,
    trial,
)
from tuneyard.algorithms import BayesianOptimization, RandomSearch, SuggestionAlgorithm
from tuneyard.algorithms.acquisition import TunedGPSampler, one_torch_thread
from tuneyard.model import ParameterValue, StudySpec, Trial, TrialState

QUADRATIC = study(
    [double("x", -1.0, 1.0), double("y", -1.0, 1.0)],
    metrics=[{"metricId": "loss", "goal": "MINIMIZE"}],
)


def _loss(parameters: dict[str, ParameterValue]) -> float:
    return (float(parameters["x"]) - 0.3) ** 2 + (float(parameters["y"]) + 0.2) ** 2


def _run(algorithm: SuggestionAlgorithm, seed: int, n: int) -> list[Trial]:
    """``n`` trials one at a time, as an engine with one parallel slot would run them."""
    trials: list[Trial] = []
    for number in range(1, n + 1):
        [parameters] = algorithm.suggest(QUADRATIC, trials, 1, seed=seed)
        trials.append(trial(number, parameters, loss=_loss(parameters)))
    return trials


def _best(trials: list[Trial]) -> float:
    return min(_loss(t.parameter_dict()) for t in trials)


def test_the_gaussian_process_beats_random_search_on_a_quadratic() -> None:
    seeds = [0, 1]
    random_bests = [_best(_run(RandomSearch(), seed, 25)) for seed in seeds]
    for seed in seeds:
        assert _best(_run(BayesianOptimization(), seed, 25)) < statistics.median(random_bests) / 20


def _distance(a: dict[str, ParameterValue], b: dict[str, ParameterValue]) -> float:
    return math.dist((float(a["x"]), float(a["y"])), (float(b["x"]), float(b["y"])))


def test_parallel_suggestions_spread_around_running_trials() -> None:
    history = _run(BayesianOptimization(), 3, 12)
    running = BayesianOptimization().suggest(QUADRATIC, history, 3, seed=3)
    history += [trial(13 + i, p, TrialState.ACTIVE) for i, p in enumerate(running)]
    suggestions = BayesianOptimization().suggest(QUADRATIC, history, 4, seed=3)
    assert len(suggestions) == 4
    points = running + suggestions
    assert min(_distance(a, b) for a, b in itertools.combinations(points, 2)) > 1e-3


def test_several_metrics_are_optimized_together() -> None:
    spec = study(
        [double("x", 0.0, 1.0), integer("n", 1, 8), discrete("d", 0.5, 1.0, 2.0)],
        metrics=[
            {"metricId": "error", "goal": "MINIMIZE"},
            {"metricId": "speed"},  # GOAL_TYPE_UNSPECIFIED means MAXIMIZE
        ],
    )
    seeds = RandomSearch().suggest(spec, [], 12, seed=0)
    history = [
        trial(i + 1, p, error=float(p["x"]) ** 2, speed=float(p["x"]) * float(p["d"]))
        for i, p in enumerate(seeds)
    ]
    history.append(trial(13, seeds[0], TrialState.ACTIVE))
    suggestions = BayesianOptimization().suggest(spec, history, 2, seed=1)
    assert suggestions == BayesianOptimization().suggest(spec, history, 2, seed=1)
    for suggestion in suggestions:
        check_suggestion(spec, suggestion)
    assert suggestions[0] != suggestions[1]


@pytest.mark.parametrize(
    ("state", "metrics"),
    [
        pytest.param(TrialState.SUCCEEDED, {}, id="no-final-measurement"),
        pytest.param(TrialState.SUCCEEDED, {"loss": math.nan}, id="nan"),
        pytest.param(TrialState.SUCCEEDED, {"loss": math.inf}, id="infinite"),
        pytest.param(TrialState.SUCCEEDED, {"other": 1.0}, id="wrong-metric"),
        pytest.param(TrialState.INFEASIBLE, {"loss": 0.0}, id="infeasible-with-value"),
    ],
)
def test_trials_without_a_usable_value_count_as_infeasible(
    state: TrialState, metrics: dict[str, float]
) -> None:
    history = _run(BayesianOptimization(), 0, 10)
    points = RandomSearch().suggest(QUADRATIC, [], 3, seed=9)
    unusable = [trial(11 + i, p, state, **metrics) for i, p in enumerate(points)]
    infeasible = [trial(11 + i, p, TrialState.INFEASIBLE) for i, p in enumerate(points)]
    suggestions = BayesianOptimization().suggest(QUADRATIC, history + unusable, 2, seed=0)
    for suggestion in suggestions:
        check_suggestion(QUADRATIC, suggestion)
    assert suggestions == BayesianOptimization().suggest(QUADRATIC, history + infeasible, 2, seed=0)


def test_with_only_failures_it_still_suggests() -> None:
    failed = [trial(i, {"x": 0.0, "y": 0.0}, TrialState.INFEASIBLE) for i in range(1, 15)]
    suggestions = BayesianOptimization().suggest(QUADRATIC, failed, 3, seed=0)
    assert len(suggestions) == 3
    for suggestion in suggestions:
        check_suggestion(QUADRATIC, suggestion)


def test_the_first_trial_is_the_centre_of_the_space() -> None:
    spec = study(
        [
            double("lr", 1e-4, 1e-2, "UNIT_LOG_SCALE"),
            double("x", -1.0, 3.0),
            integer("n", 1, 10),
            discrete("d", 0.5, 1.0, 2.0),
            categorical("act", "relu", "tanh"),
        ]
    )
    first, second = BayesianOptimization().suggest(spec, [], 2, seed=0)
    assert first == {"lr": pytest.approx(1e-3), "x": 1.0, "n": 6, "d": 1.0, "act": "relu"}
    check_suggestion(spec, second)
    assert second != first
    later = BayesianOptimization().suggest(spec, [trial(1, first, score=1.0)], 1, seed=0)
    assert later != [first]
    assert BayesianOptimization(centre=False).suggest(spec, [], 1, seed=0) != [first]


def test_the_gaussian_process_runs_torch_on_one_thread_and_restores_the_count() -> None:
    torch = pytest.importorskip("torch")
    seen: list[int] = []

    class Probe(TunedGPSampler):
        def _optimize_acqf(self, acqf: Any, best_params: Any) -> Any:
            seen.append(torch.get_num_threads())
            return super()._optimize_acqf(acqf, best_params)

    class ProbedOptimization(BayesianOptimization):
        def make_sampler(self, study: StudySpec, seed: int) -> BaseSampler:
            return Probe(
                seed=seed,
                n_startup_trials=3,
                n_candidates=64,
                local_fraction=0.0,
                n_local_search=2,
                qmc_samples=16,
                deterministic=False,
            )

    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        history = _run(BayesianOptimization(), 0, 5)
        history.append(trial(6, {"x": 0.5, "y": 0.5}, TrialState.ACTIVE))
        assert len(ProbedOptimization().suggest(QUADRATIC, history, 2, seed=0)) == 2
        assert seen == [1, 1]
        assert torch.get_num_threads() == 2
        with one_torch_thread():
            with one_torch_thread():
                assert torch.get_num_threads() == 1
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(saved)
