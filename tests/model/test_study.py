"""StudySpec, ParameterSpec, Trial and Measurement helpers, and the trial's parameter values."""

from __future__ import annotations

from typing import Any

import pytest

from tuneyard.model import (
    CategoricalValueSpec,
    DiscreteValueSpec,
    DoubleValueSpec,
    GoalType,
    IntegerValueSpec,
    Measurement,
    MeasurementMetric,
    MetricSpec,
    ParameterSpec,
    Trial,
    TrialParameter,
    TrialState,
)


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        (ParameterSpec(parameter_id="a", double_value_spec=DoubleValueSpec()), "DOUBLE"),
        (ParameterSpec(parameter_id="a", integer_value_spec=IntegerValueSpec()), "INTEGER"),
        (
            ParameterSpec(parameter_id="a", categorical_value_spec=CategoricalValueSpec()),
            "CATEGORICAL",
        ),
        (ParameterSpec(parameter_id="a", discrete_value_spec=DiscreteValueSpec()), "DISCRETE"),
        (ParameterSpec(parameter_id="a"), ""),
    ],
)
def test_parameter_kind(spec: ParameterSpec, kind: str) -> None:
    assert spec.kind == kind


@pytest.mark.parametrize(
    ("goal", "minimize"),
    [
        (GoalType.MINIMIZE, True),
        (GoalType.MAXIMIZE, False),
        (GoalType.GOAL_TYPE_UNSPECIFIED, False),
    ],
)
def test_unspecified_goal_means_maximize(goal: GoalType, minimize: bool) -> None:
    assert MetricSpec(metric_id="m", goal=goal).minimize is minimize


def test_measurement_value_by_metric_id() -> None:
    measurement = Measurement(
        step_count=3,
        metrics=[
            MeasurementMetric(metric_id="accuracy", value=0.9),
            MeasurementMetric(metric_id="loss"),
        ],
    )
    assert measurement.value("accuracy") == 0.9
    assert measurement.value("loss") == 0.0
    assert measurement.value("f1") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.01, 0.01), (64, 64), ("relu", "relu"), (16.0, 16.0), (0, 0)],
)
def test_trial_parameter_values_keep_their_json_type(value: Any, expected: Any) -> None:
    parameter = TrialParameter.model_validate({"parameterId": "p", "value": value})
    assert parameter.value == expected
    assert type(parameter.value) is type(expected)
    assert parameter.to_json_dict() == {"parameterId": "p", "value": expected}


def test_parameter_dict_skips_unset_values() -> None:
    trial = Trial(
        id="1",
        state=TrialState.ACTIVE,
        parameters=[
            TrialParameter(parameter_id="lr", value=0.1),
            TrialParameter(parameter_id="unset"),
        ],
    )
    assert trial.parameter_dict() == {"lr": 0.1}


def test_trial_state_numbers_match_the_proto() -> None:
    assert [(s.name, int(s)) for s in TrialState] == [
        ("STATE_UNSPECIFIED", 0),
        ("REQUESTED", 1),
        ("ACTIVE", 2),
        ("STOPPING", 3),
        ("SUCCEEDED", 4),
        ("INFEASIBLE", 5),
    ]
