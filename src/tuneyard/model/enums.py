"""The enums of Vertex AI's v1 HyperparameterTuningJob, with their proto numbers."""

from __future__ import annotations

from tuneyard.model._base import ProtoEnum


class JobState(ProtoEnum):
    """``google.cloud.aiplatform.v1.JobState``."""

    JOB_STATE_UNSPECIFIED = 0
    JOB_STATE_QUEUED = 1
    JOB_STATE_PENDING = 2
    JOB_STATE_RUNNING = 3
    JOB_STATE_SUCCEEDED = 4
    JOB_STATE_FAILED = 5
    JOB_STATE_CANCELLING = 6
    JOB_STATE_CANCELLED = 7
    JOB_STATE_PAUSED = 8
    JOB_STATE_EXPIRED = 9
    JOB_STATE_UPDATING = 10
    JOB_STATE_PARTIALLY_SUCCEEDED = 11

    @property
    def ended(self) -> bool:
        """True for the states a job never leaves."""
        return self in ENDED_JOB_STATES


ENDED_JOB_STATES = frozenset(
    {JobState.JOB_STATE_SUCCEEDED, JobState.JOB_STATE_FAILED, JobState.JOB_STATE_CANCELLED}
)


class TrialState(ProtoEnum):
    """``Trial.State``."""

    STATE_UNSPECIFIED = 0
    REQUESTED = 1
    ACTIVE = 2
    STOPPING = 3
    SUCCEEDED = 4
    INFEASIBLE = 5


class GoalType(ProtoEnum):
    """``StudySpec.MetricSpec.GoalType``; UNSPECIFIED means MAXIMIZE."""

    GOAL_TYPE_UNSPECIFIED = 0
    MAXIMIZE = 1
    MINIMIZE = 2


class ScaleType(ProtoEnum):
    """``StudySpec.ParameterSpec.ScaleType``."""

    SCALE_TYPE_UNSPECIFIED = 0
    UNIT_LINEAR_SCALE = 1
    UNIT_LOG_SCALE = 2
    UNIT_REVERSE_LOG_SCALE = 3


class Algorithm(ProtoEnum):
    """``StudySpec.Algorithm``; there is no value 1."""

    ALGORITHM_UNSPECIFIED = 0
    GRID_SEARCH = 2
    RANDOM_SEARCH = 3


class ObservationNoise(ProtoEnum):
    """``StudySpec.ObservationNoise`` (Vizier only; refused for tuning jobs)."""

    OBSERVATION_NOISE_UNSPECIFIED = 0
    LOW = 1
    HIGH = 2


class MeasurementSelectionType(ProtoEnum):
    """``StudySpec.MeasurementSelectionType``; UNSPECIFIED means LAST."""

    MEASUREMENT_SELECTION_TYPE_UNSPECIFIED = 0
    LAST_MEASUREMENT = 1
    BEST_MEASUREMENT = 2


class AcceleratorType(ProtoEnum):
    """``google.cloud.aiplatform.v1.AcceleratorType``."""

    ACCELERATOR_TYPE_UNSPECIFIED = 0
    NVIDIA_TESLA_K80 = 1
    NVIDIA_TESLA_P100 = 2
    NVIDIA_TESLA_V100 = 3
    NVIDIA_TESLA_P4 = 4
    NVIDIA_TESLA_T4 = 5
    TPU_V2 = 6
    TPU_V3 = 7
    NVIDIA_TESLA_A100 = 8
    NVIDIA_A100_80GB = 9
    TPU_V4_POD = 10
    NVIDIA_L4 = 11
    TPU_V5_LITEPOD = 12
    NVIDIA_H100_80GB = 13
    NVIDIA_H100_MEGA_80GB = 14
    NVIDIA_H200_141GB = 15
    NVIDIA_B200 = 16
    NVIDIA_GB200 = 17
    NVIDIA_RTX_PRO_6000 = 18


class ReservationAffinityType(ProtoEnum):
    """``ReservationAffinity.Type``."""

    TYPE_UNSPECIFIED = 0
    NO_RESERVATION = 1
    ANY_RESERVATION = 2
    SPECIFIC_RESERVATION = 3


class SchedulingStrategy(ProtoEnum):
    """``Scheduling.Strategy``."""

    STRATEGY_UNSPECIFIED = 0
    ON_DEMAND = 1
    LOW_COST = 2
    STANDARD = 3
    SPOT = 4
    FLEX_START = 6
