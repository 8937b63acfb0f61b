"""Suggestion algorithms, built on Optuna, and the choice of final measurements and best trials.

:class:`Study` runs them in process (``from tuneyard import Study``).
``algorithm_for(study)`` returns the algorithm a study spec names: Bayesian optimization with a
Gaussian process (``ALGORITHM_UNSPECIFIED``), ``GRID_SEARCH`` or ``RANDOM_SEARCH``. Every
algorithm is stateless: ``suggest(study, trials, count, seed)`` rebuilds from its arguments.
"""

from __future__ import annotations

from tuneyard.algorithms.base import SuggestionAlgorithm
from tuneyard.algorithms.bayesian import BayesianOptimization
from tuneyard.algorithms.factory import algorithm_for
from tuneyard.algorithms.grid import GridSearch, grid_points
from tuneyard.algorithms.optuna_search import OptunaSearch, RandomSearch
from tuneyard.algorithms.selection import final_measurement, optimal_trials
from tuneyard.algorithms.space import (
    DISCRETE_EPSILON,
    ConditionalNode,
    ParameterNode,
    SearchSpace,
)
from tuneyard.algorithms.study import Study
from tuneyard.algorithms.study_trial import StudyTrial

__all__ = [
    "DISCRETE_EPSILON",
    "BayesianOptimization",
    "ConditionalNode",
    "GridSearch",
    "OptunaSearch",
    "ParameterNode",
    "RandomSearch",
    "SearchSpace",
    "Study",
    "StudyTrial",
    "SuggestionAlgorithm",
    "algorithm_for",
    "final_measurement",
    "grid_points",
    "optimal_trials",
]
