"""Between model values and table rows: what a job, trial or measurement looks like stored.

Rows (ORM objects of :mod:`~tuneyard.store.schema`, or Core result rows with the same columns)
are seen only in ``store/``; everything the store returns is built here from a row while its
transaction is open, so no row ever leaves ``store/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, RowMapping

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
from tuneyard.store.schema import JobRow

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


def job_from_row(row: JobRow | Row[Any], trials: Sequence[Trial] = ()) -> HyperparameterTuningJob:
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


def measurement_columns(
    job_id: int, trial_id: int, seq: int, measurement: Measurement
) -> dict[str, Any]:
    """The column values storing ``measurement`` as the ``seq``-th of a trial."""
    elapsed = measurement.elapsed_duration
    return {
        "job_id": job_id,
        "trial_id": trial_id,
        "seq": seq,
        "step_count": measurement.step_count,
        "elapsed_seconds": None if elapsed is None else elapsed.total_seconds(),
        "metrics": [m.to_json_dict() for m in measurement.metrics],
    }


def measurement_from_columns(columns: Mapping[str, Any] | RowMapping) -> Measurement:
    """Rebuild a measurement from its stored column values (a row's ``_mapping``)."""
    seconds = columns["elapsed_seconds"]
    return Measurement(
        elapsed_duration=None if seconds is None else timedelta(seconds=seconds),
        step_count=columns["step_count"],
        metrics=[MeasurementMetric.model_validate(m) for m in columns["metrics"]],
    )


def trial_from_row(row: Row[Any], measurements: Sequence[Measurement] = ()) -> Trial:
    """Rebuild a stored trial with its ``measurements`` in order."""
    return trial_from_columns(row._mapping, measurements)


def trial_from_columns(
    columns: Mapping[str, Any] | RowMapping, measurements: Sequence[Measurement] = ()
) -> Trial:
    """Rebuild a trial from its column values (a row's ``_mapping``, or the values written)."""
    final = columns["final_measurement"]
    return Trial(
        id=str(columns["trial_id"]),
        state=TrialState(columns["state"]),
        parameters=[TrialParameter.model_validate(p) for p in columns["parameters"]],
        final_measurement=None if final is None else Measurement.model_validate(final),
        measurements=list(measurements),
        start_time=columns["start_time"],
        end_time=columns["end_time"],
        infeasible_reason=columns["infeasible_reason"],
    )
