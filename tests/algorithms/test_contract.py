"""The SuggestionAlgorithm contract, run against every algorithm."""

from __future__ import annotations

import optuna
import pytest

from tests.algorithms.conftest import MIXED, WITH_DOUBLES, check_suggestion, trial
from tuneyard.algorithms import (
    BayesianOptimization,
    GridSearch,
    RandomSearch,
    SuggestionAlgorithm,
    algorithm_for,
)
from tuneyard.model import Algorithm, StudySpec, Trial, TrialState

ALGORITHMS = [
    pytest.param(BayesianOptimization(), id="bayesian"),
    pytest.param(BayesianOptimization(n_startup_trials=2), id="bayesian-past-startup"),
    pytest.param(RandomSearch(), id="random"),
    pytest.param(GridSearch(), id="grid"),
]
"""Each algorithm, Bayesian optimization also with the GP in use from the third trial on."""


def _specs(algorithm: SuggestionAlgorithm) -> list[StudySpec]:
    return [MIXED] if isinstance(algorithm, GridSearch) else [MIXED, WITH_DOUBLES]


def _history(algorithm: SuggestionAlgorithm, spec: StudySpec) -> list[Trial]:
    """Six trials in every state, with parameters the algorithm itself suggested."""
    suggestions = algorithm.suggest(spec, [], 6, seed=11)
    states = [
        TrialState.SUCCEEDED,
        TrialState.SUCCEEDED,
        TrialState.INFEASIBLE,
        TrialState.SUCCEEDED,
        TrialState.ACTIVE,
        TrialState.STOPPING,
    ]
    trials = []
    for index, (parameters, state) in enumerate(zip(suggestions, states, strict=True)):
        metrics = {"score": float(index)} if state == TrialState.SUCCEEDED else {}
        trials.append(trial(index + 1, parameters, state, **metrics))
    return trials


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_suggestions_hold_exactly_the_active_parameters_with_legal_values(
    algorithm: SuggestionAlgorithm,
) -> None:
    for spec in _specs(algorithm):
        history = _history(algorithm, spec)
        suggestions = algorithm.suggest(spec, history, 5, seed=3)
        assert len(suggestions) == 5
        for suggestion in [*suggestions, *(t.parameter_dict() for t in history)]:
            check_suggestion(spec, suggestion)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_arguments_give_same_suggestions(algorithm: SuggestionAlgorithm) -> None:
    for spec in _specs(algorithm):
        history = _history(algorithm, spec)
        first = algorithm.suggest(spec, history, 3, seed=5)
        assert algorithm.suggest(spec, history, 3, seed=5) == first
        assert algorithm.suggest(spec, list(history), 3, seed=5) == first


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_zero_count_gives_nothing(algorithm: SuggestionAlgorithm) -> None:
    assert algorithm.suggest(MIXED, [], 0, seed=1) == []


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_running_trials_are_not_repeated_within_a_small_space(
    algorithm: SuggestionAlgorithm,
) -> None:
    """Grid search skips the running points; the others just stay legal."""
    spec = MIXED.model_copy(
        update={
            "parameters": [
                MIXED.parameters[2].model_copy(update={"conditional_parameter_specs": []})
            ]
        }
    )
    running = [
        trial(1, {"epochs": 1}, TrialState.ACTIVE),
        trial(2, {"epochs": 2}, TrialState.ACTIVE),
    ]
    suggestions = algorithm.suggest(spec, running, 2, seed=0)
    for suggestion in suggestions:
        check_suggestion(spec, suggestion)
    if isinstance(algorithm, GridSearch):
        assert [s["epochs"] for s in suggestions] == [3, 4]


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        (Algorithm.ALGORITHM_UNSPECIFIED, BayesianOptimization),
        (Algorithm.GRID_SEARCH, GridSearch),
        (Algorithm.RANDOM_SEARCH, RandomSearch),
    ],
)
def test_algorithm_for_follows_the_spec(algorithm: Algorithm, expected: type) -> None:
    assert isinstance(algorithm_for(StudySpec(algorithm=algorithm)), expected)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_optuna_stays_quiet_and_its_log_level_unchanged(
    algorithm: SuggestionAlgorithm, capfd: pytest.CaptureFixture[str]
) -> None:
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        algorithm.suggest(
            WITH_DOUBLES if not isinstance(algorithm, GridSearch) else MIXED, [], 2, 0
        )
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(optuna.logging.INFO)
    assert "study created" not in capfd.readouterr().err
