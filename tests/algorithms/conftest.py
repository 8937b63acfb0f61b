"""Study specs, trials and checks shared by the algorithm tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuneyard.model import (
    Measurement,
    MeasurementMetric,
    ParameterSpec,
    ParameterValue,
    StudySpec,
    Trial,
    TrialParameter,
    TrialState,
)


def study(
    parameters: list[dict[str, Any]],
    *,
    metrics: list[dict[str, Any]] | None = None,
    algorithm: str = "ALGORITHM_UNSPECIFIED",
    selection: str = "MEASUREMENT_SELECTION_TYPE_UNSPECIFIED",
) -> StudySpec:
    """A StudySpec from Vertex JSON pieces (camelCase), one MAXIMIZE metric by default."""
    return StudySpec.model_validate(
        {
            "metrics": metrics or [{"metricId": "score", "goal": "MAXIMIZE"}],
            "parameters": parameters,
            "algorithm": algorithm,
            "measurementSelectionType": selection,
        }
    )


def double(pid: str, low: float, high: float, scale: str = "UNIT_LINEAR_SCALE") -> dict[str, Any]:
    return {
        "parameterId": pid,
        "doubleValueSpec": {"minValue": low, "maxValue": high},
        "scaleType": scale,
    }


def integer(pid: str, low: int, high: int, scale: str = "UNIT_LINEAR_SCALE") -> dict[str, Any]:
    return {
        "parameterId": pid,
        "integerValueSpec": {"minValue": low, "maxValue": high},
        "scaleType": scale,
    }


def categorical(pid: str, *values: str) -> dict[str, Any]:
    return {"parameterId": pid, "categoricalValueSpec": {"values": list(values)}}


def discrete(pid: str, *values: float, scale: str = "UNIT_LINEAR_SCALE") -> dict[str, Any]:
    return {"parameterId": pid, "discreteValueSpec": {"values": list(values)}, "scaleType": scale}


def with_children(
    parent: dict[str, Any], *children: tuple[str, list[Any], dict[str, Any]]
) -> dict[str, Any]:
    """``parent`` with conditional children given as (condition field, parent values, child)."""
    specs = [
        {condition: {"values": values}, "parameterSpec": child}
        for condition, values, child in children
    ]
    return {**parent, "conditionalParameterSpecs": specs}


def measurement(step: int = 0, /, **metrics: float) -> Measurement:
    return Measurement(
        step_count=step,
        metrics=[MeasurementMetric(metric_id=k, value=v) for k, v in metrics.items()],
    )


def trial(
    trial_id: int | str,
    parameters: Mapping[str, ParameterValue],
    state: TrialState = TrialState.SUCCEEDED,
    **metrics: float,
) -> Trial:
    """A trial with ``parameters``; a final measurement with ``metrics`` when any are given."""
    return Trial(
        id=str(trial_id),
        state=state,
        parameters=[TrialParameter(parameter_id=k, value=v) for k, v in parameters.items()],
        final_measurement=measurement(**metrics) if metrics else None,
    )


def spec_by_id(study_spec: StudySpec) -> dict[str, list[ParameterSpec]]:
    """Every parameter spec in the tree, by parameter id (siblings may share an id)."""
    found: dict[str, list[ParameterSpec]] = {}
    pending = list(study_spec.parameters)
    while pending:
        spec = pending.pop()
        found.setdefault(spec.parameter_id, []).append(spec)
        pending.extend(
            c.parameter_spec for c in spec.conditional_parameter_specs if c.parameter_spec
        )
    return found


def in_spec(spec: ParameterSpec, value: ParameterValue) -> bool:
    """True when ``value`` is a legal value of ``spec``, of the right Python type."""
    if spec.double_value_spec is not None:
        d = spec.double_value_spec
        return type(value) is float and d.min_value <= value <= d.max_value
    if spec.integer_value_spec is not None:
        i = spec.integer_value_spec
        return type(value) is int and i.min_value <= value <= i.max_value
    if spec.discrete_value_spec is not None:
        return type(value) is float and value in spec.discrete_value_spec.values
    assert spec.categorical_value_spec is not None
    return type(value) is str and value in spec.categorical_value_spec.values


def expected_active(study_spec: StudySpec, suggestion: Mapping[str, ParameterValue]) -> set[str]:
    """The parameter ids that must be present given the parents' values in ``suggestion``."""
    active: set[str] = set()
    pending = list(study_spec.parameters)
    while pending:
        spec = pending.pop()
        active.add(spec.parameter_id)
        value = suggestion.get(spec.parameter_id)
        for child in spec.conditional_parameter_specs:
            condition = (
                child.parent_int_values
                or child.parent_categorical_values
                or child.parent_discrete_values
            )
            assert condition is not None and child.parameter_spec is not None
            values: list[Any] = list(condition.values)
            if child.parent_discrete_values is not None:
                hit = isinstance(value, float) and any(abs(value - v) <= 1e-10 for v in values)
            else:
                hit = value in values
            if hit:
                pending.append(child.parameter_spec)
    return active


def check_suggestion(study_spec: StudySpec, suggestion: Mapping[str, ParameterValue]) -> None:
    """Assert that ``suggestion`` holds exactly the active parameters, each legal."""
    assert set(suggestion) == expected_active(study_spec, suggestion), suggestion
    specs = spec_by_id(study_spec)
    for pid, value in suggestion.items():
        assert any(in_spec(spec, value) for spec in specs[pid]), (pid, value)


MIXED = study(
    [
        with_children(
            categorical("model", "linear", "tree", "net"),
            ("parentCategoricalValues", ["linear"], discrete("l2", 0.001, 0.01, 0.1, 1.0)),
            ("parentCategoricalValues", ["tree"], integer("depth", 2, 12)),
            (
                "parentCategoricalValues",
                ["net"],
                with_children(
                    integer("layers", 1, 4),
                    ("parentIntValues", [1], integer("units", 8, 16)),
                    ("parentIntValues", [2, 3, 4], integer("units", 64, 256, "UNIT_LOG_SCALE")),
                ),
            ),
        ),
        with_children(
            discrete("batch", 16, 32, 64, 128),
            ("parentDiscreteValues", [128], categorical("accumulate", "yes", "no")),
        ),
        integer("epochs", 1, 5, "UNIT_REVERSE_LOG_SCALE"),
    ]
)
"""Every kind but DOUBLE (so grid search works), with nested and same-named children."""

WITH_DOUBLES = study(
    [
        double("lr", 1e-5, 1e-1, "UNIT_LOG_SCALE"),
        double("momentum", 0.5, 0.999, "UNIT_REVERSE_LOG_SCALE"),
        double("dropout", 0.0, 0.5),
        *MIXED.model_dump(mode="json", by_alias=True, exclude_defaults=True)["parameters"],
    ]
)
"""MIXED plus DOUBLE parameters on every scale."""
