"""``SqlStore``: the store on SQLAlchemy, for SQLite files and PostgreSQL servers.

Every method is one transaction through :class:`~tuneyard.store.session.Sessions`. Writes that
depend on what they read lock the row they read first (``SELECT ... FOR NO KEY UPDATE`` on
PostgreSQL; on SQLite every write transaction holds the write lock from its ``BEGIN``), so two
engines sharing a database never hand out the same trial id or both win a state change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tuneyard.errors import FailedPrecondition, InvalidArgument, NotFound
from tuneyard.model import (
    HyperparameterTuningJob,
    JobState,
    Measurement,
    Operation,
    ParameterValue,
    Status,
    Trial,
    TrialState,
)
from tuneyard.store import convert, leases, rows
from tuneyard.store.base import Store, TrialRecord
from tuneyard.store.schema import JobRow, MeasurementRow, OperationRow, TrialRow
from tuneyard.store.session import Sessions

_OPERATION_NAME = re.compile(
    r"(?P<parent>projects/[^/]+/locations/[^/]+(?:/hyperparameterTuningJobs/[^/]+)?)"
    r"/operations/(?P<id>[^/]+)"
)
_FINAL_TRIAL_STATES = (TrialState.SUCCEEDED, TrialState.INFEASIBLE)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _append_measurements(
    session: Session, trial: TrialRow, measurements: Sequence[Measurement]
) -> None:
    if not measurements:
        return
    last = session.scalar(
        select(MeasurementRow.seq)
        .where(MeasurementRow.job_id == trial.job_id, MeasurementRow.trial_id == trial.trial_id)
        .order_by(MeasurementRow.seq.desc())
        .limit(1)
    )
    first = (last or 0) + 1
    session.add_all(
        convert.measurement_row(trial.job_id, trial.trial_id, first + i, m)
        for i, m in enumerate(measurements)
    )
    session.flush()


class SqlStore(leases.SqlLeases, Store):
    """The :class:`Store` on a SQLAlchemy engine; see ``Store`` for the contract.

    The store owns the engine and disposes of it in :meth:`close`. Open one with
    :func:`tuneyard.store.open_store`, which also checks or upgrades the schema.

    Example:
        >>> with open_store("sqlite:///jobs.db") as store:  # doctest: +SKIP
        ...     job = store.create_job("my-project", "us-central1", job)
        ...     trial = store.add_trial(job.name, {"lr": 0.01})
    """

    def __init__(self, engine: Engine) -> None:
        self._sessions = Sessions(engine)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine the store uses."""
        return self._sessions.engine

    def close(self) -> None:
        """Close every pooled connection."""
        self._sessions.engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- jobs ---------------------------------------------------------------------------

    def create_job(
        self, project: str, location: str, job: HyperparameterTuningJob
    ) -> HyperparameterTuningJob:
        now = _now()
        row = JobRow(
            project=project,
            location=location,
            display_name=job.display_name,
            state=int(JobState.JOB_STATE_QUEUED),
            create_time=now,
            update_time=now,
            labels=dict(job.labels),
            spec=convert.job_spec(job),
            error=None,
            next_trial_id=1,
        )
        with self._sessions.transaction() as session:
            session.add(row)
            session.flush()
            return convert.job_from_row(row)

    def get_job(self, name: str, *, with_trials: bool = True) -> HyperparameterTuningJob:
        with self._sessions.transaction(write=False) as session:
            row = rows.job_row(session, name)
            trials = [r.trial for r in rows.trial_records(session, row.id)] if with_trials else []
            return convert.job_from_row(row, trials)

    def list_jobs(
        self,
        project: str | None = None,
        location: str | None = None,
        *,
        states: Sequence[JobState] | None = None,
        after_id: int | None = None,
        limit: int | None = None,
    ) -> list[HyperparameterTuningJob]:
        query = select(JobRow).order_by(JobRow.id)
        if project is not None:
            query = query.where(JobRow.project == project)
        if location is not None:
            query = query.where(JobRow.location == location)
        if states is not None:
            query = query.where(JobRow.state.in_([int(s) for s in states]))
        if after_id is not None:
            query = query.where(JobRow.id > after_id)
        if limit is not None:
            query = query.limit(max(limit, 0))
        with self._sessions.transaction(write=False) as session:
            return [convert.job_from_row(row) for row in session.scalars(query)]

    def set_job_state(
        self,
        name: str,
        state: JobState,
        *,
        error: Status | None = None,
        expected: Sequence[JobState] | None = None,
    ) -> HyperparameterTuningJob:
        with self._sessions.transaction() as session:
            row = rows.job_row(session, name, lock=True)
            current = JobState(row.state)
            if expected is not None and current not in expected:
                wanted = " or ".join(s.name for s in expected) or "no state at all"
                raise FailedPrecondition(
                    f"job {name} is in state {current.name}, not {wanted}; "
                    f"it cannot move to {state.name}"
                )
            now = _now()
            row.state = int(state)
            row.update_time = now
            if state == JobState.JOB_STATE_RUNNING and row.start_time is None:
                row.start_time = now
            if state.ended and not current.ended:
                row.end_time = now
            if error is not None:
                row.error = error.to_json_dict()
            return convert.job_from_row(row)

    def delete_job(self, name: str) -> None:
        with self._sessions.transaction() as session:
            # Trials and measurements go with it: ON DELETE CASCADE.
            session.delete(rows.job_row(session, name, lock=True))

    # -- trials -------------------------------------------------------------------------

    def add_trial(
        self,
        name: str,
        parameters: dict[str, ParameterValue],
        *,
        runtime: dict[str, Any] | None = None,
        lease: str | None = None,
    ) -> Trial:
        with self._sessions.transaction() as session:
            # The lock makes the read and the bump of next_trial_id one step for every engine.
            job = rows.job_row(session, name, lock=True)
            if lease is not None:
                leases.require_lease(session, job.id, lease, name)
            trial_id = job.next_trial_id
            job.next_trial_id = trial_id + 1
            row = TrialRow(
                job_id=job.id,
                trial_id=trial_id,
                state=int(TrialState.ACTIVE),
                parameters=convert.parameters_json(parameters),
                final_measurement=None,
                infeasible_reason="",
                failed=False,
                runtime=dict(runtime or {}),
                start_time=_now(),
                end_time=None,
            )
            session.add(row)
            session.flush()
            return convert.trial_from_row(row)

    def trial_records(self, name: str, *, after: int = 0) -> list[TrialRecord]:
        with self._sessions.transaction(write=False) as session:
            return rows.trial_records(session, rows.job_row(session, name).id, after=after)

    def set_trial_runtime(self, name: str, trial_id: str, runtime: dict[str, Any]) -> None:
        with self._sessions.transaction() as session:
            row = rows.trial_row(session, name, trial_id)
            row.runtime = dict(runtime)

    def add_measurements(
        self,
        name: str,
        trial_id: str,
        measurements: Sequence[Measurement],
        *,
        runtime: dict[str, Any] | None = None,
    ) -> None:
        with self._sessions.transaction() as session:
            # Locked, so concurrent appends to one trial take turns choosing seq numbers.
            trial = rows.trial_row(session, name, trial_id)
            if runtime is not None:
                trial.runtime = dict(runtime)
            _append_measurements(session, trial, measurements)

    def finish_trial(
        self,
        name: str,
        trial_id: str,
        state: TrialState,
        *,
        final_measurement: Measurement | None = None,
        infeasible_reason: str = "",
        failed: bool = False,
        measurements: Sequence[Measurement] = (),
        runtime: dict[str, Any] | None = None,
    ) -> Trial:
        if state not in _FINAL_TRIAL_STATES:
            raise InvalidArgument(f"a trial ends SUCCEEDED or INFEASIBLE, not {state.name}")
        with self._sessions.transaction() as session:
            row = rows.trial_row(session, name, trial_id)
            _append_measurements(session, row, measurements)
            if runtime is not None:
                row.runtime = dict(runtime)
            row.state = int(state)
            row.final_measurement = (
                None if final_measurement is None else convert.measurement_json(final_measurement)
            )
            row.infeasible_reason = infeasible_reason
            row.failed = failed
            row.end_time = _now()
            return rows.trial_records(session, row.job_id, only=row.trial_id)[0].trial

    # -- operations -----------------------------------------------------------------------

    def create_operation(self, parent: str, operation: Operation) -> Operation:
        body = operation.to_json_dict()
        body.pop("name", None)
        body.pop("done", None)
        row = OperationRow(parent=parent, done=operation.done, body=body, create_time=_now())
        with self._sessions.transaction() as session:
            session.add(row)
            session.flush()
            return _operation_from_row(row)

    def get_operation(self, name: str) -> Operation:
        missing = NotFound(f"operation {name!r} does not exist")
        match = _OPERATION_NAME.fullmatch(name)
        operation_id = rows.stored_id(match["id"]) if match else None
        if match is None or operation_id is None:
            raise missing
        query = select(OperationRow).where(
            OperationRow.id == operation_id, OperationRow.parent == match["parent"]
        )
        with self._sessions.transaction(write=False) as session:
            row = session.scalar(query)
            if row is None:
                raise missing
            return _operation_from_row(row)


def _operation_from_row(row: OperationRow) -> Operation:
    return Operation.model_validate(
        {**row.body, "name": f"{row.parent}/operations/{row.id}", "done": row.done}
    )
