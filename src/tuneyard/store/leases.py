"""Job leases: which server drives each job, claimed and renewed atomically in the database.

Several servers may share one database. Each job that has not ended is driven by at most one of
them: the holder of the job's row in ``job_leases`` (owner id, expiry). A server calls
:meth:`SqlLeases.lease_jobs` once per round; in one transaction it

1. adds a free lease row (owner ``""``, expired) for every unfinished job that has none,
2. renews its own leases: ``UPDATE ... WHERE owner = me`` (a lease nobody took over is renewed
   even if it lapsed: nobody else acted on the job meanwhile, since taking it changes the owner),
3. claims up to ``claim`` free or expired leases of other owners: ``SELECT ... FOR UPDATE SKIP
   LOCKED`` on PostgreSQL, so two servers claiming at once lock disjoint rows and the row a
   server updates is re-checked after its lock is granted (SQLite serializes all writers).

Expiry times are read from the database's own clock (``clock_timestamp()`` on PostgreSQL,
``julianday('now')`` on SQLite), so the servers' clocks need not agree. A server that lost a
lease must not start trials: ``add_trial(..., lease=owner)`` checks the lease in the transaction
that creates the trial and raises :class:`LeaseLost` when it is not held and unexpired; the
lease row stays locked until that transaction ends, so the job cannot change hands meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, exists, literal, literal_column, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tuneyard.errors import FailedPrecondition, InvalidArgument
from tuneyard.model import JobState, job_name
from tuneyard.store import rows
from tuneyard.store.driver import DriverStatement
from tuneyard.store.schema import JobLeaseRow, JobRow
from tuneyard.store.session import Sessions

#: Longest owner id a lease row holds.
MAX_OWNER_LENGTH = 128

_NOW_SQL = {
    "postgresql": "extract(epoch FROM clock_timestamp())",
    "sqlite": "(julianday('now') - 2440587.5) * 86400.0",
}
_NOW = {dialect: text(f"SELECT {sql}") for dialect, sql in _NOW_SQL.items()}
_NOW_COLUMN: dict[str, ColumnElement[float]] = {
    dialect: literal_column(f"({sql})") for dialect, sql in _NOW_SQL.items()
}

_HELD = {  # built once: building a statement costs more than running it on SQLite
    dialect: select(JobLeaseRow.expires > now)
    .where(JobLeaseRow.job_id == bindparam("b_job"), JobLeaseRow.owner == bindparam("b_owner"))
    .with_for_update(read=True)
    for dialect, now in _NOW_COLUMN.items()
}
_HELD_ON_DRIVER = {dialect: DriverStatement(held) for dialect, held in _HELD.items()}


class LeaseLost(FailedPrecondition):
    """This server does not hold the lease of the job it was about to act on."""


def _dialect(db: Session | Connection) -> str:
    return db.dialect.name if isinstance(db, Connection) else db.get_bind().dialect.name


def database_now(db: Session | Connection) -> float:
    """The database server's time, in seconds since the epoch."""
    return float(db.scalar(_NOW[_dialect(db)]))


def require_lease(db: Session | Connection, job_id: int, owner: str, name: str) -> None:
    """Raise :class:`LeaseLost` unless ``owner`` holds an unexpired lease on job ``job_id``.

    The lease row stays share-locked until the transaction ends (on PostgreSQL; SQLite's write
    transactions lock the whole database): no other server can take the job over meanwhile,
    since claims skip locked rows.
    """
    values = {"b_job": job_id, "b_owner": owner}
    if isinstance(db, Connection):  # the engine's pass: on the driver
        row = _HELD_ON_DRIVER[_dialect(db)].first(db, values)
        held = row is not None and row[0]
    else:
        held = db.scalar(_HELD[_dialect(db)], values)
    if not held:
        raise LeaseLost(
            f"job {name}: server {owner!r} does not hold the job's lease (it expired or "
            "another server took the job over), so it must not start trials of it"
        )


def claim_lease(
    session: Session, job_id: int, owner: str, seconds: float, *, replacing: str | None = None
) -> str | None:
    """:meth:`SqlLeases.claim_job` inside ``session``'s transaction, by the job's row id.

    On PostgreSQL the ``UPDATE`` waits for a server that is claiming the same row and then
    re-checks its condition, so the two never both take it; SQLite serializes writers.
    """
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    session.execute(
        insert(JobLeaseRow).values(job_id=job_id, owner="", expires=0.0).on_conflict_do_nothing()
    )
    now = database_now(session)
    taken = session.scalar(
        update(JobLeaseRow)
        .where(
            JobLeaseRow.job_id == job_id,
            or_(
                JobLeaseRow.owner.in_([owner, "", replacing or owner]),
                JobLeaseRow.expires < now,
            ),
        )
        .values(owner=owner, expires=now + seconds)
        .returning(JobLeaseRow.job_id),
        execution_options={"synchronize_session": False},
    )
    if taken is not None:
        return None
    holder: str = session.execute(
        select(JobLeaseRow.owner).where(JobLeaseRow.job_id == job_id)
    ).scalar_one()
    return holder


def check_lease_request(owner: str, seconds: float) -> None:
    """Raise InvalidArgument for an empty or too long owner id or a non-positive duration."""
    _check_owner(owner)
    _check_seconds(seconds)


def _check_seconds(seconds: float) -> None:
    if not seconds > 0:
        raise InvalidArgument(f"lease seconds: must be greater than 0, not {seconds}")


def _check_owner(owner: str) -> None:
    if not owner or len(owner) > MAX_OWNER_LENGTH:
        raise InvalidArgument(
            f"lease owner {owner!r}: must be 1 to {MAX_OWNER_LENGTH} characters long"
        )


class SqlLeases:
    """The lease methods of :class:`~tuneyard.store.sql.SqlStore`; see the module docstring."""

    _sessions: Sessions

    def lease_jobs(
        self, owner: str, seconds: float, *, states: Sequence[JobState], claim: int
    ) -> list[str]:
        """Renew ``owner``'s leases and claim up to ``claim`` more, each for ``seconds``.

        Only jobs in ``states`` count. Returns the names of every job ``owner`` now holds, by
        ascending id.

        Raises:
            InvalidArgument: ``owner`` is empty or too long, ``seconds`` not positive.
        """
        _check_owner(owner)
        _check_seconds(seconds)
        wanted = [int(s) for s in states]
        live = select(JobRow.id).where(JobRow.state.in_(wanted))
        with self._sessions.transaction() as session:
            now = database_now(session)
            until = now + seconds
            self._add_free_leases(session, live)
            held = set(
                session.scalars(
                    update(JobLeaseRow)
                    .where(JobLeaseRow.owner == owner, JobLeaseRow.job_id.in_(live))
                    .values(expires=until)
                    .returning(JobLeaseRow.job_id),
                    execution_options={"synchronize_session": False},
                )
            )
            if claim > 0:
                free = (
                    select(JobLeaseRow.job_id)
                    .join(JobRow, JobRow.id == JobLeaseRow.job_id)
                    .where(
                        JobRow.state.in_(wanted),
                        JobLeaseRow.owner != owner,
                        JobLeaseRow.expires < now,
                    )
                    .order_by(JobLeaseRow.job_id)
                    .limit(claim)
                    .with_for_update(skip_locked=True, of=JobLeaseRow)
                )
                claimed = list(session.scalars(free))
                if claimed:
                    session.execute(
                        update(JobLeaseRow)
                        .where(JobLeaseRow.job_id.in_(claimed))
                        .values(owner=owner, expires=until),
                        execution_options={"synchronize_session": False},
                    )
                    held.update(claimed)
            if not held:
                return []
            names = session.execute(
                select(JobRow.project, JobRow.location, JobRow.id)
                .where(JobRow.id.in_(held))
                .order_by(JobRow.id)
            )
            return [job_name(project, location, str(i)) for project, location, i in names]

    def claim_job(
        self, name: str, owner: str, seconds: float, *, replacing: str | None = None
    ) -> str | None:
        """Take job ``name``'s lease for ``owner`` for ``seconds`` unless another owner holds it
        unexpired (renew it when ``owner`` holds it; take it from ``replacing`` too); None when
        ``owner`` holds it now, else the owner that does.

        Raises:
            NotFound: no such job.
            InvalidArgument: ``owner`` is empty or too long, ``seconds`` not positive.
        """
        check_lease_request(owner, seconds)
        with self._sessions.transaction() as session:
            job_id = rows.job_row(session, name).id
            return claim_lease(session, job_id, owner, seconds, replacing=replacing)

    @staticmethod
    def _add_free_leases(session: Session, live: Any) -> None:
        # By id, so two servers adding rows at once lock them in one order and never deadlock.
        missing = (
            select(JobRow.id, literal(""), literal(0.0))
            .where(JobRow.id.in_(live), ~exists().where(JobLeaseRow.job_id == JobRow.id))
            .order_by(JobRow.id)
        )
        insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
        # Two servers adding the same row at once: the second one's insert does nothing.
        statement = (
            insert(JobLeaseRow)
            .from_select(["job_id", "owner", "expires"], missing)
            .on_conflict_do_nothing()
        )
        session.execute(statement)

    def release_leases(self, owner: str) -> None:
        """Give up every lease ``owner`` holds, so other servers may claim the jobs at once."""
        _check_owner(owner)
        with self._sessions.transaction() as session:
            session.execute(
                update(JobLeaseRow).where(JobLeaseRow.owner == owner).values(owner="", expires=0.0),
                execution_options={"synchronize_session": False},
            )
