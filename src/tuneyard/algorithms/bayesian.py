"""``ALGORITHM_UNSPECIFIED``: Bayesian optimization with a Gaussian process (Optuna's GPSampler).

Design choices:

- Parallel suggestions. Optuna's GPSampler (v5) scores candidates with q-batch acquisition
  functions (qLogEI, or qLogEHVI for several metrics) that integrate over the outcomes of running
  trials, drawn jointly from the GP posterior, so a pending point lowers the value of candidates
  near it. Our running trials (REQUESTED, ACTIVE, STOPPING) enter the rebuilt study as RUNNING
  trials, and the suggestions asked earlier in the same call stay RUNNING too, so neither parallel
  slots nor one call's ``count`` pile onto one point. We use this instead of a constant liar or a
  kriging believer: those fake objective values, and in our trials on a 2-D and a 4-D test
  function a constant liar did no better than the native q-batch functions (the pessimistic
  lie clearly worse).
- Latency. The q-batch functions are costly on CPU, and most suggestions are asked while other
  trials run. We halve the acquisition optimizer's local searches (10 to 5) and its Monte Carlo
  samples for q-batch functions (128 to 64), which roughly halves the time of a suggestion with
  no measurable loss on those test functions. These are GPSampler's private tuning attributes,
  so they are set only when present; another Optuna release at worst runs at its own defaults.
  GPSampler itself limits torch to one thread while it works.
- Several metrics: GPSampler is multi-objective natively (log expected hypervolume improvement).
- Start-up: until ``n_startup_trials`` trials have finished with values, parameters are drawn at
  random (running trials do not count).
- Conditional parameters: the GP models the parameters that every finished trial has (the
  intersection space); conditional children outside it are drawn at random, and only when their
  parent's value activates them.
- INFEASIBLE trials become failed Optuna trials, which the GP ignores.
"""

from __future__ import annotations

from optuna.samplers import BaseSampler, GPSampler

from tuneyard.algorithms.optuna_search import OptunaSearch
from tuneyard.model import StudySpec

DEFAULT_STARTUP_TRIALS = 10
"""Finished trials drawn at random before the Gaussian process takes over (GPSampler's default)."""

_ACQUISITION_BUDGET = {"_n_local_search": 5, "_n_qmc_samples_qei": 64, "_n_qmc_samples_ehvi": 64}
"""GPSampler's private acquisition-optimization settings that we lower for latency."""


class BayesianOptimization(OptunaSearch):
    """The Vertex default: Gaussian-process Bayesian optimization, aware of running trials.

    Args:
        n_startup_trials: how many finished trials are drawn at random before the GP is used.

    Example:
        >>> from tuneyard.model import StudySpec
        >>> spec = StudySpec.model_validate({"metrics": [{"metricId": "loss", "goal": "MINIMIZE"}],
        ...     "parameters": [{"parameterId": "x", "doubleValueSpec": {"minValue": -1,
        ...     "maxValue": 1}}]})
        >>> suggestions = BayesianOptimization().suggest(spec, [], 2, seed=0)
        >>> len(suggestions)
        2
    """

    def __init__(self, n_startup_trials: int = DEFAULT_STARTUP_TRIALS) -> None:
        self.n_startup_trials = n_startup_trials

    def make_sampler(self, study: StudySpec, seed: int) -> BaseSampler:
        """A seeded ``GPSampler`` that does not warn about random draws of conditional children."""
        sampler = GPSampler(
            seed=seed, n_startup_trials=self.n_startup_trials, warn_independent_sampling=False
        )
        for name, value in _ACQUISITION_BUDGET.items():
            if isinstance(getattr(sampler, name, None), int):
                setattr(sampler, name, value)
        return sampler
