"""The default algorithm's trust region, and the cheap rebuild of the Optuna study."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from optuna.samplers import BaseSampler, RandomSampler
from optuna.trial import TrialState as OptunaTrialState

from tests.algorithms.conftest import double, study, trial
from tuneyard.algorithms import BayesianOptimization, RandomSearch, trust_region
from tuneyard.algorithms.acquisition import TunedGPSampler
from tuneyard.algorithms.history import quiet_optuna, rebuild_study
from tuneyard.algorithms.space import SearchSpace
from tuneyard.model import ParameterValue, StudySpec, Trial, TrialState

torch = pytest.importorskip("torch")

PLANE = study(
    [double("x", 0.0, 1.0), double("y", 0.0, 1.0)],
    metrics=[{"metricId": "loss", "goal": "MINIMIZE"}],
)


def _loss(parameters: dict[str, ParameterValue]) -> float:
    return (float(parameters["x"]) - 0.7) ** 2 + 3 * (float(parameters["y"]) - 0.2) ** 2


def _history(n: int, seed: int = 0) -> list[Trial]:
    points = RandomSearch().suggest(PLANE, [], n, seed=seed)
    return [trial(i + 1, p, loss=_loss(p)) for i, p in enumerate(points)]


def _model(values: list[float], dim: int = 2) -> trust_region.Model:
    """A real GP over ``len(values)`` random points with these (standardized) values."""
    from optuna._gp.gp import GPRegressor

    x = np.random.default_rng(0).uniform(size=(len(values), dim))
    gpr = GPRegressor(
        is_categorical=torch.zeros(dim, dtype=torch.bool),
        X_train=torch.from_numpy(x),
        y_train=torch.tensor(values, dtype=torch.float64),
        inverse_squared_lengthscales=torch.ones(dim, dtype=torch.float64),
        kernel_scale=torch.tensor(1.0, dtype=torch.float64),
        noise_var=torch.tensor(1e-2, dtype=torch.float64),
    )
    gpr._cache_matrix()
    return trust_region.Model(gpr)


def test_the_trust_region_grows_on_successes_and_shrinks_on_failures() -> None:
    initial, smallest, largest = trust_region.TRUST_LENGTHS
    startup = [0.0, 0.1, 0.2]
    assert trust_region.trust_length(_model(startup), 3) == initial
    improving = [*startup, 0.5, 0.6, 0.7]
    assert trust_region.trust_length(_model(improving), 3) == min(2 * initial, largest)
    # Two dimensions: four failures in a row halve the side; improvements of < 1e-3 fail.
    failing = [*improving, 0.7, 0.7005, -1.0, 0.0]
    assert trust_region.trust_length(_model(failing), 3) == min(2 * initial, largest) / 2
    stuck = startup + [0.0] * 4 * 7  # seven halvings: 0.8 / 128 < 2**-7
    assert trust_region.trust_length(_model(stuck), 3) == initial  # shrank past the minimum: reset
    assert trust_region.trust_length(_model(stuck), 3, floor=0.1) == 0.1
    assert smallest < 0.1


def test_the_trust_region_is_a_box_around_the_best_observation() -> None:
    model = _model([0.0, 3.0, 1.0, 2.0])
    x = model.gpr._X_train.numpy()
    low, high = trust_region.trust_box(model, np.array([0, 1]), 0.4)
    assert np.all(low <= x[1]) and np.all(x[1] <= high)
    assert np.allclose(high - low, 0.4) or np.any(low == 0.0) or np.any(high == 1.0)
    low, high = trust_region.trust_box(model, np.array([1]), 0.4)
    assert (low[0], high[0]) == (0.0, 1.0)


def _probed(
    enabled: bool, seen: list[tuple[Any, np.ndarray]], min_dims: int = 1
) -> BayesianOptimization:
    """The default algorithm, recording each trust region and the point it chose."""

    class Probe(TunedGPSampler):
        def _trust_box(self, acqf: Any, space: Any) -> tuple[np.ndarray, np.ndarray] | None:
            box = super()._trust_box(acqf, space)
            seen.append((box, np.empty(0)))
            return box

        def _optimize_acqf(self, acqf: Any, best_params: np.ndarray | None) -> np.ndarray:
            found = super()._optimize_acqf(acqf, best_params)
            seen[-1] = (seen[-1][0], found)
            return found

    class Probed(BayesianOptimization):
        def make_sampler(self, study: StudySpec, seed: int) -> BaseSampler:
            return Probe(
                seed=seed,
                n_startup_trials=3,
                n_candidates=128,
                local_fraction=0.0,
                n_local_search=3,
                qmc_samples=16,
                deterministic=False,
                trust_region=enabled,
                trust_min_dims=min_dims,
            )

    return Probed(trust_region=enabled)


@pytest.mark.parametrize("running", [0, 2])
def test_with_a_trust_region_suggestions_stay_inside_it(running: int) -> None:
    history = _history(12)
    pending = RandomSearch().suggest(PLANE, [], running, seed=5)
    history += [trial(13 + i, p, TrialState.ACTIVE) for i, p in enumerate(pending)]
    seen: list[tuple[Any, np.ndarray]] = []
    [suggestion] = _probed(True, seen).suggest(PLANE, history, 1, seed=0)
    [(box, found)] = seen
    low, high = box
    assert np.all(low <= found) and np.all(found <= high)
    assert np.any(high - low < 0.99)
    best = min(history[:12], key=lambda t: _loss(t.parameter_dict())).parameter_dict()
    assert low[0] <= best["x"] <= high[0] and low[1] <= best["y"] <= high[1]
    assert suggestion == {"x": pytest.approx(found[0]), "y": pytest.approx(found[1])}
    for enabled, min_dims in [(False, 1), (True, 3)]:  # off, or too few dimensions
        seen.clear()
        _probed(enabled, seen, min_dims).suggest(PLANE, history, 1, seed=0)
        assert seen[0][0] is None


def test_the_rebuilt_study_holds_the_trials_and_copies_them_apart() -> None:
    history = _history(4)
    history.append(trial(5, {"x": 0.5, "y": 0.5}, TrialState.ACTIVE))
    history.append(trial(6, {"x": 0.1, "y": 0.9}, TrialState.INFEASIBLE))
    space = SearchSpace.from_study(PLANE)
    with quiet_optuna():
        optuna_study = rebuild_study(PLANE, space, history, RandomSampler(seed=0))
    trials = optuna_study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [OptunaTrialState.COMPLETE] * 4 + [
        OptunaTrialState.RUNNING,
        OptunaTrialState.FAIL,
    ]
    assert [t.number for t in trials] == list(range(6))
    for ours, theirs in zip(history, trials, strict=True):
        assert theirs.params == ours.parameter_dict()
    assert [t.values for t in trials[:4]] == [[_loss(t.parameter_dict())] for t in history[:4]]
    clone = copy.deepcopy(trials[0])
    clone.params["x"] = -1.0
    clone.system_attrs["k"] = 1
    assert trials[0].params["x"] != -1.0 and "k" not in trials[0].system_attrs
