"""StudySpec, Trial and Measurement (``google/cloud/aiplatform/v1/study.proto``)."""

from __future__ import annotations

from pydantic import Field

from tuneyard.model._base import Double, Duration, Int32, Int64, Timestamp, VertexModel
from tuneyard.model.enums import (
    Algorithm,
    GoalType,
    MeasurementSelectionType,
    ObservationNoise,
    ScaleType,
    TrialState,
)


class SafetyMetricConfig(VertexModel):
    """Safe-search settings of a metric."""

    safety_threshold: Double = 0.0
    desired_min_safe_trials_fraction: Double | None = None


class MetricSpec(VertexModel):
    """A metric to optimize: its id (the cloudml-hypertune tag) and its goal."""

    metric_id: str = ""
    goal: GoalType = GoalType.GOAL_TYPE_UNSPECIFIED
    safety_config: SafetyMetricConfig | None = None

    @property
    def minimize(self) -> bool:
        """True when the goal is MINIMIZE (UNSPECIFIED means MAXIMIZE)."""
        return self.goal == GoalType.MINIMIZE


class DoubleValueSpec(VertexModel):
    """A real-valued parameter in ``[min_value, max_value]`` (inclusive)."""

    min_value: Double = 0.0
    max_value: Double = 0.0
    default_value: Double | None = None


class IntegerValueSpec(VertexModel):
    """An integer parameter in ``[min_value, max_value]`` (inclusive)."""

    min_value: Int64 = 0
    max_value: Int64 = 0
    default_value: Int64 | None = None


class CategoricalValueSpec(VertexModel):
    """A parameter taking one of ``values``."""

    values: list[str] = Field(default_factory=list)
    default_value: str | None = None


class DiscreteValueSpec(VertexModel):
    """A numeric parameter taking one of ``values`` (increasing, at least 1e-10 apart)."""

    values: list[Double] = Field(default_factory=list)
    default_value: Double | None = None


class DiscreteValueCondition(VertexModel):
    """Active when a DISCRETE parent takes one of ``values``."""

    values: list[Double] = Field(default_factory=list)


class IntValueCondition(VertexModel):
    """Active when an INTEGER parent takes one of ``values``."""

    values: list[Int64] = Field(default_factory=list)


class CategoricalValueCondition(VertexModel):
    """Active when a CATEGORICAL parent takes one of ``values``."""

    values: list[str] = Field(default_factory=list)


class ConditionalParameterSpec(VertexModel):
    """A child parameter, suggested only when its parent's value meets the condition."""

    parameter_spec: ParameterSpec | None = None
    parent_discrete_values: DiscreteValueCondition | None = None
    parent_int_values: IntValueCondition | None = None
    parent_categorical_values: CategoricalValueCondition | None = None


class ParameterSpec(VertexModel):
    """One hyperparameter: its id (the flag name), its values and its scale."""

    parameter_id: str = ""
    double_value_spec: DoubleValueSpec | None = None
    integer_value_spec: IntegerValueSpec | None = None
    categorical_value_spec: CategoricalValueSpec | None = None
    discrete_value_spec: DiscreteValueSpec | None = None
    scale_type: ScaleType = ScaleType.SCALE_TYPE_UNSPECIFIED
    conditional_parameter_specs: list[ConditionalParameterSpec] = Field(default_factory=list)

    @property
    def kind(self) -> str:
        """``DOUBLE``, ``INTEGER``, ``CATEGORICAL``, ``DISCRETE``, or ``""`` when none is set."""
        if self.double_value_spec is not None:
            return "DOUBLE"
        if self.integer_value_spec is not None:
            return "INTEGER"
        if self.categorical_value_spec is not None:
            return "CATEGORICAL"
        if self.discrete_value_spec is not None:
            return "DISCRETE"
        return ""


class DecayCurveAutomatedStoppingSpec(VertexModel):
    """Stop trials whose predicted final objective is unlikely to beat the best."""

    use_elapsed_duration: bool = False


class MedianAutomatedStoppingSpec(VertexModel):
    """Stop trials whose best objective is below the median of completed trials."""

    use_elapsed_duration: bool = False


class ConvexAutomatedStoppingSpec(VertexModel):
    """Stop trials by a convex fit of their learning curves."""

    max_step_count: Int64 = 0
    min_step_count: Int64 = 0
    min_measurement_count: Int64 = 0
    learning_rate_parameter_name: str = ""
    use_elapsed_duration: bool = False
    update_all_stopped_trials: bool | None = None


class StudyTimeConstraint(VertexModel):
    """A time limit: a duration or an end time."""

    max_duration: Duration | None = None
    end_time: Timestamp | None = None


class StudyStoppingConfig(VertexModel):
    """Conditions for stopping the whole study (Vizier semantics)."""

    should_stop_asap: bool | None = None
    minimum_runtime_constraint: StudyTimeConstraint | None = None
    maximum_runtime_constraint: StudyTimeConstraint | None = None
    min_num_trials: Int32 | None = None
    max_num_trials: Int32 | None = None
    max_num_trials_no_progress: Int32 | None = None
    max_duration_no_progress: Duration | None = None


class StudySpec(VertexModel):
    """What to optimize (metrics), over what (parameters), and how (algorithm, selection)."""

    metrics: list[MetricSpec] = Field(default_factory=list)
    parameters: list[ParameterSpec] = Field(default_factory=list)
    algorithm: Algorithm = Algorithm.ALGORITHM_UNSPECIFIED
    decay_curve_stopping_spec: DecayCurveAutomatedStoppingSpec | None = None
    median_automated_stopping_spec: MedianAutomatedStoppingSpec | None = None
    convex_automated_stopping_spec: ConvexAutomatedStoppingSpec | None = None
    observation_noise: ObservationNoise = ObservationNoise.OBSERVATION_NOISE_UNSPECIFIED
    measurement_selection_type: MeasurementSelectionType = (
        MeasurementSelectionType.MEASUREMENT_SELECTION_TYPE_UNSPECIFIED
    )
    study_stopping_config: StudyStoppingConfig | None = None


class MeasurementMetric(VertexModel):
    """One metric value in a measurement."""

    metric_id: str = ""
    value: Double = 0.0


class Measurement(VertexModel):
    """What a trial reported at one step."""

    elapsed_duration: Duration | None = None
    step_count: Int64 = 0
    metrics: list[MeasurementMetric] = Field(default_factory=list)

    def value(self, metric_id: str) -> float | None:
        """The value of ``metric_id`` in this measurement, or None."""
        for metric in self.metrics:
            if metric.metric_id == metric_id:
                return metric.value
        return None


ParameterValue = int | float | str
"""A trial's value for one parameter: int (INTEGER), float (DOUBLE, DISCRETE) or str."""


class TrialParameter(VertexModel):
    """``Trial.Parameter``: a parameter id and its value (a google.protobuf.Value)."""

    parameter_id: str = ""
    value: ParameterValue | None = None


class Trial(VertexModel):
    """One run of the training code with one set of hyperparameters."""

    name: str = ""
    id: str = ""
    state: TrialState = TrialState.STATE_UNSPECIFIED
    parameters: list[TrialParameter] = Field(default_factory=list)
    final_measurement: Measurement | None = None
    measurements: list[Measurement] = Field(default_factory=list)
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None
    client_id: str = ""
    infeasible_reason: str = ""
    custom_job: str = ""
    web_access_uris: dict[str, str] = Field(default_factory=dict)

    def parameter_dict(self) -> dict[str, ParameterValue]:
        """The trial's parameters as ``{parameter_id: value}``."""
        return {p.parameter_id: p.value for p in self.parameters if p.value is not None}


ConditionalParameterSpec.model_rebuild()
