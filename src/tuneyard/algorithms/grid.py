"""``GRID_SEARCH``: every point of the grid once, in a fixed order, then nothing.

The grid is the product of the parameters' values (INTEGER: every integer from min to max;
DISCRETE and CATEGORICAL: their values, in spec order). A conditional child multiplies the grid
only under the parent values that activate it, so points never carry inactive parameters.

The grid is enumerated lazily, in the order of :func:`itertools.product` (the first parameter
varies slowest), so a parameter with a billion integers costs nothing until its points are
reached. A point that any existing trial already holds, whatever its state, is skipped; values are
compared after mapping them to the spec (DISCRETE within 1e-10, integral floats as integers).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from tuneyard.algorithms.base import SuggestionAlgorithm
from tuneyard.algorithms.space import ParameterNode, SearchSpace
from tuneyard.model import ParameterValue, StudySpec, Trial

Point = dict[str, ParameterValue]


def _point_key(point: Point) -> frozenset[tuple[str, ParameterValue]]:
    return frozenset(point.items())


def _subgrid(node: ParameterNode) -> Iterator[Point]:
    """The assignments of ``node`` and of the children each of its values activates."""
    for value in node.grid_values():
        for rest in _product(list(node.active_children(value))):
            yield {node.parameter_id: value, **rest}


def _product(nodes: Sequence[ParameterNode]) -> Iterator[Point]:
    """The product of the nodes' subgrids, first node slowest; no subgrid is materialised."""
    if not nodes:
        yield {}
        return
    for first in _subgrid(nodes[0]):
        for rest in _product(nodes[1:]):
            yield {**first, **rest}


def grid_points(study: StudySpec) -> Iterator[Point]:
    """Every point of the study's grid, lazily, in enumeration order.

    Raises:
        ValueError: when a parameter is DOUBLE (validation refuses that for GRID_SEARCH).
    """
    return _product(SearchSpace.from_study(study).roots)


class GridSearch(SuggestionAlgorithm):
    """``GRID_SEARCH``: the next ``count`` grid points that no trial holds yet.

    The ``seed`` is not used: the order is fixed by the spec. Returns fewer than ``count``
    suggestions (an empty list at the end) once the grid is exhausted. Stateless and thread-safe.

    Example:
        >>> from tuneyard.model import StudySpec
        >>> spec = StudySpec.model_validate({"metrics": [{"metricId": "acc"}], "parameters": [
        ...     {"parameterId": "depth", "integerValueSpec": {"minValue": 1, "maxValue": 2}},
        ...     {"parameterId": "act", "categoricalValueSpec": {"values": ["relu", "tanh"]}}]})
        >>> GridSearch().suggest(spec, [], 3, seed=0)
        [{'depth': 1, 'act': 'relu'}, {'depth': 1, 'act': 'tanh'}, {'depth': 2, 'act': 'relu'}]

    Raises:
        ValueError: when a parameter is DOUBLE.
    """

    def suggest(
        self, study: StudySpec, trials: Sequence[Trial], count: int, seed: int
    ) -> list[dict[str, ParameterValue]]:
        """Return up to ``count`` unused grid points (see :class:`SuggestionAlgorithm`)."""
        if count <= 0:
            return []
        space = SearchSpace.from_study(study)
        used = {_point_key(space.canonical(trial.parameter_dict())) for trial in trials}
        suggestions: list[dict[str, ParameterValue]] = []
        for point in _product(space.roots):
            if _point_key(point) in used:
                continue
            suggestions.append(point)
            if len(suggestions) == count:
                break
        return suggestions
