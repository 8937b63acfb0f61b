"""``ALGORITHM_UNSPECIFIED``: Bayesian optimization with a Gaussian process.

The model is Optuna's GPSampler (Matern 5/2 kernel with ARD, log expected improvement); we choose
how it starts and how its acquisition function is optimized (:mod:`.acquisition`). What each
choice did on the benchmark (``benchmarks/algorithms.py``) is in docs/algorithms.md.

Design choices:

- Start-up: the first trial of a study is the centre of the space (linear middle of DOUBLE and
  INTEGER ranges, geometric middle on log scales, the middle DISCRETE value, the first
  CATEGORICAL value); then parameters are drawn at random until ``n_startup_trials`` trials have
  finished with values, after which the GP suggests. Optuna's default waits for 10 random trials;
  modelling early is what wins the small budgets.
- Acquisition optimization (:class:`.acquisition.TunedGPSampler`): 512 uniform candidates and 3
  gradient-based local searches (Optuna: 2048 and 10); wide INTEGER parameters are searched as
  continuous and snapped, instead of a line search per value.
- Trust region (:mod:`.trust_region`): the acquisition is searched only in a TuRBO-like box
  around the best trial, each side scaled by the GP's length scale, growing after improvements
  and shrinking after failures down to ``trust_floor``. On the benchmark it sharpened the smooth
  ill-conditioned problems (f10) and the batched multimodal ones (f15, f21 in 2-D) most.
- Parallel suggestions. Optuna's GPSampler scores candidates with q-batch acquisition
  functions (qLogEI, or qLogEHVI for several metrics) that integrate over the outcomes of running
  trials, drawn jointly from the GP posterior, so a pending point lowers the value of candidates
  near it. Our running trials (REQUESTED, ACTIVE, STOPPING) enter the rebuilt study as RUNNING
  trials, and the suggestions asked earlier in the same call stay RUNNING too, so neither parallel
  slots nor one call's ``count`` pile onto one point. (A constant liar did no better in our trials,
  the pessimistic lie clearly worse.)
- Latency: fewer candidates, local searches and Monte Carlo samples (64 instead of 128 for the
  q-batch functions) than Optuna's defaults; torch runs on one thread for the whole suggestion
  (:mod:`.acquisition`), which cut a suggestion's CPU at 100 trials by more than half on the
  loaded 2-core machine, with the same suggestions; the Optuna study is rebuilt without Optuna's
  deep copy of every trial (:mod:`.history`).
- Several metrics: GPSampler is multi-objective natively (log expected hypervolume improvement).
- Conditional parameters: the GP models the parameters that every finished trial has (the
  intersection space); conditional children outside it are drawn at random, and only when their
  parent's value activates them.
- INFEASIBLE trials become failed Optuna trials, which the GP ignores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler

from tuneyard.algorithms.acquisition import TunedGPSampler
from tuneyard.algorithms.optuna_search import OptunaSearch
from tuneyard.algorithms.space import ParameterNode, SearchSpace
from tuneyard.model import StudySpec, Trial

DEFAULT_STARTUP_TRIALS = 3
"""Finished trials (the centre, then random ones) before the Gaussian process takes over."""


TRUST_FLOOR = 0.1
"""The trust region's smallest side, in the unit cube: it stops shrinking there."""


TRUST_MIN_DIMS = 3
"""Continuous dimensions from which the trust region is used: in 2-D the uniform candidates
cover the space densely, and the benchmark's 2-D problems did better without it."""


class BayesianOptimization(OptunaSearch):
    """The Vertex default: Gaussian-process Bayesian optimization, aware of running trials.

    Args:
        n_startup_trials: finished trials before the GP is used (the first is the centre).
        centre: start at the centre of the space.
        n_candidates: uniform candidates scored per suggestion.
        local_fraction: local candidates around the incumbent per uniform candidate.
        n_local_search: gradient-based local searches of the acquisition per suggestion.
        qmc_samples: Monte Carlo samples of the q-batch acquisition (with running trials).
        deterministic: treat the objective as noise-free.
        trust_region: search the acquisition in a TuRBO-like trust region around the best trial
            (:mod:`.trust_region`).
        trust_floor: the trust region's smallest side in the unit cube (None: TuRBO's restart
            below 2**-7).
        trust_min_dims: with fewer continuous dimensions, the whole space is searched.

    Example:
        >>> from tuneyard.model import StudySpec
        >>> spec = StudySpec.model_validate({"metrics": [{"metricId": "loss", "goal": "MINIMIZE"}],
        ...     "parameters": [{"parameterId": "x", "doubleValueSpec": {"minValue": -1,
        ...     "maxValue": 1}}]})
        >>> BayesianOptimization().suggest(spec, [], 2, seed=0)[0]
        {'x': 0.0}
    """

    def __init__(
        self,
        n_startup_trials: int = DEFAULT_STARTUP_TRIALS,
        *,
        centre: bool = True,
        n_candidates: int = 512,
        local_fraction: float = 0.0,
        n_local_search: int = 3,
        qmc_samples: int = 64,
        deterministic: bool = False,
        trust_region: bool = True,
        trust_floor: float | None = TRUST_FLOOR,
        trust_min_dims: int = TRUST_MIN_DIMS,
    ) -> None:
        self.n_startup_trials = n_startup_trials
        self.centre = centre
        self.n_candidates = n_candidates
        self.local_fraction = local_fraction
        self.n_local_search = n_local_search
        self.qmc_samples = qmc_samples
        self.deterministic = deterministic
        self.trust_region = trust_region
        self.trust_floor = trust_floor
        self.trust_min_dims = trust_min_dims

    def make_sampler(self, study: StudySpec, seed: int) -> BaseSampler:
        """A seeded :class:`~tuneyard.algorithms.acquisition.TunedGPSampler`."""
        return TunedGPSampler(
            seed=seed,
            n_startup_trials=self.n_startup_trials,
            n_candidates=self.n_candidates,
            local_fraction=self.local_fraction,
            n_local_search=self.n_local_search,
            qmc_samples=self.qmc_samples,
            deterministic=self.deterministic,
            trust_region=self.trust_region,
            trust_floor=self.trust_floor,
            trust_min_dims=self.trust_min_dims,
        )

    def fixed_points(self, space: SearchSpace, trials: Sequence[Trial]) -> list[dict[str, Any]]:
        """The centre of the space, for the first trial of a study."""
        if trials or not self.centre:
            return []
        point: dict[str, Any] = {}
        pending = list(space.roots)
        while pending:
            node = pending.pop()
            point[node.name] = _centre(node)
            pending.extend(node.active_children(node.from_optuna(point[node.name])))
        return [point]


def _centre(node: ParameterNode) -> Any:
    """The middle of a parameter's Optuna distribution (geometric on a log scale)."""
    distribution = node.distribution
    if isinstance(distribution, CategoricalDistribution):
        return distribution.choices[0]
    assert isinstance(distribution, (FloatDistribution, IntDistribution))
    low, high = float(distribution.low), float(distribution.high)
    middle = math.sqrt(low * high) if distribution.log else (low + high) / 2
    if isinstance(distribution, IntDistribution):
        return min(max(round(middle), distribution.low), distribution.high)
    return middle
