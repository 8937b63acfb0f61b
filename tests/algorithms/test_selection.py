"""Final measurements (BEST, LAST, UNSPECIFIED) and optimal trials (best, Pareto front)."""

from __future__ import annotations

import math

import pytest

from tests.algorithms.conftest import measurement, study, trial
from tuneyard.algorithms import final_measurement, optimal_trials
from tuneyard.model import Measurement, StudySpec, Trial, TrialState

MAXIMIZE = [{"metricId": "acc", "goal": "MAXIMIZE"}, {"metricId": "loss", "goal": "MINIMIZE"}]
MINIMIZE = [{"metricId": "loss", "goal": "MINIMIZE"}, {"metricId": "acc", "goal": "MAXIMIZE"}]

HISTORY = [
    measurement(1, acc=0.50, loss=0.9),
    measurement(2, acc=0.90, loss=0.2),
    measurement(3, loss=0.1),  # lacks the first metric when acc is first
    measurement(4, acc=0.70, loss=0.4),
    measurement(5, acc=0.90, loss=0.3),
]


def _spec(metrics: list[dict[str, str]], selection: str) -> StudySpec:
    return study([], metrics=metrics, selection=selection)


def _step(spec: StudySpec, measurements: list[Measurement]) -> int | None:
    chosen = final_measurement(spec, measurements)
    return None if chosen is None else chosen.step_count


def test_best_measurement_follows_the_first_metric_goal() -> None:
    assert _step(_spec(MAXIMIZE, "BEST_MEASUREMENT"), HISTORY) == 2  # earliest of equal bests
    assert _step(_spec(MINIMIZE, "BEST_MEASUREMENT"), HISTORY) == 3


@pytest.mark.parametrize(
    "selection", ["LAST_MEASUREMENT", "MEASUREMENT_SELECTION_TYPE_UNSPECIFIED"]
)
def test_last_and_unspecified_take_the_last_measurement_with_the_first_metric(
    selection: str,
) -> None:
    assert _step(_spec(MAXIMIZE, selection), HISTORY) == 5
    assert _step(_spec(MAXIMIZE, selection), HISTORY[:3]) == 2
    assert _step(_spec(MINIMIZE, selection), HISTORY) == 5


def test_the_chosen_measurement_is_kept_whole() -> None:
    chosen = final_measurement(_spec(MAXIMIZE, "BEST_MEASUREMENT"), HISTORY)
    assert chosen == HISTORY[1]


def test_goal_unspecified_means_maximize() -> None:
    spec = _spec([{"metricId": "acc"}], "BEST_MEASUREMENT")
    assert _step(spec, HISTORY) == 2


def test_nan_is_never_best() -> None:
    spec = _spec(MAXIMIZE, "BEST_MEASUREMENT")
    assert _step(spec, [measurement(1, acc=math.nan), measurement(2, acc=0.1)]) == 2
    assert _step(spec, [measurement(1, acc=0.1), measurement(2, acc=math.nan)]) == 1


@pytest.mark.parametrize("selection", ["BEST_MEASUREMENT", "LAST_MEASUREMENT"])
def test_no_measurement_with_the_first_metric_gives_none(selection: str) -> None:
    assert final_measurement(_spec(MAXIMIZE, selection), []) is None
    assert final_measurement(_spec(MAXIMIZE, selection), [measurement(1, loss=0.1)]) is None
    assert final_measurement(_spec([], selection), HISTORY) is None


def _scored(trial_id: int, state: TrialState = TrialState.SUCCEEDED, **metrics: float) -> Trial:
    return trial(trial_id, {}, state, **metrics)


def test_single_metric_gives_the_best_succeeded_trial() -> None:
    spec = _spec([{"metricId": "loss", "goal": "MINIMIZE"}], "LAST_MEASUREMENT")
    trials = [
        _scored(1, loss=0.5),
        _scored(2, TrialState.INFEASIBLE, loss=0.01),
        _scored(3, TrialState.ACTIVE, loss=0.01),
        _scored(4, loss=0.3),
        _scored(5),
        _scored(6, loss=math.nan),
    ]
    assert [t.id for t in optimal_trials(spec, trials)] == ["4"]


def test_ties_go_to_the_lowest_trial_id_numerically() -> None:
    spec = _spec([{"metricId": "acc"}], "LAST_MEASUREMENT")
    trials = [_scored(10, acc=0.9), _scored(9, acc=0.9), _scored(11, acc=0.5)]
    assert [t.id for t in optimal_trials(spec, trials)] == ["9"]


def test_several_metrics_give_the_pareto_front_in_id_order() -> None:
    spec = _spec(MAXIMIZE, "LAST_MEASUREMENT")  # maximize acc, minimize loss
    trials = [
        _scored(5, acc=0.9, loss=0.5),  # front: best acc
        _scored(1, acc=0.8, loss=0.2),  # front
        _scored(2, acc=0.7, loss=0.3),  # dominated by 1
        _scored(3, acc=0.6, loss=0.1),  # front: best loss
        _scored(4, acc=0.8, loss=0.2),  # equal to 1: neither dominates
        _scored(6, acc=0.95),  # lacks loss: left out
        _scored(7, TrialState.INFEASIBLE, acc=1.0, loss=0.0),
    ]
    assert [t.id for t in optimal_trials(spec, trials)] == ["1", "3", "4", "5"]


def test_no_qualifying_trials_give_an_empty_list() -> None:
    assert optimal_trials(_spec(MAXIMIZE, "LAST_MEASUREMENT"), []) == []
    assert optimal_trials(_spec([], "LAST_MEASUREMENT"), [_scored(1, acc=1.0)]) == []
