"""The one mapping between a StudySpec's parameters and Optuna distributions.

Every parameter, conditional children included, becomes a :class:`ParameterNode` holding the
Optuna distribution that Optuna's samplers see and the two conversions between a trial's value
(what training code gets) and Optuna's value (what the sampler models):

============  ==========================  =================================================
kind          Optuna distribution         Optuna value
============  ==========================  =================================================
DOUBLE        ``FloatDistribution``       the value; ``log=True`` for either log scale
INTEGER       ``IntDistribution``         the value; ``log=True`` for either log scale
CATEGORICAL   ``CategoricalDistribution``  the string
DISCRETE      ``IntDistribution(0, n-1)``  the index of the value in ``values``
============  ==========================  =================================================

``UNIT_REVERSE_LOG_SCALE`` (dense near the maximum) is the log scale mirrored: Optuna models
``y = min + max - x`` on a log scale, so values crowd towards ``max``. DISCRETE parameters are
modelled by their rank, which keeps their order for the Gaussian process and gives back exactly one
of the spec's values; their scale type does not change how they are sampled.

Optuna names are paths so they never collide: a top-level parameter is named by its id, and a child
by ``"<parent name> [<index>] <child id>"``. Parameter ids hold no whitespace, so a child's name
cannot equal a top-level id, and siblings that share an id under disjoint conditions stay apart.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from tuneyard.model import (
    ConditionalParameterSpec,
    ParameterSpec,
    ParameterValue,
    ScaleType,
    StudySpec,
)

DISCRETE_EPSILON = 1e-10
"""Two DISCRETE values closer than this are the same value (Vertex's rule)."""

_LOG_SCALES = (ScaleType.UNIT_LOG_SCALE, ScaleType.UNIT_REVERSE_LOG_SCALE)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _discrete_index(values: Sequence[float], value: float) -> int | None:
    """The index of the member of increasing ``values`` within epsilon of ``value``, or None."""
    at = bisect.bisect_left(values, value - DISCRETE_EPSILON)
    if at < len(values) and abs(values[at] - value) <= DISCRETE_EPSILON:
        return at
    return None


@dataclass(frozen=True)
class ParameterNode:
    """One parameter of the study spec with its Optuna name, distribution and active children."""

    spec: ParameterSpec
    name: str
    distribution: BaseDistribution
    children: tuple[ConditionalNode, ...]

    @property
    def parameter_id(self) -> str:
        """The Vertex parameter id (the flag name training code sees)."""
        return self.spec.parameter_id

    def from_optuna(self, internal: Any) -> ParameterValue:
        """The trial value for Optuna's value ``internal``."""
        spec = self.spec
        reverse = spec.scale_type == ScaleType.UNIT_REVERSE_LOG_SCALE
        if spec.double_value_spec is not None:
            low, high = spec.double_value_spec.min_value, spec.double_value_spec.max_value
            value = float(internal)
            return min(max(low + high - value, low), high) if reverse else value
        if spec.integer_value_spec is not None:
            low_int, high_int = spec.integer_value_spec.min_value, spec.integer_value_spec.max_value
            number = int(internal)
            return low_int + high_int - number if reverse else number
        if spec.discrete_value_spec is not None:
            return float(spec.discrete_value_spec.values[int(internal)])
        return str(internal)

    def to_optuna(self, value: object) -> Any | None:
        """Optuna's value for the trial value ``value``, or None when it is not in the spec."""
        spec = self.spec
        reverse = spec.scale_type == ScaleType.UNIT_REVERSE_LOG_SCALE
        if spec.categorical_value_spec is not None:
            return value if value in spec.categorical_value_spec.values else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        number = float(value)
        if spec.double_value_spec is not None:
            low, high = spec.double_value_spec.min_value, spec.double_value_spec.max_value
            if not low <= number <= high:
                return None
            return min(max(low + high - number, low), high) if reverse else number
        if spec.integer_value_spec is not None:
            low_int, high_int = spec.integer_value_spec.min_value, spec.integer_value_spec.max_value
            if not number.is_integer():
                return None
            integer = value if isinstance(value, int) else int(value)
            if not low_int <= integer <= high_int:
                return None
            return low_int + high_int - integer if reverse else integer
        if spec.discrete_value_spec is not None:
            return _discrete_index(spec.discrete_value_spec.values, number)
        return None

    def active_children(self, value: ParameterValue) -> Iterator[ParameterNode]:
        """The children whose parent condition ``value`` meets, in spec order."""
        return (child.node for child in self.children if child.matches(value))

    def grid_values(self) -> Iterator[ParameterValue]:
        """Every value of the parameter in increasing (or spec) order, lazily.

        Raises:
            ValueError: for a DOUBLE parameter, which has no grid.
        """
        spec = self.spec
        if spec.integer_value_spec is not None:
            return iter(
                range(spec.integer_value_spec.min_value, spec.integer_value_spec.max_value + 1)
            )
        if spec.discrete_value_spec is not None:
            return iter([float(v) for v in spec.discrete_value_spec.values])
        if spec.categorical_value_spec is not None:
            return iter(list(spec.categorical_value_spec.values))
        raise ValueError(
            f"parameter {self.parameter_id!r}: GRID_SEARCH needs INTEGER, CATEGORICAL or DISCRETE"
        )


@dataclass(frozen=True)
class ConditionalNode:
    """A child parameter and the parent values that activate it."""

    node: ParameterNode
    parent_values: tuple[ParameterValue, ...]
    discrete: bool

    def matches(self, parent_value: ParameterValue) -> bool:
        """True when ``parent_value`` is among the parent values (DISCRETE within epsilon)."""
        if self.discrete:
            return _is_number(parent_value) and any(
                abs(float(parent_value) - float(v)) <= DISCRETE_EPSILON for v in self.parent_values
            )
        return parent_value in self.parent_values


def _distribution(spec: ParameterSpec) -> BaseDistribution:
    log = spec.scale_type in _LOG_SCALES
    if spec.double_value_spec is not None:
        d = spec.double_value_spec
        return FloatDistribution(d.min_value, d.max_value, log=log)
    if spec.integer_value_spec is not None:
        i = spec.integer_value_spec
        return IntDistribution(i.min_value, i.max_value, log=log)
    if spec.categorical_value_spec is not None:
        return CategoricalDistribution(tuple(spec.categorical_value_spec.values))
    if spec.discrete_value_spec is not None:
        return IntDistribution(0, len(spec.discrete_value_spec.values) - 1)
    raise ValueError(f"parameter {spec.parameter_id!r} has no value spec")


def _condition(child: ConditionalParameterSpec) -> tuple[tuple[ParameterValue, ...], bool]:
    if child.parent_discrete_values is not None:
        return tuple(child.parent_discrete_values.values), True
    if child.parent_int_values is not None:
        return tuple(child.parent_int_values.values), False
    if child.parent_categorical_values is not None:
        return tuple(child.parent_categorical_values.values), False
    return (), False  # no condition: never active (validation refuses such a spec)


def _node(spec: ParameterSpec, name: str) -> ParameterNode:
    children = []
    for index, child in enumerate(spec.conditional_parameter_specs):
        if child.parameter_spec is None:
            continue
        child_name = f"{name} [{index}] {child.parameter_spec.parameter_id}"
        parent_values, discrete = _condition(child)
        children.append(
            ConditionalNode(_node(child.parameter_spec, child_name), parent_values, discrete)
        )
    return ParameterNode(spec, name, _distribution(spec), tuple(children))


def suggest_value(trial: optuna.Trial, node: ParameterNode) -> Any:
    """Ask an Optuna trial for ``node``'s Optuna value through the public ``suggest_*`` API."""
    distribution = node.distribution
    if isinstance(distribution, FloatDistribution):
        return trial.suggest_float(
            node.name, distribution.low, distribution.high, log=distribution.log
        )
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(
            node.name, distribution.low, distribution.high, log=distribution.log
        )
    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(node.name, distribution.choices)
    raise TypeError(f"unexpected distribution {distribution!r}")


@dataclass(frozen=True)
class SearchSpace:
    """The parameter tree of a study spec, mapped to Optuna.

    Example:
        >>> from tuneyard.model import StudySpec
        >>> spec = StudySpec.model_validate({"metrics": [{"metricId": "loss"}], "parameters": [
        ...     {"parameterId": "lr", "doubleValueSpec": {"minValue": 1e-4, "maxValue": 1e-1},
        ...      "scaleType": "UNIT_LOG_SCALE"}]})
        >>> space = SearchSpace.from_study(spec)
        >>> space.roots[0].distribution
        FloatDistribution(high=0.1, log=True, low=0.0001, step=None)
    """

    roots: tuple[ParameterNode, ...]

    @classmethod
    def from_study(cls, study: StudySpec) -> SearchSpace:
        """Map every parameter of ``study``, conditional children included."""
        return cls(tuple(_node(spec, spec.parameter_id) for spec in study.parameters))

    def sample(self, trial: optuna.Trial) -> dict[str, ParameterValue]:
        """Ask ``trial`` for every active parameter, parents before their children."""
        suggestion: dict[str, ParameterValue] = {}
        pending = list(reversed(self.roots))
        while pending:
            node = pending.pop()
            value = node.from_optuna(suggest_value(trial, node))
            suggestion[node.parameter_id] = value
            pending.extend(reversed(list(node.active_children(value))))
        return suggestion

    def walk(
        self, parameters: Mapping[str, ParameterValue]
    ) -> Iterator[tuple[ParameterNode, Any, ParameterValue]]:
        """Yield ``(node, Optuna value, canonical value)`` for each active parameter a trial set.

        A value that is missing or not in its spec is skipped together with its children.
        """
        pending = list(reversed(self.roots))
        while pending:
            node = pending.pop()
            if node.parameter_id not in parameters:
                continue
            internal = node.to_optuna(parameters[node.parameter_id])
            if internal is None:
                continue
            value = node.from_optuna(internal)
            yield node, internal, value
            pending.extend(reversed(list(node.active_children(value))))

    def encode(
        self, parameters: Mapping[str, ParameterValue]
    ) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
        """A trial's parameters as Optuna ``params`` and ``distributions`` for ``create_trial``."""
        params: dict[str, Any] = {}
        distributions: dict[str, BaseDistribution] = {}
        for node, internal, _ in self.walk(parameters):
            params[node.name] = internal
            distributions[node.name] = node.distribution
        return params, distributions

    def canonical(self, parameters: Mapping[str, ParameterValue]) -> dict[str, ParameterValue]:
        """A trial's active parameters with values as this module produces them."""
        return {node.parameter_id: value for node, _, value in self.walk(parameters)}
