"""A job's trials and measurements through SQLAlchemy Core: the engine's path, every pass.

The statements are built once, here, with bound parameters, so running one costs a lookup in
the engine's compiled cache instead of building SQL and tracking ORM objects (which cost
several times the SQL itself). :class:`SqlTrialWriter` is the store's :class:`TrialWriter`: it
locks the job's row when it starts (``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL; SQLite's
write transactions hold the database's write lock from ``BEGIN IMMEDIATE``), so trial ids and
measurement numbers are chosen by one writer at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from tuneyard.errors import InvalidArgument, NotFound
from tuneyard.model import JobState, Measurement, ParameterValue, Trial, TrialState
from tuneyard.store import convert, rows
from tuneyard.store.base import JobChanged, TrialRecord, TrialWriter
from tuneyard.store.driver import DriverStatement
from tuneyard.store.leases import require_lease
from tuneyard.store.schema import Base

JOBS = Base.metadata.tables["jobs"]
_TRIALS = Base.metadata.tables["trials"]
_MEASUREMENTS = Base.metadata.tables["measurements"]
_FINAL_TRIAL_STATES = (TrialState.SUCCEEDED, TrialState.INFEASIBLE)

# Bound parameters are named b_*: in UPDATE statements the SET clause comes from the keys of
# the parameters given that name columns.
_THIS_JOB = (
    JOBS.c.id == bindparam("b_id"),
    JOBS.c.project == bindparam("b_project"),
    JOBS.c.location == bindparam("b_location"),
)
JOB = select(JOBS).where(*_THIS_JOB)
JOB_HEAD = select(*(c for c in JOBS.c if c.name != "spec")).where(*_THIS_JOB)
_JOB_EXISTS = select(JOBS.c.id).where(*_THIS_JOB)
# The engine's statements of every pass run on the driver (see :mod:`tuneyard.store.driver`).
JOB_HEAD_ON_DRIVER = DriverStatement(JOB_HEAD)
_LOCK_JOB = DriverStatement(
    select(JOBS.c.id, JOBS.c.next_trial_id, JOBS.c.trials_revision, JOBS.c.state)
    .where(*_THIS_JOB)
    .with_for_update(key_share=True)
)
_SET_JOB_COUNTERS = DriverStatement(update(JOBS).where(JOBS.c.id == bindparam("b_job")))

_THIS_TRIAL = (
    _TRIALS.c.job_id == bindparam("b_job"),
    _TRIALS.c.trial_id == bindparam("b_trial"),
)
_ADD_TRIAL = DriverStatement(insert(_TRIALS))
_SET_TRIAL = DriverStatement(update(_TRIALS).where(*_THIS_TRIAL))
# What :func:`convert.trial_from_row` reads (not the runtime, which can be large).
_END_TRIAL = (
    update(_TRIALS)
    .where(*_THIS_TRIAL)
    .returning(
        *(
            _TRIALS.c[column]
            for column in (
                "trial_id",
                "state",
                "parameters",
                "final_measurement",
                "start_time",
                "end_time",
                "infeasible_reason",
            )
        )
    )
)
_TRIAL_EXISTS = select(_TRIALS.c.trial_id).where(*_THIS_TRIAL)
_TRIALS_AFTER = (
    select(_TRIALS)
    .where(_TRIALS.c.job_id == bindparam("b_id"), _TRIALS.c.trial_id > bindparam("b_after"))
    .order_by(_TRIALS.c.trial_id)
)

_OF_TRIAL = (
    _MEASUREMENTS.c.job_id == bindparam("b_job"),
    _MEASUREMENTS.c.trial_id == bindparam("b_trial"),
)
_LAST_SEQ = select(func.max(_MEASUREMENTS.c.seq)).where(*_OF_TRIAL)
_MEASUREMENTS_OF = select(_MEASUREMENTS).where(*_OF_TRIAL).order_by(_MEASUREMENTS.c.seq)
_MEASUREMENTS_AFTER = (
    select(_MEASUREMENTS)
    .where(
        _MEASUREMENTS.c.job_id == bindparam("b_id"),
        _MEASUREMENTS.c.trial_id > bindparam("b_after"),
    )
    .order_by(_MEASUREMENTS.c.trial_id, _MEASUREMENTS.c.seq)
)
_ADD_MEASUREMENTS = DriverStatement(insert(_MEASUREMENTS))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def job_params(name: str) -> dict[str, Any]:
    """The bound parameters that select the job named ``name`` (NotFound for a bad name)."""
    project, location, job_id = rows.job_key(name)
    return {"b_id": job_id, "b_project": project, "b_location": location}


def read_job(connection: Connection, name: str) -> Row[Any]:
    """The row of the job named ``name`` (NotFound when there is none)."""
    row = connection.execute(JOB, job_params(name)).first()
    if row is None:
        raise rows.job_missing(name)
    return row


def trial_records(connection: Connection, name: str, *, after: int = 0) -> list[TrialRecord]:
    """The trials of job ``name`` with ids above ``after`` (NotFound when there is no such
    job); see :func:`records_after`."""
    params = job_params(name)
    if connection.execute(_JOB_EXISTS, params).first() is None:
        raise rows.job_missing(name)
    return records_after(connection, params["b_id"], after)


def records_after(connection: Connection, job_id: int, after: int = 0) -> list[TrialRecord]:
    """The trials with ids above ``after`` of the job with row id ``job_id``, by trial id,
    with measurements in order."""
    params = {"b_id": job_id, "b_after": after}
    by_trial: dict[int, list[Measurement]] = {}
    for m in connection.execute(_MEASUREMENTS_AFTER, params):
        by_trial.setdefault(m.trial_id, []).append(convert.measurement_from_columns(m._mapping))
    return [
        TrialRecord(
            trial=convert.trial_from_row(row, by_trial.get(row.trial_id, [])),
            failed=row.failed,
            runtime=dict(row.runtime),
        )
        for row in connection.execute(_TRIALS_AFTER, params)
    ]


class SqlTrialWriter(TrialWriter):
    """The :class:`TrialWriter` on a connection inside a write transaction.

    Raises:
        NotFound: (on creation) no job is named ``name``.
        LeaseLost: (on creation) ``lease`` is given and does not hold the job's lease.
        JobChanged: (on creation) ``expect`` is given and the job's state and trials revision
            are not those.
    """

    def __init__(
        self,
        connection: Connection,
        name: str,
        *,
        lease: str | None = None,
        expect: tuple[JobState, int] | None = None,
    ) -> None:
        locked = _LOCK_JOB.first(connection, job_params(name))
        if locked is None:
            raise rows.job_missing(name)
        job_id, next_trial_id, revision, state = locked
        if expect is not None and (int(expect[0]), expect[1]) != (state, revision):
            raise JobChanged(
                f"job {name} changed since it was read: state {JobState(state).name}, trials "
                f"revision {revision} (expected {expect[0].name}, {expect[1]})"
            )
        if lease is not None:
            require_lease(connection, job_id, lease, name)
        self._connection = connection
        self._name = name
        self._job: int = job_id
        self._next_trial_id: int = next_trial_id
        self._revision: int = revision
        self._changed = False

    @property
    def revision(self) -> int:
        return self._revision

    def flush(self) -> None:
        """Store the job's next trial id and bump its trials revision if anything was written
        (once, at the block's end; the job's row is locked, so the new revision is ours)."""
        if self._changed:
            self._revision += 1
            _SET_JOB_COUNTERS.execute(
                self._connection,
                {
                    "b_job": self._job,
                    "next_trial_id": self._next_trial_id,
                    "trials_revision": self._revision,
                },
            )
            self._changed = False

    def _trial(self, trial_id: str) -> dict[str, Any]:
        number = rows.stored_id(trial_id)
        if number is None:
            raise self._no_trial(trial_id)
        return {"b_job": self._job, "b_trial": number}

    def _no_trial(self, trial_id: str) -> NotFound:
        return NotFound(f"job {self._name!r} has no trial {trial_id!r}")

    def _set(self, trial_id: str, key: dict[str, Any], **columns: Any) -> None:
        if _SET_TRIAL.execute(self._connection, {**key, **columns}) != 1:
            raise self._no_trial(trial_id)
        self._changed = True

    def next_trial_id(self) -> str:
        return str(self._next_trial_id)

    def add_trial(
        self, parameters: dict[str, ParameterValue], *, runtime: dict[str, Any] | None = None
    ) -> Trial:
        trial_id = self._next_trial_id
        self._next_trial_id += 1
        self._changed = True
        columns = {
            "job_id": self._job,
            "trial_id": trial_id,
            "state": int(TrialState.ACTIVE),
            "parameters": convert.parameters_json(parameters),
            "final_measurement": None,
            "infeasible_reason": "",
            "failed": False,
            "runtime": dict(runtime or {}),
            "start_time": _now(),
            "end_time": None,
        }
        _ADD_TRIAL.execute(self._connection, columns)
        return convert.trial_from_columns(columns)  # as it reads back: every value round-trips

    def set_trial_runtime(self, trial_id: str, runtime: dict[str, Any]) -> None:
        self._set(trial_id, self._trial(trial_id), runtime=dict(runtime))

    def add_measurements(
        self,
        trial_id: str,
        measurements: Sequence[Measurement],
        *,
        runtime: dict[str, Any] | None = None,
    ) -> None:
        key = self._trial(trial_id)
        if runtime is not None:
            self._set(trial_id, key, runtime=dict(runtime))
        elif self._connection.execute(_TRIAL_EXISTS, key).first() is None:
            raise self._no_trial(trial_id)
        if measurements:
            last = self._connection.execute(_LAST_SEQ, key).scalar()
            self._append(key, (last or 0) + 1, measurements)

    def finish_trial(
        self,
        trial_id: str,
        state: TrialState,
        *,
        final_measurement: Measurement | None = None,
        infeasible_reason: str = "",
        failed: bool = False,
        measurements: Sequence[Measurement] = (),
        runtime: dict[str, Any] | None = None,
        known: Trial | None = None,
    ) -> Trial:
        if state not in _FINAL_TRIAL_STATES:
            raise InvalidArgument(f"a trial ends SUCCEEDED or INFEASIBLE, not {state.name}")
        key = self._trial(trial_id)
        columns: dict[str, Any] = {
            "state": int(state),
            "final_measurement": (
                None if final_measurement is None else convert.measurement_json(final_measurement)
            ),
            "infeasible_reason": infeasible_reason,
            "failed": failed,
            "end_time": _now(),
        }
        if runtime is not None:
            columns["runtime"] = dict(runtime)
        if known is not None:  # nothing to read back: two statements instead of three
            self._set(trial_id, key, **columns)
            added = self._append(key, len(known.measurements) + 1, measurements)
            end = {
                "final_measurement": final_measurement,
                "measurements": [*known.measurements, *added],
            }
            update = {
                **end,
                "state": state,
                "infeasible_reason": infeasible_reason,
                "end_time": columns["end_time"],
            }
            return known.model_copy(update=update)
        ended: Row[Any] | None = self._connection.execute(_END_TRIAL, {**key, **columns}).first()
        if ended is None:
            raise self._no_trial(trial_id)
        self._changed = True
        stored = list(self._connection.execute(_MEASUREMENTS_OF, key))
        added = self._append(key, stored[-1].seq + 1 if stored else 1, measurements)
        kept = [convert.measurement_from_columns(m._mapping) for m in stored]
        return convert.trial_from_row(ended, [*kept, *added])

    def _append(
        self, key: dict[str, Any], first: int, measurements: Sequence[Measurement]
    ) -> list[Measurement]:
        """Insert ``measurements`` numbered from ``first``; return them as they read back."""
        if not measurements:
            return []
        columns = [
            convert.measurement_columns(key["b_job"], key["b_trial"], first + i, m)
            for i, m in enumerate(measurements)
        ]
        _ADD_MEASUREMENTS.execute_many(self._connection, columns)
        self._changed = True
        return [convert.measurement_from_columns(c) for c in columns]
