"""The StudySpec ↔ Optuna mapping: distributions, conversions, conditions and names."""

from __future__ import annotations

import statistics

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from tests.algorithms.conftest import (
    MIXED,
    WITH_DOUBLES,
    categorical,
    check_suggestion,
    discrete,
    double,
    integer,
    study,
    with_children,
)
from tuneyard.algorithms import ParameterNode, RandomSearch, SearchSpace
from tuneyard.model import ParameterValue


def _node(parameter: dict[str, object]) -> ParameterNode:
    return SearchSpace.from_study(study([parameter])).roots[0]


@pytest.mark.parametrize(
    ("parameter", "distribution"),
    [
        (double("x", 0.5, 2.0), FloatDistribution(0.5, 2.0)),
        (double("x", 0.5, 2.0, "SCALE_TYPE_UNSPECIFIED"), FloatDistribution(0.5, 2.0)),
        (double("x", 0.5, 2.0, "UNIT_LOG_SCALE"), FloatDistribution(0.5, 2.0, log=True)),
        (double("x", 0.5, 2.0, "UNIT_REVERSE_LOG_SCALE"), FloatDistribution(0.5, 2.0, log=True)),
        (integer("n", 1, 9), IntDistribution(1, 9)),
        (integer("n", 1, 9, "UNIT_LOG_SCALE"), IntDistribution(1, 9, log=True)),
        (integer("n", 1, 9, "UNIT_REVERSE_LOG_SCALE"), IntDistribution(1, 9, log=True)),
        (categorical("c", "a", "b"), CategoricalDistribution(("a", "b"))),
        (discrete("d", 0.1, 0.2, 0.5), IntDistribution(0, 2)),
    ],
)
def test_each_kind_and_scale_maps_to_an_optuna_distribution(
    parameter: dict[str, object], distribution: object
) -> None:
    assert _node(parameter).distribution == distribution


def test_reverse_log_values_are_mirrored_for_optuna() -> None:
    node = _node(double("x", 1.0, 100.0, "UNIT_REVERSE_LOG_SCALE"))
    assert node.to_optuna(90.0) == pytest.approx(11.0)
    assert node.from_optuna(11.0) == pytest.approx(90.0)
    assert node.from_optuna(1.0) == 100.0 and node.from_optuna(100.0) == 1.0
    ints = _node(integer("n", 2, 50, "UNIT_REVERSE_LOG_SCALE"))
    assert ints.to_optuna(45) == 7 and ints.from_optuna(7) == 45
    assert type(ints.from_optuna(7)) is int


def test_discrete_values_map_to_their_index_and_back_exactly() -> None:
    node = _node(discrete("d", 0.1, 0.2, 0.5, 16.0))
    assert [node.from_optuna(i) for i in range(4)] == [0.1, 0.2, 0.5, 16.0]
    assert node.to_optuna(0.5) == 2
    assert node.to_optuna(16) == 3
    assert node.to_optuna(0.5 + 5e-11) == 2  # Vertex's epsilon
    assert node.to_optuna(0.3) is None


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        (double("x", 0.0, 1.0), 1.5),
        (double("x", 0.0, 1.0), "0.5"),
        (integer("n", 1, 9), 10),
        (integer("n", 1, 9), 2.5),
        (integer("n", 1, 9), True),
        (categorical("c", "a", "b"), "z"),
        (discrete("d", 1.0, 2.0), "1.0"),
    ],
)
def test_values_outside_the_spec_are_not_mapped(
    parameter: dict[str, object], value: object
) -> None:
    assert _node(parameter).to_optuna(value) is None


def test_integral_floats_are_integers() -> None:
    assert _node(integer("n", 1, 9)).to_optuna(3.0) == 3


def test_optuna_names_are_paths_that_never_collide() -> None:
    space = SearchSpace.from_study(MIXED)
    names = []
    pending = list(space.roots)
    while pending:
        node = pending.pop()
        names.append(node.name)
        pending.extend(child.node for child in node.children)
    assert len(names) == len(set(names)) == 9
    model = space.roots[0]
    assert model.name == "model"
    assert model.children[1].node.name == "model [1] depth"
    layers = model.children[2].node
    assert [c.node.name for c in layers.children] == [
        "model [2] layers [0] units",
        "model [2] layers [1] units",
    ]


def test_encode_and_canonical_follow_only_active_children() -> None:
    space = SearchSpace.from_study(MIXED)
    trial_values: dict[str, ParameterValue] = {
        "model": "net",
        "layers": 3.0,
        "units": 128,
        "depth": 5,
        "batch": 32,
        "epochs": 4,
    }
    params, distributions = space.encode(trial_values)
    assert params == {
        "model": "net",
        "model [2] layers": 3,
        "model [2] layers [1] units": 128,
        "batch": 1,
        "epochs": 2,  # reverse log over [1, 5]: 1 + 5 - 4
    }
    assert set(distributions) == set(params)
    assert space.canonical(trial_values) == {
        "model": "net",
        "layers": 3,
        "units": 128,
        "batch": 32.0,
        "epochs": 4,
    }


def test_random_values_are_legal_and_children_appear_only_when_active() -> None:
    suggestions = RandomSearch().suggest(WITH_DOUBLES, [], 400, seed=2)
    for suggestion in suggestions:
        check_suggestion(WITH_DOUBLES, suggestion)
        if suggestion["model"] == "net":
            low, high = (8, 16) if suggestion["layers"] == 1 else (64, 256)
            assert low <= int(suggestion["units"]) <= high
    models = {s["model"] for s in suggestions}
    assert models == {"linear", "tree", "net"}
    assert {s["layers"] for s in suggestions if "layers" in s} == {1, 2, 3, 4}
    assert {"yes", "no"} == {s["accumulate"] for s in suggestions if "accumulate" in s}
    assert all(("accumulate" in s) == (s["batch"] == 128.0) for s in suggestions)


def test_discrete_parents_match_within_epsilon() -> None:
    spec = study(
        [
            with_children(
                discrete("rate", 0.1, 0.3),
                ("parentDiscreteValues", [0.1 + 2e-11], integer("warmup", 1, 3)),
            )
        ]
    )
    for suggestion in RandomSearch().suggest(spec, [], 40, seed=0):
        assert ("warmup" in suggestion) == (suggestion["rate"] == 0.1)


def _medians(scale: str) -> tuple[float, float]:
    spec = study([double("x", 1.0, 100.0, scale), integer("n", 1, 100, scale)])
    suggestions = RandomSearch().suggest(spec, [], 1500, seed=4)
    return (
        statistics.median(float(s["x"]) for s in suggestions),
        statistics.median(float(s["n"]) for s in suggestions),
    )


def test_linear_scale_is_uniform() -> None:
    x, n = _medians("UNIT_LINEAR_SCALE")
    assert 44 < x < 57 and 44 < n < 57


def test_log_scale_crowds_towards_the_minimum() -> None:
    # log-uniform on [1, 100]: the median is 10.
    x, n = _medians("UNIT_LOG_SCALE")
    assert 7 < x < 14 and 5 < n < 14


def test_reverse_log_scale_crowds_towards_the_maximum() -> None:
    # mirrored log-uniform on [1, 100]: the median is 101 - 10 = 91.
    x, n = _medians("UNIT_REVERSE_LOG_SCALE")
    assert 87 < x < 94 and 87 < n < 96
