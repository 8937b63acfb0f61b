"""Optuna's GPSampler with our acquisition search: a trust region, cheaper wide INTEGER handling.

Optuna's GPSampler scores ``n_preliminary_samples`` uniform candidates with the acquisition
function, then runs gradient-based local searches from the best one, the incumbent and points
drawn by a roulette over the rest. We keep its model (Matern 5/2 with ARD, log EI and q-batch log
EI) and that scheme, with these changes (docs/algorithms.md has the numbers):

- Wide INTEGER (and DISCRETE) parameters, with more than ``WIDE_INTEGER`` values, are searched as
  continuous and snapped to their nearest value at the end. Optuna moves every discrete
  dimension by a line search that evaluates the acquisition one point at a time; for an integer
  with hundreds of values that was half of a suggestion's time.
- With ``trust_region`` (the default's choice) the candidates and the local searches stay in a
  TuRBO-like box around the best trial (:mod:`.trust_region`), mapped onto the unit cube that the
  local search bounds.
- Optionally (``local_fraction`` > 0) part of the candidates form a cloud around the incumbent:
  Gaussian steps on the continuous dimensions with scales drawn log-uniformly between
  ``LOCAL_SCALES`` of the unit cube, a cheap multi-scale trust region. The benchmark did not
  show a gain, so the default leaves it off.
- Fewer candidates and local searches (set by the caller), for latency.
- Torch runs on one thread for the whole suggestion (:func:`one_torch_thread`). GPSampler limits
  torch only inside the kernel fit and the local searches; the rest (scoring the candidates, the
  Cholesky caches, the posterior) ran on torch's default pool, whose OpenMP threads spin when the
  cores are busy: on the loaded 2-core machine one suggestion at 100 trials took ~380 ms of CPU
  with two threads and ~100 ms with one. The matrices (at most a few hundred rows) are too small
  for a second thread to pay off even on an idle machine.

The overridden ``_optimize_acqf`` is GPSampler's documented extension point; it calls Optuna's
``local_search_mixed_batched``, a private function, so if a later Optuna lacks it we fall back to
GPSampler's own optimizer (and search the whole space). The trust region reads the fitted GP
from Optuna's acquisition objects (private attributes); other acquisition functions (several
metrics, constraints) search the whole space.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import GPSampler
from optuna.study import Study
from optuna.trial import FrozenTrial

from tuneyard.algorithms import trust_region

WIDE_INTEGER = 16
"""An INTEGER (or DISCRETE) parameter with more values than this is searched as continuous."""

LOCAL_SCALES = (0.005, 0.2)
"""Smallest and largest standard deviation of the local cloud's steps, in the unit cube."""

_threads_lock = threading.Lock()
_threads_users = 0
_threads_saved = 1


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block; restore the count after the last exit.

    ``torch.set_num_threads`` is process-wide, so concurrent suggestions (engine threads) share
    one count: the first to enter saves it and the last to leave restores it.
    """
    import torch  # loaded lazily, as GPSampler does

    global _threads_users, _threads_saved
    with _threads_lock:
        if _threads_users == 0:
            _threads_saved = torch.get_num_threads()
            torch.set_num_threads(1)
        _threads_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0:
                torch.set_num_threads(_threads_saved)


class TunedGPSampler(GPSampler):
    """A ``GPSampler`` with our acquisition optimizer (see the module).

    Args:
        seed: the random seed.
        n_startup_trials: finished trials drawn by the independent sampler first.
        n_candidates: uniform candidates scored per suggestion.
        local_fraction: how many local candidates per uniform one.
        n_local_search: gradient-based local searches per suggestion.
        qmc_samples: Monte Carlo samples of the q-batch acquisition functions (running trials).
        deterministic: fix the GP's noise at its minimum (noise-free objectives).
        trust_region: search the acquisition only in a TuRBO-like trust region around the best
            observation (:mod:`.trust_region`).
        trust_floor: the trust region's smallest side (None: TuRBO's restart below 2**-7).
        trust_min_dims: fewer continuous dimensions than this search the whole space.
    """

    def __init__(
        self,
        *,
        seed: int,
        n_startup_trials: int,
        n_candidates: int,
        local_fraction: float,
        n_local_search: int,
        qmc_samples: int,
        deterministic: bool,
        trust_region: bool = False,
        trust_floor: float | None = None,
        trust_min_dims: int = 1,
    ) -> None:
        super().__init__(
            seed=seed,
            n_startup_trials=n_startup_trials,
            deterministic_objective=deterministic,
            warn_independent_sampling=False,
        )
        self._n_preliminary_samples = n_candidates
        self._n_local_search = max(n_local_search, 2)
        self._n_qmc_samples_qei = qmc_samples
        self._n_qmc_samples_ehvi = qmc_samples
        self._local_fraction = local_fraction
        self._trust_region = trust_region
        self._trust_floor = trust_floor
        self._trust_min_dims = trust_min_dims

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """GPSampler's suggestion, with torch on one thread throughout (see the module)."""
        with one_torch_thread():
            params: dict[str, Any] = super().sample_relative(study, trial, search_space)
            return params

    def _optimize_acqf(self, acqf: Any, best_params: np.ndarray | None) -> np.ndarray:
        try:
            from optuna._gp.optim_mixed import local_search_mixed_batched
        except ImportError:  # pragma: no cover - another Optuna release
            return super()._optimize_acqf(acqf, best_params)
        original = acqf.search_space
        space, snap = _relaxed(original)
        acqf.search_space = space
        try:
            box = self._trust_box(acqf, space)
            if box is None:
                best = self._search(acqf, space, best_params, local_search_mixed_batched)
            else:
                boxed = trust_region.Boxed(acqf, *box)
                starts = None if best_params is None else boxed.to_cube(best_params)
                found = self._search(boxed, space, starts, local_search_mixed_batched)
                best = boxed.to_box(found)
        finally:
            acqf.search_space = original
        for index, choices in snap.items():
            best[index] = choices[int(np.argmin(np.abs(choices - best[index])))]
        return best

    def _trust_box(self, acqf: Any, space: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """The trust region's bounds in ``space`` (normalized), or None to search all of it."""
        if not self._trust_region or len(space.continuous_indices) < self._trust_min_dims:
            return None
        try:  # the fitted GP is read from private attributes of Optuna's acquisition objects
            model = trust_region.model_of(acqf)
            if model is None:
                return None
            length = trust_region.trust_length(model, self._n_startup_trials, self._trust_floor)
            return trust_region.trust_box(model, space.continuous_indices, length)
        except AttributeError:  # pragma: no cover - another Optuna release
            return None

    def _search(
        self, acqf: Any, space: Any, best_params: np.ndarray | None, local_search: Any
    ) -> np.ndarray:
        rng: np.random.RandomState = self._rng.rng
        uniform = space.sample_normalized_params(self._n_preliminary_samples, rng=rng)
        local = self._local_cloud(space, best_params, rng)
        candidates = np.vstack([uniform, local])
        values = np.asarray(acqf.eval_acqf_no_grad(candidates), dtype=float)
        chosen = [int(np.argmax(values[: len(uniform)]))]
        if len(local):
            chosen.append(len(uniform) + int(np.argmax(values[len(uniform) :])))
        incumbents = best_params if best_params is not None else np.empty((0, space.dim))
        spare = self._n_local_search - len(chosen) - len(incumbents)
        if spare > 0:
            weights = np.exp(values - values.max())
            weights[chosen] = 0.0
            if weights.sum() > 0:
                count = min(spare, int(np.count_nonzero(weights)))
                chosen += list(
                    rng.choice(
                        len(candidates), size=count, replace=False, p=weights / weights.sum()
                    )
                )
        starts = np.vstack([candidates[chosen], incumbents])
        best_xs, best_values = local_search(acqf, starts, tol=self._tol)
        return np.array(best_xs[int(np.argmax(best_values))])

    def _local_cloud(
        self, space: Any, best_params: np.ndarray | None, rng: np.random.RandomState
    ) -> np.ndarray:
        """Candidates around the incumbents: continuous dimensions moved, the others kept."""
        count = int(self._n_preliminary_samples * self._local_fraction)
        continuous = space.continuous_indices
        if best_params is None or len(best_params) == 0 or count == 0 or len(continuous) == 0:
            return np.empty((0, space.dim))
        centres = best_params[rng.randint(len(best_params), size=count)]
        low, high = np.log(LOCAL_SCALES[0]), np.log(LOCAL_SCALES[1])
        scales = np.exp(rng.uniform(low, high, size=(count, 1)))
        cloud = centres.copy()
        steps = rng.normal(size=(count, len(continuous))) * scales
        cloud[:, continuous] = np.clip(centres[:, continuous] + steps, 0.0, 1.0)
        return cloud


def _relaxed(space: Any) -> tuple[Any, dict[int, np.ndarray]]:
    """``space`` with wide numeric discrete dimensions made continuous, and their choices.

    Optuna's local search moves each discrete dimension by a line search with one acquisition
    evaluation at a time, which dominates a suggestion's time for an INTEGER with hundreds of
    values. Relaxed, such a dimension follows the gradient with the continuous ones and is
    snapped to its nearest value at the end.
    """
    choices = space.get_choices_of_discrete_params()
    indices = [int(i) for i in space.discrete_indices]
    wide = {
        i: values
        for i, values in zip(indices, choices, strict=True)
        if not space.is_categorical[i] and len(values) > WIDE_INTEGER
    }
    if not wide:
        return space, {}
    kept = [(i, values) for i, values in zip(indices, choices, strict=True) if i not in wide]
    relaxed = copy.copy(space)
    relaxed.discrete_indices = np.array([i for i, _ in kept], dtype=int)
    relaxed.continuous_indices = np.sort(
        np.concatenate([space.continuous_indices, list(wide)])
    ).astype(int)
    relaxed.get_choices_of_discrete_params = lambda: [values for _, values in kept]
    return relaxed, wide
