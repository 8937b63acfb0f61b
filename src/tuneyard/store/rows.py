"""Finding rows by resource name, and reading a job's trials with their measurements.

Names that cannot belong to a stored row (malformed, non-numeric or out-of-range ids) are
``NotFound`` like names of rows that do not exist, without asking the database.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from tuneyard.errors import NotFound
from tuneyard.model import Measurement, parse_job_name
from tuneyard.store import convert
from tuneyard.store.base import TrialRecord
from tuneyard.store.schema import JobRow, MeasurementRow, TrialRow

_ID = re.compile(r"[0-9]{1,10}")
_MAX_ID = 2**31 - 1  # ids are 32-bit integer columns


def stored_id(text: str) -> int | None:
    """``text`` as a stored job or trial id, or None when no stored id can look like it."""
    if not _ID.fullmatch(text) or int(text) > _MAX_ID:
        return None
    return int(text)


def job_row(session: Session, name: str, *, lock: bool = False) -> JobRow:
    """The row of the job named ``name``.

    With ``lock``, the row is locked until the transaction ends (``FOR NO KEY UPDATE`` on
    PostgreSQL; on SQLite, write transactions already hold the database's write lock).

    Raises:
        NotFound: no such job.
    """
    missing = NotFound(f"hyperparameterTuningJob {name!r} does not exist")
    try:
        project, location, text_id = parse_job_name(name)
    except ValueError:
        raise missing from None
    job_id = stored_id(text_id)
    if job_id is None:
        raise missing
    query = select(JobRow).where(
        JobRow.id == job_id, JobRow.project == project, JobRow.location == location
    )
    row = session.scalar(query.with_for_update(key_share=True) if lock else query)
    if row is None:
        raise missing
    return row


def trial_row(session: Session, name: str, trial_id: str) -> TrialRow:
    """The row of trial ``trial_id`` of job ``name``, locked until the transaction ends.

    Raises:
        NotFound: no such job, or the job has no such trial.
    """
    job = job_row(session, name)
    number = stored_id(trial_id)
    row = None
    if number is not None:
        query = select(TrialRow).where(TrialRow.job_id == job.id, TrialRow.trial_id == number)
        row = session.scalar(query.with_for_update(key_share=True))
    if row is None:
        raise NotFound(f"job {name!r} has no trial {trial_id!r}")
    return row


def trial_records(
    session: Session, job_id: int, *, only: int | None = None, after: int = 0
) -> list[TrialRecord]:
    """The job's trials (or just trial ``only``; or those with ids above ``after``) by trial
    id, with measurements in order."""
    trials = (
        select(TrialRow)
        .where(TrialRow.job_id == job_id, TrialRow.trial_id > after)
        .order_by(TrialRow.trial_id)
    )
    measurements = (
        select(MeasurementRow)
        .where(MeasurementRow.job_id == job_id, MeasurementRow.trial_id > after)
        .order_by(MeasurementRow.trial_id, MeasurementRow.seq)
    )
    if only is not None:
        trials = trials.where(TrialRow.trial_id == only)
        measurements = measurements.where(MeasurementRow.trial_id == only)
    by_trial: dict[int, list[Measurement]] = {}
    for m in session.scalars(measurements):
        by_trial.setdefault(m.trial_id, []).append(convert.measurement_from_row(m))
    return [
        TrialRecord(
            trial=convert.trial_from_row(row, by_trial.get(row.trial_id, [])),
            failed=row.failed,
            runtime=dict(row.runtime),
        )
        for row in session.scalars(trials)
    ]
