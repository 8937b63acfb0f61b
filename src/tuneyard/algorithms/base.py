"""The algorithm seam: a pure function from (study spec, trials, count, seed) to suggestions."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from tuneyard.model import ParameterValue, StudySpec, Trial


class SuggestionAlgorithm(abc.ABC):
    """Suggests parameter assignments for new trials.

    Contract:
        - Stateless: ``suggest`` rebuilds everything from its arguments, so a restarted engine or
          a second server gets the same behaviour. Instances may be shared across threads.
        - ``trials`` holds every trial of the job so far: finished ones (SUCCEEDED with a
          final measurement, INFEASIBLE) and running ones (ACTIVE, REQUESTED, STOPPING), so that
          parallel suggestions avoid points already being evaluated.
        - Each suggestion maps parameter id to value, with only the parameters that are active
          (a conditional child appears only when its parent's value is among its parent values).
          INTEGER values are ``int``, DOUBLE and DISCRETE ``float``, CATEGORICAL ``str``.
        - It may return fewer than ``count`` suggestions when the space is exhausted (grid
          search); an empty list means no new trial can be suggested.
        - The same arguments give the same suggestions.
    """

    @abc.abstractmethod
    def suggest(
        self, study: StudySpec, trials: Sequence[Trial], count: int, seed: int
    ) -> list[dict[str, ParameterValue]]:
        """Return up to ``count`` new parameter assignments."""
