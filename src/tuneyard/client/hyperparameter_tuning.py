"""Parameter spec classes, as ``google.cloud.aiplatform.hyperparameter_tuning`` has them.

``parameter_spec={"lr": DoubleParameterSpec(min=1e-4, max=0.1, scale="log"), ...}`` describes
the search space; each class takes ``conditional_parameter_spec={child_id: child_spec}`` (the
children are tried only when this parameter takes one of the child's ``parent_values``). The
SDK's own classes are accepted wherever these are (:func:`to_parameter_spec` reads either).

Example:
    >>> spec = CategoricalParameterSpec(
    ...     values=["adam", "sgd"],
    ...     conditional_parameter_spec={
    ...         "momentum": DoubleParameterSpec(0.0, 0.99, "linear", parent_values=["sgd"])})
    >>> [child] = to_parameter_spec("optimizer", spec).conditional_parameter_specs
    >>> child.parent_categorical_values
    CategoricalValueCondition(values=['sgd'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tuneyard.errors import FieldViolation, InvalidArgument
from tuneyard.model import (
    Algorithm,
    CategoricalValueCondition,
    ConditionalParameterSpec,
    DiscreteValueCondition,
    GoalType,
    IntValueCondition,
    MeasurementSelectionType,
    MetricSpec,
    ParameterSpec,
    ScaleType,
    parse_resource,
)

SCALES = {
    "linear": ScaleType.UNIT_LINEAR_SCALE,
    "log": ScaleType.UNIT_LOG_SCALE,
    "reverse_log": ScaleType.UNIT_REVERSE_LOG_SCALE,
    "unspecified": ScaleType.SCALE_TYPE_UNSPECIFIED,
}
SEARCH_ALGORITHMS = {
    None: Algorithm.ALGORITHM_UNSPECIFIED,
    "grid": Algorithm.GRID_SEARCH,
    "random": Algorithm.RANDOM_SEARCH,
}
MEASUREMENT_SELECTIONS = {
    None: MeasurementSelectionType.MEASUREMENT_SELECTION_TYPE_UNSPECIFIED,
    "best": MeasurementSelectionType.BEST_MEASUREMENT,
    "last": MeasurementSelectionType.LAST_MEASUREMENT,
}
_SPEC_KEYS = {
    "double_value_spec": ("min_value", "max_value"),
    "integer_value_spec": ("min_value", "max_value"),
    "categorical_value_spec": ("values",),
    "discrete_value_spec": ("values",),
}
_CONDITIONS = {
    "integer_value_spec": ("parent_int_values", IntValueCondition),
    "categorical_value_spec": ("parent_categorical_values", CategoricalValueCondition),
    "discrete_value_spec": ("parent_discrete_values", DiscreteValueCondition),
}


class _ParameterSpec:
    """One parameter of the search space; subclasses say which kind."""

    _parameter_spec_value_key = ""

    def __init__(
        self,
        conditional_parameter_spec: Mapping[str, Any] | None = None,
        parent_values: Sequence[float | int | str] | None = None,
    ) -> None:
        self.conditional_parameter_spec = (
            dict(conditional_parameter_spec) if conditional_parameter_spec else None
        )
        self.parent_values = list(parent_values) if parent_values is not None else None

    def _to_parameter_spec(self, parameter_id: str) -> ParameterSpec:
        return to_parameter_spec(parameter_id, self)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if v is not None)
        return f"{type(self).__name__}({fields})"


class DoubleParameterSpec(_ParameterSpec):
    """A real number in ``[min, max]``; ``scale``: ``linear``, ``log`` or ``reverse_log``.

    A DOUBLE parameter cannot have conditional children (Vertex has no condition on doubles).
    """

    _parameter_spec_value_key = "double_value_spec"

    def __init__(
        self,
        min: float,
        max: float,
        scale: str,
        conditional_parameter_spec: Mapping[str, Any] | None = None,
        parent_values: Sequence[float | int | str] | None = None,
    ) -> None:
        super().__init__(conditional_parameter_spec, parent_values)
        self.min, self.max, self.scale = min, max, scale


class IntegerParameterSpec(_ParameterSpec):
    """An integer in ``[min, max]``; ``scale``: ``linear``, ``log`` or ``reverse_log``."""

    _parameter_spec_value_key = "integer_value_spec"

    def __init__(
        self,
        min: int,
        max: int,
        scale: str,
        conditional_parameter_spec: Mapping[str, Any] | None = None,
        parent_values: Sequence[float | int | str] | None = None,
    ) -> None:
        super().__init__(conditional_parameter_spec, parent_values)
        self.min, self.max, self.scale = min, max, scale


class CategoricalParameterSpec(_ParameterSpec):
    """One of ``values`` (strings)."""

    _parameter_spec_value_key = "categorical_value_spec"

    def __init__(
        self,
        values: Sequence[str],
        conditional_parameter_spec: Mapping[str, Any] | None = None,
        parent_values: Sequence[float | int | str] | None = None,
    ) -> None:
        super().__init__(conditional_parameter_spec, parent_values)
        self.values = list(values)


class DiscreteParameterSpec(_ParameterSpec):
    """One of ``values`` (increasing numbers); ``scale``: ``linear``, ``log``, ``reverse_log``."""

    _parameter_spec_value_key = "discrete_value_spec"

    def __init__(
        self,
        values: Sequence[float],
        scale: str,
        conditional_parameter_spec: Mapping[str, Any] | None = None,
        parent_values: Sequence[float | int | str] | None = None,
    ) -> None:
        super().__init__(conditional_parameter_spec, parent_values)
        self.values = list(values)
        self.scale = scale


def to_parameter_spec(parameter_id: str, spec: Any, *, path: str = "") -> ParameterSpec:
    """``spec`` (one of the classes here, or the SDK's) as a Vertex ``ParameterSpec``.

    Raises:
        InvalidArgument: an unknown kind or scale, a DOUBLE parent with children, or a child
            without ``parent_values``; the message names ``parameter_spec['id']``.
    """
    path = path or f"parameter_spec[{parameter_id!r}]"
    key = getattr(spec, "_parameter_spec_value_key", None)
    if not isinstance(key, str) or key not in _SPEC_KEYS:
        raise InvalidArgument(
            [
                FieldViolation(
                    path,
                    f"expected a parameter spec such as DoubleParameterSpec, "
                    f"got {type(spec).__name__}",
                )
            ]
        )
    scale_name = getattr(spec, "scale", "unspecified")
    if scale_name not in SCALES:
        raise InvalidArgument(
            [FieldViolation(f"{path}.scale", f"{scale_name!r} is not one of {sorted(SCALES)}")]
        )
    if key in ("double_value_spec", "integer_value_spec"):
        values: dict[str, Any] = {"min_value": spec.min, "max_value": spec.max}
    else:
        values = {"values": list(spec.values)}
    children = []
    for child_id, child in (getattr(spec, "conditional_parameter_spec", None) or {}).items():
        child_path = f"{path}.conditional_parameter_spec[{child_id!r}]"
        if key not in _CONDITIONS:
            raise InvalidArgument(
                [
                    FieldViolation(
                        child_path,
                        "a DOUBLE parameter cannot have conditional "
                        "parameters (Vertex has no condition on doubles)",
                    )
                ]
            )
        parent_values = getattr(child, "parent_values", None)
        if not parent_values:
            raise InvalidArgument(
                [FieldViolation(f"{child_path}.parent_values", "parent_values is required")]
            )
        field, condition = _CONDITIONS[key]
        children.append(
            ConditionalParameterSpec(
                parameter_spec=to_parameter_spec(child_id, child, path=child_path),
                **{
                    field: parse_resource(
                        condition,
                        {"values": list(parent_values)},
                        prefix=f"{child_path}.parent_values",
                    )
                },
            )
        )
    data = {"parameter_id": parameter_id, key: values, "scale_type": SCALES[scale_name]}
    parameter = parse_resource(ParameterSpec, data, prefix=path)
    return parameter.model_copy(update={"conditional_parameter_specs": children})


def to_metric_specs(metric_spec: Mapping[str, str]) -> list[MetricSpec]:
    """``{"loss": "minimize", "accuracy": "maximize"}`` as Vertex ``MetricSpec`` values.

    Raises:
        InvalidArgument: a goal other than ``minimize`` / ``maximize``.
    """
    metrics = []
    for metric_id, goal in metric_spec.items():
        name = str(goal).upper()
        if name not in ("MINIMIZE", "MAXIMIZE"):
            raise InvalidArgument(
                [
                    FieldViolation(
                        f"metric_spec[{metric_id!r}]",
                        f"goal {goal!r} is not 'minimize' or 'maximize'",
                    )
                ]
            )
        metrics.append(MetricSpec(metric_id=metric_id, goal=GoalType[name]))
    return metrics


def choice(table: Mapping[Any, Any], value: Any, field: str) -> Any:
    """``table[value]``, or InvalidArgument naming ``field`` and the accepted values."""
    if value not in table:
        accepted = ", ".join(repr(k) for k in table)
        raise InvalidArgument([FieldViolation(field, f"{value!r} is not one of {accepted}")])
    return table[value]


__all__ = [
    "CategoricalParameterSpec",
    "DiscreteParameterSpec",
    "DoubleParameterSpec",
    "IntegerParameterSpec",
    "to_metric_specs",
    "to_parameter_spec",
]
