"""Which suggestion algorithm a study spec asks for."""

from __future__ import annotations

from tuneyard.algorithms.base import SuggestionAlgorithm
from tuneyard.algorithms.bayesian import BayesianOptimization
from tuneyard.algorithms.grid import GridSearch
from tuneyard.algorithms.optuna_search import RandomSearch
from tuneyard.model import Algorithm, StudySpec


def algorithm_for(study: StudySpec) -> SuggestionAlgorithm:
    """The algorithm for ``study.algorithm``.

    ``ALGORITHM_UNSPECIFIED`` is Bayesian optimization, as on Vertex.

    Example:
        >>> from tuneyard.model import Algorithm, StudySpec
        >>> type(algorithm_for(StudySpec(algorithm=Algorithm.RANDOM_SEARCH))).__name__
        'RandomSearch'
    """
    if study.algorithm == Algorithm.GRID_SEARCH:
        return GridSearch()
    if study.algorithm == Algorithm.RANDOM_SEARCH:
        return RandomSearch()
    return BayesianOptimization()
