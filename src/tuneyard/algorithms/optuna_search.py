"""Suggestion algorithms that ask an Optuna sampler, and random search, which needs none.

Each call of an :class:`OptunaSearch` maps the study spec with
:class:`~tuneyard.algorithms.space.SearchSpace`, rebuilds an in-memory Optuna study from the trials
(:mod:`tuneyard.algorithms.history`), and asks it ``count`` times. The trials asked earlier in a
call stay RUNNING in that study, so a sampler that considers running trials spreads one call's
suggestions the same way it spreads them over running trials. :class:`RandomSearch` draws from the
same distributions with a NumPy generator directly.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler

from tuneyard.algorithms.base import SuggestionAlgorithm
from tuneyard.algorithms.history import derive_seed, quiet_optuna, rebuild_study
from tuneyard.algorithms.space import SearchSpace
from tuneyard.model import ParameterValue, StudySpec, Trial


class OptunaSearch(SuggestionAlgorithm, abc.ABC):
    """A suggestion algorithm backed by an Optuna sampler built afresh for every call.

    Subclasses only say which sampler to build. The sampler's seed is derived from ``seed`` and
    the number of trials, so equal arguments give equal suggestions and every call draws anew.
    Instances hold no state and may be shared across threads.
    """

    @abc.abstractmethod
    def make_sampler(self, study: StudySpec, seed: int) -> BaseSampler:
        """A new Optuna sampler for ``study``, seeded with ``seed``."""

    def suggest(
        self, study: StudySpec, trials: Sequence[Trial], count: int, seed: int
    ) -> list[dict[str, ParameterValue]]:
        """Return ``count`` new parameter assignments (see :class:`SuggestionAlgorithm`)."""
        if count <= 0:
            return []
        space = SearchSpace.from_study(study)
        with quiet_optuna():
            sampler = self.make_sampler(study, derive_seed(seed, trials))
            optuna_study = rebuild_study(study, space, self.history(study, trials), sampler)
            for params in self.fixed_points(space, trials)[:count]:
                optuna_study.enqueue_trial(params, skip_if_exists=False)
            return [space.sample(optuna_study.ask()) for _ in range(count)]

    def fixed_points(self, space: SearchSpace, trials: Sequence[Trial]) -> list[dict[str, Any]]:
        """Points (Optuna names to Optuna values) to suggest before asking the sampler: none."""
        return []

    def history(self, study: StudySpec, trials: Sequence[Trial]) -> Sequence[Trial]:
        """The trials the sampler learns from: all of them, unless the sampler ignores them."""
        return trials


class RandomSearch(SuggestionAlgorithm):
    """``RANDOM_SEARCH``: each parameter drawn independently from its distribution.

    DOUBLE and INTEGER parameters are uniform on their scale (log scales uniform in the
    logarithm, reverse-log ones crowding towards the maximum); CATEGORICAL and DISCRETE values are
    equally likely. Past trials do not influence the draws, only the seed and the trial count do.
    The draws come straight from a NumPy generator seeded with both, without an Optuna study, so a
    suggestion costs tens of microseconds, the same at trial 1000 as at trial 1.

    Example:
        >>> from tuneyard.model import StudySpec
        >>> spec = StudySpec.model_validate({"metrics": [{"metricId": "acc"}], "parameters": [
        ...     {"parameterId": "units", "integerValueSpec": {"minValue": 8, "maxValue": 64}}]})
        >>> [s] = RandomSearch().suggest(spec, [], 1, seed=7)
        >>> 8 <= s["units"] <= 64
        True
    """

    def suggest(
        self, study: StudySpec, trials: Sequence[Trial], count: int, seed: int
    ) -> list[dict[str, ParameterValue]]:
        """Return ``count`` new parameter assignments (see :class:`SuggestionAlgorithm`)."""
        if count <= 0:
            return []
        space = SearchSpace.from_study(study)
        rng = np.random.default_rng([seed & 0xFFFF_FFFF_FFFF_FFFF, len(trials)])
        return [_draw(space, rng) for _ in range(count)]


def _draw(space: SearchSpace, rng: np.random.Generator) -> dict[str, ParameterValue]:
    """One suggestion: every active parameter, parents before their children."""
    suggestion: dict[str, ParameterValue] = {}
    pending = list(reversed(space.roots))
    while pending:
        node = pending.pop()
        value = node.from_optuna(_draw_internal(node.distribution, rng))
        suggestion[node.parameter_id] = value
        pending.extend(reversed(list(node.active_children(value))))
    return suggestion


def _draw_internal(distribution: BaseDistribution, rng: np.random.Generator) -> Any:
    """An Optuna value of ``distribution``, uniform on its (log) scale."""
    if isinstance(distribution, FloatDistribution):
        low, high = distribution.low, distribution.high
        if distribution.log:
            drawn = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            drawn = float(rng.uniform(low, high))
        return min(max(drawn, low), high)
    if isinstance(distribution, IntDistribution):
        low_int, high_int = distribution.low, distribution.high
        if not distribution.log:
            return int(rng.integers(low_int, high_int, endpoint=True))
        # Uniform in the logarithm of [low - 0.5, high + 0.5], rounded: every integer reachable.
        drawn = math.exp(rng.uniform(math.log(low_int - 0.5), math.log(high_int + 0.5)))
        return min(max(round(drawn), low_int), high_int)
    if isinstance(distribution, CategoricalDistribution):
        return distribution.choices[int(rng.integers(len(distribution.choices)))]
    raise TypeError(f"unexpected distribution {distribution!r}")
