"""Between model values and table rows: what a job, trial or measurement looks like stored.

ORM rows are seen only here, in :mod:`~tuneyard.store.rows` and in :mod:`~tuneyard.store.sql`;
everything the store returns is built here from a row while its session is open, so no row ever
leaves ``store/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from tuneyard.model import (
    HyperparameterTuningJob,
    JobState,
    Measurement,
    MeasurementMetric,
    ParameterValue,
    Trial,
    TrialParameter,
    TrialState,
    job_name,
)
from tuneyard.model.job import OUTPUT_ONLY_JOB_FIELDS
from tuneyard.store.schema import JobRow, MeasurementRow, TrialRow

# Fields that have columns of their own, besides the output-only ones: kept out of ``spec``
# so that each value is stored exactly once.
_COLUMN_FIELDS = frozenset({"display_name", "labels"})


def _aliases(fields: frozenset[str]) -> frozenset[str]:
    model_fields = HyperparameterTuningJob.model_fields
    return frozenset(model_fields[f].alias or f for f in fields)


_NOT_IN_SPEC = _aliases(OUTPUT_ONLY_JOB_FIELDS | _COLUMN_FIELDS)


def job_spec(job: HyperparameterTuningJob) -> dict[str, Any]:
    """The job's Vertex JSON without output-only fields, display name and labels."""
    return {k: v for k, v in job.to_json_dict().items() if k not in _NOT_IN_SPEC}


def job_from_row(row: JobRow, trials: Sequence[Trial] = ()) -> HyperparameterTuningJob:
    """Rebuild the job a row stores, with ``trials`` attached."""
    data: dict[str, Any] = dict(row.spec)
    data.update(
        name=job_name(row.project, row.location, str(row.id)),
        display_name=row.display_name,
        labels=row.labels,
        state=JobState(row.state),
        create_time=row.create_time,
        start_time=row.start_time,
        end_time=row.end_time,
        update_time=row.update_time,
        error=row.error,
        trials=list(trials),
    )
    return HyperparameterTuningJob.model_validate(data)


def parameters_json(parameters: dict[str, ParameterValue]) -> list[dict[str, Any]]:
    """A trial's parameters as Vertex's ``[{"parameterId", "value"}]``, in their order."""
    return [{"parameterId": key, "value": value} for key, value in parameters.items()]


def measurement_json(measurement: Measurement) -> dict[str, Any]:
    """A measurement as Vertex JSON (NaN and infinities spelled as strings)."""
    return measurement.to_json_dict()


def measurement_row(
    job_id: int, trial_id: int, seq: int, measurement: Measurement
) -> MeasurementRow:
    """The row storing ``measurement`` as the ``seq``-th of a trial."""
    elapsed = measurement.elapsed_duration
    return MeasurementRow(
        job_id=job_id,
        trial_id=trial_id,
        seq=seq,
        step_count=measurement.step_count,
        elapsed_seconds=None if elapsed is None else elapsed.total_seconds(),
        metrics=[m.to_json_dict() for m in measurement.metrics],
    )


def measurement_from_row(row: MeasurementRow) -> Measurement:
    """Rebuild a stored measurement."""
    elapsed = None if row.elapsed_seconds is None else timedelta(seconds=row.elapsed_seconds)
    return Measurement(
        elapsed_duration=elapsed,
        step_count=row.step_count,
        metrics=[MeasurementMetric.model_validate(m) for m in row.metrics],
    )


def trial_from_row(row: TrialRow, measurements: Sequence[Measurement] = ()) -> Trial:
    """Rebuild a stored trial with its ``measurements`` in order."""
    final = row.final_measurement
    return Trial(
        id=str(row.trial_id),
        state=TrialState(row.state),
        parameters=[TrialParameter.model_validate(p) for p in row.parameters],
        final_measurement=None if final is None else Measurement.model_validate(final),
        measurements=list(measurements),
        start_time=row.start_time,
        end_time=row.end_time,
        infeasible_reason=row.infeasible_reason,
    )
