"""RANDOM_SEARCH: seeded, reproducible, independent of results."""

from __future__ import annotations

from tests.algorithms.conftest import WITH_DOUBLES, trial
from tuneyard.algorithms import RandomSearch
from tuneyard.model import TrialState


def test_same_spec_trials_count_and_seed_give_the_same_suggestions() -> None:
    history = [trial(1, {"lr": 0.01, "model": "tree", "depth": 3}, TrialState.ACTIVE)]
    first = RandomSearch().suggest(WITH_DOUBLES, history, 8, seed=42)
    assert RandomSearch().suggest(WITH_DOUBLES, history, 8, seed=42) == first
    assert len({repr(s) for s in first}) == 8


def test_another_seed_or_more_trials_give_other_suggestions() -> None:
    first = RandomSearch().suggest(WITH_DOUBLES, [], 3, seed=42)
    assert RandomSearch().suggest(WITH_DOUBLES, [], 3, seed=43) != first
    one_more = [trial(1, first[0], TrialState.ACTIVE)]
    assert RandomSearch().suggest(WITH_DOUBLES, one_more, 3, seed=42) != first[1:]


def test_a_larger_count_extends_the_same_draws() -> None:
    assert RandomSearch().suggest(WITH_DOUBLES, [], 5, seed=7)[:2] == RandomSearch().suggest(
        WITH_DOUBLES, [], 2, seed=7
    )


def test_results_do_not_change_the_draws() -> None:
    parameters = RandomSearch().suggest(WITH_DOUBLES, [], 1, seed=0)[0]
    good = [trial(1, parameters, TrialState.SUCCEEDED, score=1.0)]
    bad = [trial(1, parameters, TrialState.INFEASIBLE)]
    assert RandomSearch().suggest(WITH_DOUBLES, good, 4, seed=1) == RandomSearch().suggest(
        WITH_DOUBLES, bad, 4, seed=1
    )


def test_negative_and_huge_seeds_work() -> None:
    assert len(RandomSearch().suggest(WITH_DOUBLES, [], 1, seed=-1)) == 1
    assert len(RandomSearch().suggest(WITH_DOUBLES, [], 1, seed=4431052537453756416)) == 1
