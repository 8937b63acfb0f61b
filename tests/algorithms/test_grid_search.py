"""GRID_SEARCH: the whole grid once, in a fixed order, conditional children included."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.algorithms.conftest import (
    MIXED,
    categorical,
    discrete,
    double,
    integer,
    study,
    trial,
    with_children,
)
from tuneyard.algorithms import GridSearch, grid_points
from tuneyard.model import ParameterValue, StudySpec, Trial, TrialState

FLAT = study(
    [
        integer("depth", 1, 3),
        categorical("act", "relu", "tanh"),
        discrete("batch", 16, 32),
    ],
    algorithm="GRID_SEARCH",
)


def _key(point: dict[str, ParameterValue]) -> frozenset[tuple[str, ParameterValue]]:
    return frozenset(point.items())


def _exhaust(
    algorithm: GridSearch, spec: StudySpec = FLAT, per_call: int = 5
) -> list[dict[str, ParameterValue]]:
    """Ask in rounds, recording every suggestion as a trial, until the grid runs out."""
    trials: list[Trial] = []
    while suggestions := algorithm.suggest(spec, trials, per_call, seed=len(trials)):
        assert len(suggestions) <= per_call
        trials += [
            trial(len(trials) + i + 1, s, TrialState.ACTIVE) for i, s in enumerate(suggestions)
        ]
    return [t.parameter_dict() for t in trials]


def test_enumerates_exactly_the_full_grid_then_nothing() -> None:
    points = _exhaust(GridSearch())
    expected = {
        _key({"depth": d, "act": a, "batch": b})
        for d, a, b in itertools.product([1, 2, 3], ["relu", "tanh"], [16.0, 32.0])
    }
    assert len(points) == 12
    assert {_key(p) for p in points} == expected
    assert all(type(p["depth"]) is int and type(p["batch"]) is float for p in points)


def test_order_is_fixed_first_parameter_slowest() -> None:
    first = GridSearch().suggest(FLAT, [], 4, seed=1)
    assert GridSearch().suggest(FLAT, [], 4, seed=99) == first
    assert first == [
        {"depth": 1, "act": "relu", "batch": 16.0},
        {"depth": 1, "act": "relu", "batch": 32.0},
        {"depth": 1, "act": "tanh", "batch": 16.0},
        {"depth": 1, "act": "tanh", "batch": 32.0},
    ]


def test_returns_fewer_than_asked_at_the_end() -> None:
    trials = [trial(i + 1, p) for i, p in enumerate(GridSearch().suggest(FLAT, [], 10, seed=0))]
    assert len(GridSearch().suggest(FLAT, trials, 10, seed=0)) == 2


@pytest.mark.parametrize("state", list(TrialState))
def test_points_of_existing_trials_in_any_state_are_not_repeated(state: TrialState) -> None:
    used = trial(1, {"depth": 1.0, "act": "relu", "batch": 16.0 + 1e-12}, state, score=1.0)
    suggestions = GridSearch().suggest(FLAT, [used], 20, seed=0)
    assert len(suggestions) == 11
    assert {"depth": 1, "act": "relu", "batch": 16.0} not in suggestions


def test_conditional_children_expand_only_under_active_parent_values() -> None:
    points = _exhaust(GridSearch(), MIXED, per_call=4000)
    model_points = 4 + 11 + (9 + 3 * 193)  # linear: l2; tree: depth; net: layers -> units
    batch_points = 3 + 2  # 16, 32, 64; 128 with accumulate yes/no
    assert len(points) == model_points * batch_points * 5
    assert len({_key(p) for p in points}) == len(points)
    for point in points:
        assert ("accumulate" in point) == (point["batch"] == 128.0)
        assert ("depth" in point) == (point["model"] == "tree")
        if point["model"] == "net":
            assert (8 <= int(point["units"]) <= 16) == (point["layers"] == 1)


def test_huge_integer_ranges_are_enumerated_lazily() -> None:
    spec = study([integer("seed", 0, 10**12), integer("n", 1, 10**9)], algorithm="GRID_SEARCH")
    start = time.perf_counter()
    used = [trial(1, {"seed": 0, "n": 1}, TrialState.SUCCEEDED, score=0.0)]
    suggestions = GridSearch().suggest(spec, used, 3, seed=0)
    assert time.perf_counter() - start < 1.0
    assert suggestions == [{"seed": 0, "n": 2}, {"seed": 0, "n": 3}, {"seed": 0, "n": 4}]
    assert next(itertools.islice(grid_points(spec), 10**5, None)) == {"seed": 0, "n": 10**5 + 1}


def test_discrete_children_of_discrete_parents() -> None:
    spec = study(
        [
            with_children(
                discrete("rate", 0.1, 0.3),
                ("parentDiscreteValues", [0.3], categorical("schedule", "cos", "step")),
            )
        ],
        algorithm="GRID_SEARCH",
    )
    assert _exhaust(GridSearch(), spec) == [
        {"rate": 0.1},
        {"rate": 0.3, "schedule": "cos"},
        {"rate": 0.3, "schedule": "step"},
    ]


def test_double_parameters_have_no_grid() -> None:
    with pytest.raises(ValueError, match="GRID_SEARCH"):
        GridSearch().suggest(study([double("x", 0, 1)]), [], 1, seed=0)
