"""The database tables, as typed SQLAlchemy ORM classes.

Five tables, each row of a child keyed by its parent's key::

    jobs          id (autoincrement, never reused), project, location, display_name, state,
                  times, labels, spec (the job's Vertex JSON without output-only fields,
                  display name and labels), error, next_trial_id, trials_revision
    trials        (job_id, trial_id)  -> jobs.id ON DELETE CASCADE
    measurements  (job_id, trial_id, seq)  -> trials ON DELETE CASCADE
    operations    id (autoincrement, never reused), parent (the resource name the operation
                  lives under), done, body (the Operation's Vertex JSON without its name),
                  create_time; no foreign key, since a delete operation outlives its job
    job_leases    job_id -> jobs.id ON DELETE CASCADE; owner (the server driving the job, ""
                  for none), expires (seconds since the epoch, on the database's clock)

Enums are stored as their proto numbers, JSON columns hold Vertex JSON (so NaN is the string
``"NaN"`` and every value is strict JSON), and times are UTC (:class:`UtcDateTime`).

A change here needs a migration in ``migrations/versions/``; ``tests/store/test_migrate.py``
fails until the two agree.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints, so later migrations (batch mode on SQLite included) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, in UTC.

    PostgreSQL keeps ``timestamptz`` with microseconds; SQLite keeps text without a zone, so
    values are written there as naive UTC and given their zone back on reading.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; refuse naive values, whose zone nobody knows."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware times only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of tuneyard's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class JobRow(Base):
    """One hyperparameter tuning job."""

    __tablename__ = "jobs"
    # AUTOINCREMENT: SQLite would otherwise reuse the id of the last job once it is deleted.
    __table_args__ = (
        Index("ix_jobs_project_location_id", "project", "location", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(128))
    location: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(Text)
    state: Mapped[int] = mapped_column(Integer)
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)
    start_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # The id the next trial gets; bumped in the transaction that inserts the trial.
    next_trial_id: Mapped[int] = mapped_column(Integer)
    # Bumped by every transaction that changes the job's trials or measurements, so an engine
    # can tell in one read of this row that the trials it knows are still as stored.
    trials_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class TrialRow(Base):
    """One trial of a job; ``trial_id`` is its number within the job (1, 2, ...)."""

    __tablename__ = "trials"

    job_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    trial_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[int] = mapped_column(Integer)
    # [{"parameterId": ..., "value": ...}, ...] in suggestion order.
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    final_measurement: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    infeasible_reason: Mapped[str] = mapped_column(Text)
    failed: Mapped[bool] = mapped_column(Boolean)
    runtime: Mapped[dict[str, Any]] = mapped_column(JSON)
    start_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_time: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MeasurementRow(Base):
    """One measurement a trial reported; ``seq`` orders them within the trial from 1."""

    __tablename__ = "measurements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["job_id", "trial_id"], ["trials.job_id", "trials.trial_id"], ondelete="CASCADE"
        ),
    )

    job_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    trial_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    step_count: Mapped[int] = mapped_column(BigInteger)
    elapsed_seconds: Mapped[float | None] = mapped_column(Double)
    # [{"metricId": ..., "value": ...}, ...] as Vertex JSON.
    metrics: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class OperationRow(Base):
    """One long-running operation (``google.longrunning.Operation``), e.g. a job's deletion."""

    __tablename__ = "operations"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # ``projects/P/locations/L`` or a job's name: the operation is named ``PARENT/operations/ID``.
    parent: Mapped[str] = mapped_column(String(512))
    done: Mapped[bool] = mapped_column(Boolean)
    # {"metadata": ..., "error": ..., "response": ...} as Vertex JSON.
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)


class JobLeaseRow(Base):
    """Which server drives a job, and until when (see ``store/leases.py``)."""

    __tablename__ = "job_leases"

    job_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # The owner id of the server holding the lease; "" when it was released.
    owner: Mapped[str] = mapped_column(String(128))
    # Seconds since the epoch on the database's clock, so servers' clocks need not agree.
    expires: Mapped[float] = mapped_column(Double)
