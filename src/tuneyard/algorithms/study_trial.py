"""A read-only view of one trial of an in-process :class:`~tuneyard.algorithms.study.Study`."""

from __future__ import annotations

from dataclasses import dataclass

from tuneyard.model import Measurement, ParameterValue, Trial, TrialState


@dataclass(frozen=True)
class StudyTrial:
    """A read-only view of one trial of a :class:`Study`.

    Attributes:
        id: the trial id ("1", "2", ...).
        parameters: parameter id to value, only the active parameters.
        state: ACTIVE until completed, then SUCCEEDED or INFEASIBLE.
        measurements: the intermediate measurements, merged by step, in step order.
        final_measurement: the measurement the trial completed with, if any.
        infeasible_reason: why the trial was marked infeasible ("" otherwise).
    """

    id: str
    parameters: dict[str, ParameterValue]
    state: TrialState
    measurements: tuple[Measurement, ...]
    final_measurement: Measurement | None
    infeasible_reason: str

    @property
    def final_metrics(self) -> dict[str, float]:
        """The final measurement as metric id to value (empty before completion)."""
        if self.final_measurement is None:
            return {}
        return {m.metric_id: m.value for m in self.final_measurement.metrics}

    @classmethod
    def of(cls, trial: Trial) -> StudyTrial:
        """The view of a model ``Trial``."""
        return cls(
            id=trial.id,
            parameters=trial.parameter_dict(),
            state=trial.state,
            measurements=tuple(trial.measurements),
            final_measurement=trial.final_measurement,
            infeasible_reason=trial.infeasible_reason,
        )
