"""Suggestion algorithms that ask an Optuna sampler, and random search, the simplest of them.

Each call maps the study spec with :class:`~tuneyard.algorithms.space.SearchSpace`, rebuilds an
in-memory Optuna study from the trials (:mod:`tuneyard.algorithms.history`), and asks it ``count``
times. The trials asked earlier in a call stay RUNNING in that study, so a sampler that considers
running trials spreads one call's suggestions the same way it spreads them over running trials.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from optuna.samplers import BaseSampler, RandomSampler

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


class RandomSearch(OptunaSearch):
    """``RANDOM_SEARCH``: each parameter drawn independently from its distribution.

    DOUBLE and INTEGER parameters are uniform on their scale (log scales uniform in the
    logarithm, reverse-log ones crowding towards the maximum); CATEGORICAL and DISCRETE values are
    equally likely. Past trials do not influence the draws, only the seed and the trial count do.

    Example:
        >>> from tuneyard.model import StudySpec
        >>> spec = StudySpec.model_validate({"metrics": [{"metricId": "acc"}], "parameters": [
        ...     {"parameterId": "units", "integerValueSpec": {"minValue": 8, "maxValue": 64}}]})
        >>> [s] = RandomSearch().suggest(spec, [], 1, seed=7)
        >>> 8 <= s["units"] <= 64
        True
    """

    def make_sampler(self, study: StudySpec, seed: int) -> BaseSampler:
        """An Optuna ``RandomSampler`` with ``seed``."""
        return RandomSampler(seed=seed)

    def history(self, study: StudySpec, trials: Sequence[Trial]) -> Sequence[Trial]:
        """None: random draws ignore past trials (only the seed moves with the trial count), so
        the study is not rebuilt, and a suggestion costs the same at trial 1000 as at trial 1."""
        return ()
