"""``SqlStore``: the store on SQLAlchemy, for SQLite files and PostgreSQL servers.

Every method is one transaction through :class:`~tuneyard.store.session.Sessions`. Writes that
depend on what they read lock the row they read first (``SELECT ... FOR NO KEY UPDATE`` on
PostgreSQL; on SQLite every write transaction holds the write lock from its ``BEGIN``), so two
engines sharing a database never hand out the same trial id or both win a state change. Jobs
are created and change state through the ORM; the reads and writes of every reconcile pass go
through the Core statements of :mod:`~tuneyard.store.trials`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from types import TracebackType

from sqlalchemy import Engine, select

from tuneyard.errors import FailedPrecondition, NotFound
from tuneyard.model import HyperparameterTuningJob, JobState, Operation, Status
from tuneyard.store import convert, leases, rows, trials
from tuneyard.store.base import JobRecords, Store, TrialRecord, TrialWriter
from tuneyard.store.jobcache import JobCache
from tuneyard.store.schema import JobRow, OperationRow
from tuneyard.store.session import Sessions

_OPERATION_NAME = re.compile(
    r"(?P<parent>projects/[^/]+/locations/[^/]+(?:/hyperparameterTuningJobs/[^/]+)?)"
    r"/operations/(?P<id>[^/]+)"
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


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
        self._jobs = JobCache()

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
        self,
        project: str,
        location: str,
        job: HyperparameterTuningJob,
        *,
        lease: tuple[str, float] | None = None,
    ) -> HyperparameterTuningJob:
        if lease is not None:
            leases.check_lease_request(*lease)
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
            if lease is not None:
                leases.claim_lease(session, row.id, *lease)
            return convert.job_from_row(row)

    def get_job(self, name: str, *, with_trials: bool = True) -> HyperparameterTuningJob:
        with self._sessions.connection(write=False) as connection:
            row = trials.read_job(connection, name)
            records = trials.records_after(connection, row.id) if with_trials else []
            return convert.job_from_row(row, [r.trial for r in records])

    def list_jobs(
        self,
        project: str | None = None,
        location: str | None = None,
        *,
        states: Sequence[JobState] | None = None,
        after_id: int | None = None,
        limit: int | None = None,
    ) -> list[HyperparameterTuningJob]:
        jobs = trials.JOBS
        query = select(jobs).order_by(jobs.c.id)
        if project is not None:
            query = query.where(jobs.c.project == project)
        if location is not None:
            query = query.where(jobs.c.location == location)
        if states is not None:
            query = query.where(jobs.c.state.in_([int(s) for s in states]))
        if after_id is not None:
            query = query.where(jobs.c.id > after_id)
        if limit is not None:
            query = query.limit(max(limit, 0))
        with self._sessions.connection(write=False) as connection:
            return [convert.job_from_row(row) for row in connection.execute(query)]

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

    @contextmanager
    def write_trials(
        self,
        name: str,
        *,
        lease: str | None = None,
        expect: tuple[JobState, int] | None = None,
    ) -> Iterator[TrialWriter]:
        with self._sessions.connection() as connection:
            writer = trials.SqlTrialWriter(connection, name, lease=lease, expect=expect)
            yield writer
            writer.flush()

    def trial_records(self, name: str, *, after: int = 0) -> list[TrialRecord]:
        with self._sessions.connection(write=False) as connection:
            return trials.trial_records(connection, name, after=after)

    def job_records(self, name: str, *, after: int = 0, known: int | None = None) -> JobRecords:
        with self._sessions.connection(write=False) as connection:
            row, job = self._jobs.read(connection, name)
            revision = row["trials_revision"]
            unchanged = known is not None and known == revision
            records = None if unchanged else trials.records_after(connection, row["id"], after)
            return JobRecords(job, records, revision)

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
