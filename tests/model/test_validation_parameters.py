"""``validate_job``: the rules of parameter specs, their values and their conditions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.model.conftest import (
    assert_violation,
    categorical,
    child,
    discrete,
    double,
    integer,
    job_with_parameters,
    valid_job,
)
from tuneyard.model import job_from_dict, validate_job

P0 = "studySpec.parameters[0]"


# parameter ids --------------------------------------------------------------------------------


def test_at_least_one_parameter() -> None:
    assert_violation(job_with_parameters(), "studySpec.parameters", "at least one parameter")


def test_parameter_id_is_required() -> None:
    spec = double("", 0, 1)
    del spec["parameterId"]
    assert_violation(job_with_parameters(spec), f"{P0}.parameterId", "parameterId is required")


def test_parameter_ids_must_not_contain_whitespace() -> None:
    assert_violation(
        job_with_parameters(double("learning rate", 0, 1)),
        f"{P0}.parameterId",
        "'learning rate' must not contain whitespace",
    )


def test_parameter_ids_must_be_unique() -> None:
    assert_violation(
        job_with_parameters(double("lr", 0, 1), integer("lr", 1, 2)),
        "studySpec.parameters[1].parameterId",
        "duplicate parameterId 'lr'",
    )


def test_a_child_may_not_reuse_a_top_level_id() -> None:
    parent = categorical(
        "act",
        "relu",
        "selu",
        conditionalParameterSpecs=[
            child(double("lr", 0, 1), parentCategoricalValues={"values": ["selu"]})
        ],
    )
    child_path = "studySpec.parameters[1].conditionalParameterSpecs[0].parameterSpec.parameterId"
    # The top-level parameter comes first ...
    assert_violation(
        job_with_parameters(double("lr", 0, 1), parent), child_path, "duplicate parameterId 'lr'"
    )
    # ... or after the child: the top-level one is then the duplicate.
    assert_violation(
        job_with_parameters(parent, double("lr", 0, 1)),
        "studySpec.parameters[1].parameterId",
        "duplicate parameterId 'lr'",
    )


def test_a_child_may_not_reuse_its_parent_id() -> None:
    parent = categorical(
        "act",
        "relu",
        "selu",
        conditionalParameterSpecs=[
            child(double("act", 0, 1), parentCategoricalValues={"values": ["selu"]})
        ],
    )
    assert_violation(
        job_with_parameters(parent),
        f"{P0}.conditionalParameterSpecs[0].parameterSpec.parameterId",
        "duplicate parameterId 'act'",
    )


def test_children_of_different_parents_may_not_share_an_id() -> None:
    first = categorical(
        "act",
        "relu",
        "selu",
        conditionalParameterSpecs=[
            child(double("alpha", 0, 1), parentCategoricalValues={"values": ["selu"]})
        ],
    )
    second = integer(
        "units",
        1,
        8,
        conditionalParameterSpecs=[child(double("alpha", 0, 1), parentIntValues={"values": ["8"]})],
    )
    assert_violation(
        job_with_parameters(first, second),
        "studySpec.parameters[1].conditionalParameterSpecs[0].parameterSpec.parameterId",
        "duplicate parameterId 'alpha'",
    )


def test_siblings_may_share_an_id_with_disjoint_conditions() -> None:
    parent = categorical(
        "optimizer",
        "sgd",
        "adam",
        "rmsprop",
        conditionalParameterSpecs=[
            child(double("lr", 0.01, 1.0), parentCategoricalValues={"values": ["sgd"]}),
            child(
                double("lr", 0.0001, 0.01), parentCategoricalValues={"values": ["adam", "rmsprop"]}
            ),
        ],
    )
    assert validate_job(job_from_dict(job_with_parameters(parent))) == []


def test_siblings_sharing_an_id_need_disjoint_conditions() -> None:
    parent = integer(
        "layers",
        1,
        4,
        conditionalParameterSpecs=[
            child(double("dropout", 0, 0.5), parentIntValues={"values": ["1", "2"]}),
            child(double("dropout", 0, 0.9), parentIntValues={"values": ["2", "3"]}),
        ],
    )
    assert_violation(
        job_with_parameters(parent),
        f"{P0}.conditionalParameterSpecs[1]",
        "children named 'dropout' must have disjoint parent values",
    )


# value specs ----------------------------------------------------------------------------------


def test_a_value_spec_is_required() -> None:
    assert_violation(
        job_with_parameters({"parameterId": "lr", "scaleType": "UNIT_LINEAR_SCALE"}),
        P0,
        "one of doubleValueSpec, integerValueSpec, categoricalValueSpec or discreteValueSpec",
    )


def test_only_one_value_spec() -> None:
    spec = double("lr", 0, 1)
    spec["integerValueSpec"] = {"minValue": "1", "maxValue": "2"}
    assert_violation(
        job_with_parameters(spec),
        P0,
        "only one value spec may be set, got doubleValueSpec and integerValueSpec",
    )


def test_double_min_must_not_exceed_max() -> None:
    assert_violation(
        job_with_parameters(double("lr", 2.0, 1.0)),
        f"{P0}.doubleValueSpec",
        "minValue 2.0 is greater than maxValue 1.0",
    )


def test_integer_min_must_not_exceed_max() -> None:
    assert_violation(
        job_with_parameters(integer("units", 5, 2)),
        f"{P0}.integerValueSpec",
        "minValue 5 is greater than maxValue 2",
    )


def test_equal_bounds_are_allowed() -> None:
    job = job_with_parameters(double("lr", 0.5, 0.5), integer("units", 3, 3))
    assert validate_job(job_from_dict(job)) == []


def test_double_bounds_must_be_finite() -> None:
    assert_violation(
        job_with_parameters(double("lr", 0, "Infinity")),  # type: ignore[arg-type]
        f"{P0}.doubleValueSpec",
        "must be finite",
    )


@pytest.mark.parametrize("scale", ["UNIT_LOG_SCALE", "UNIT_REVERSE_LOG_SCALE"])
@pytest.mark.parametrize("low", [0.0, -1.0])
def test_log_scales_need_a_positive_double_range(scale: str, low: float) -> None:
    assert_violation(
        job_with_parameters(double("lr", low, 1.0, scale)),
        f"{P0}.doubleValueSpec",
        f"{scale} needs a positive range",
        f"minValue is {low!r}",
    )


def test_log_scale_needs_a_positive_integer_range() -> None:
    assert_violation(
        job_with_parameters(integer("units", 0, 64, "UNIT_LOG_SCALE")),
        f"{P0}.integerValueSpec",
        "UNIT_LOG_SCALE needs a positive range, but minValue is 0",
    )


def test_discrete_values_must_increase() -> None:
    assert_violation(
        job_with_parameters(discrete("batch", 16, 64, 32)),
        f"{P0}.discreteValueSpec.values",
        "increasing order",
        "32.0 follows 64.0",
    )


def test_discrete_values_must_not_repeat() -> None:
    assert_violation(
        job_with_parameters(discrete("batch", 16, 16)),
        f"{P0}.discreteValueSpec.values",
        "increasing order",
    )


def test_discrete_values_must_be_at_least_1e_10_apart() -> None:
    assert_violation(
        job_with_parameters(discrete("x", 1.0, 1.0 + 1e-11, 2.0)),
        f"{P0}.discreteValueSpec.values[1]",
        "at least 1e-10 apart",
    )
    assert validate_job(job_from_dict(job_with_parameters(discrete("x", 1.0, 1.0 + 2e-10)))) == []


def test_at_most_1000_discrete_values() -> None:
    values = [float(i) for i in range(1001)]
    assert validate_job(job_from_dict(job_with_parameters(discrete("x", *values[:1000])))) == []
    assert_violation(
        job_with_parameters(discrete("x", *values)),
        f"{P0}.discreteValueSpec.values",
        "at most 1000 values",
        "got 1001",
    )


def test_discrete_values_are_required() -> None:
    assert_violation(
        job_with_parameters(discrete("x")),
        f"{P0}.discreteValueSpec.values",
        "at least one value",
    )


def test_discrete_values_must_be_finite() -> None:
    assert_violation(
        job_with_parameters(discrete("x", 1.0, "NaN")),  # type: ignore[arg-type]
        f"{P0}.discreteValueSpec.values",
        "finite",
        only=False,
    )


@pytest.mark.parametrize("scale", ["UNIT_LOG_SCALE", "UNIT_REVERSE_LOG_SCALE"])
def test_log_scale_needs_positive_discrete_values(scale: str) -> None:
    assert_violation(
        job_with_parameters(discrete("x", 0, 1, 2, scale=scale)),
        f"{P0}.discreteValueSpec.values",
        f"{scale} needs positive values, but 0.0 is not",
    )


def test_categorical_parameters_take_no_scale_type() -> None:
    assert_violation(
        job_with_parameters(categorical("act", "relu", scaleType="UNIT_LINEAR_SCALE")),
        f"{P0}.scaleType",
        "must be unset for a CATEGORICAL parameter, got UNIT_LINEAR_SCALE",
    )


def test_categorical_values_are_required_and_unique() -> None:
    assert_violation(
        job_with_parameters(categorical("act")),
        f"{P0}.categoricalValueSpec.values",
        "at least one value",
    )
    assert_violation(
        job_with_parameters(categorical("act", "relu", "relu")),
        f"{P0}.categoricalValueSpec.values",
        "unique",
    )


@pytest.mark.parametrize(
    ("spec", "field", "default"),
    [
        (double("lr", 0, 1), "doubleValueSpec", 0.5),
        (integer("units", 1, 8), "integerValueSpec", "4"),
        (categorical("act", "relu", "selu"), "categoricalValueSpec", "relu"),
        (discrete("batch", 16, 32), "discreteValueSpec", 16),
    ],
)
def test_default_values_are_refused(spec: dict[str, Any], field: str, default: Any) -> None:
    spec[field]["defaultValue"] = default
    assert_violation(
        job_with_parameters(spec),
        f"{P0}.{field}.defaultValue",
        "supported only by Vertex AI Vizier, not by hyperparameter tuning jobs",
    )


def test_observation_noise_is_refused() -> None:
    data = valid_job()
    data["studySpec"]["observationNoise"] = "HIGH"
    assert_violation(data, "studySpec.observationNoise", "supported only by Vertex AI Vizier")


# grid search ----------------------------------------------------------------------------------


def test_grid_search_refuses_a_double_parameter() -> None:
    assert_violation(
        job_with_parameters(double("lr", 0, 1), algorithm="GRID_SEARCH"),
        P0,
        "GRID_SEARCH needs INTEGER, CATEGORICAL or DISCRETE parameters, not DOUBLE",
    )


def test_grid_search_refuses_a_double_child() -> None:
    parent = categorical(
        "act",
        "relu",
        "selu",
        conditionalParameterSpecs=[
            child(double("alpha", 0, 1), parentCategoricalValues={"values": ["selu"]})
        ],
    )
    assert_violation(
        job_with_parameters(parent, algorithm="GRID_SEARCH"),
        f"{P0}.conditionalParameterSpecs[0].parameterSpec",
        "GRID_SEARCH",
        "not DOUBLE",
    )


def test_grid_search_takes_integer_categorical_and_discrete() -> None:
    job = job_with_parameters(
        integer("units", 1, 4),
        categorical("act", "relu", "selu"),
        discrete("batch", 16, 32),
        algorithm="GRID_SEARCH",
    )
    assert validate_job(job_from_dict(job)) == []


# conditional parameters -----------------------------------------------------------------------


def test_a_double_parent_cannot_have_children() -> None:
    # What the SDK sends for a DOUBLE parent: children with no condition at all.
    parent = double("lr", 0, 1, conditionalParameterSpecs=[child(integer("units", 1, 4))])
    assert_violation(
        job_with_parameters(parent),
        f"{P0}.conditionalParameterSpecs",
        "a DOUBLE parameter cannot have conditional parameters",
    )


@pytest.mark.parametrize(
    ("parent", "condition", "bad"),
    [
        (integer("units", 1, 10), {"parentIntValues": {"values": ["11"]}}, "11"),
        (integer("units", 1, 10), {"parentIntValues": {"values": ["0"]}}, "0"),
        (
            categorical("act", "relu", "selu"),
            {"parentCategoricalValues": {"values": ["gelu"]}},
            "'gelu'",
        ),
        (discrete("batch", 16, 32, 64), {"parentDiscreteValues": {"values": [48]}}, "48.0"),
    ],
)
def test_parent_values_must_be_values_of_the_parent(
    parent: dict[str, Any], condition: dict[str, Any], bad: str
) -> None:
    parent["conditionalParameterSpecs"] = [child(double("alpha", 0, 1), **condition)]
    [kind] = condition
    assert_violation(
        job_with_parameters(parent),
        f"{P0}.conditionalParameterSpecs[0].{kind}.values",
        f"{bad} is not a value of parent '{parent['parameterId']}'",
    )


def test_parent_values_at_the_ends_of_the_range_and_within_epsilon_are_fine() -> None:
    ints = integer(
        "units",
        1,
        10,
        conditionalParameterSpecs=[
            child(double("a", 0, 1), parentIntValues={"values": ["1", "10"]})
        ],
    )
    floats = discrete(
        "batch",
        16,
        32,
        conditionalParameterSpecs=[
            child(double("b", 0, 1), parentDiscreteValues={"values": [32 + 1e-11]})
        ],
    )
    assert validate_job(job_from_dict(job_with_parameters(ints, floats))) == []


@pytest.mark.parametrize(
    ("parent", "condition", "expected"),
    [
        (
            categorical("act", "relu", "selu"),
            {"parentIntValues": {"values": ["1"]}},
            "a CATEGORICAL parent needs parentCategoricalValues, not parentIntValues",
        ),
        (
            integer("units", 1, 4),
            {"parentDiscreteValues": {"values": [1.0]}},
            "a INTEGER parent needs parentIntValues, not parentDiscreteValues",
        ),
        (
            discrete("batch", 16, 32),
            {"parentCategoricalValues": {"values": ["16"]}},
            "a DISCRETE parent needs parentDiscreteValues, not parentCategoricalValues",
        ),
    ],
)
def test_the_condition_must_match_the_parent_kind(
    parent: dict[str, Any], condition: dict[str, Any], expected: str
) -> None:
    parent["conditionalParameterSpecs"] = [child(double("alpha", 0, 1), **condition)]
    [kind] = condition
    assert_violation(
        job_with_parameters(parent), f"{P0}.conditionalParameterSpecs[0].{kind}", expected
    )


@pytest.mark.parametrize(
    "condition",
    [
        {},
        {
            "parentCategoricalValues": {"values": ["selu"]},
            "parentIntValues": {"values": ["1"]},
        },
    ],
)
def test_exactly_one_condition_is_required(condition: dict[str, Any]) -> None:
    parent = categorical(
        "act", "relu", "selu", conditionalParameterSpecs=[child(double("a", 0, 1), **condition)]
    )
    assert_violation(
        job_with_parameters(parent),
        f"{P0}.conditionalParameterSpecs[0]",
        "exactly one parent condition is required: parentCategoricalValues",
    )


def test_a_condition_needs_values() -> None:
    parent = categorical(
        "act",
        "relu",
        conditionalParameterSpecs=[child(double("a", 0, 1), parentCategoricalValues={})],
    )
    assert_violation(
        job_with_parameters(parent),
        f"{P0}.conditionalParameterSpecs[0].parentCategoricalValues.values",
        "at least one parent value",
    )


def test_a_conditional_spec_needs_a_parameter_spec() -> None:
    parent = categorical(
        "act", "relu", conditionalParameterSpecs=[{"parentCategoricalValues": {"values": ["relu"]}}]
    )
    assert_violation(
        job_with_parameters(parent),
        f"{P0}.conditionalParameterSpecs[0].parameterSpec",
        "parameterSpec is required",
    )


def test_children_are_checked_with_their_full_path() -> None:
    grandchild = child(integer("depth", 5, 2), parentCategoricalValues={"values": ["deep"]})
    middle = child(
        categorical("shape", "deep", "wide", conditionalParameterSpecs=[grandchild]),
        parentIntValues={"values": ["2"]},
    )
    job = job_with_parameters(integer("layers", 1, 3, conditionalParameterSpecs=[middle]))
    assert_violation(
        job,
        f"{P0}.conditionalParameterSpecs[0].parameterSpec"
        ".conditionalParameterSpecs[0].parameterSpec.integerValueSpec",
        "minValue 5 is greater than maxValue 2",
    )
