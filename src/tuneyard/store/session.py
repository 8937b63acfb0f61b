"""Engines, the one managed session, and the one place database errors are translated.

SQLite is opened in WAL mode with foreign keys on and a busy timeout, shareable across threads;
the file's folder is created if missing.
Python's ``sqlite3`` begins transactions lazily and only before writes, which lets two writers
read the same row and then collide; here SQLAlchemy emits ``BEGIN`` itself instead, and
``BEGIN IMMEDIATE`` for write transactions, so a writer waits (up to the busy timeout) for the
write lock before it reads anything. PostgreSQL needs ``psycopg`` (the ``postgres`` extra);
plain ``postgresql://`` URLs use it too.

Database errors become tuneyard errors in :func:`translate_errors` and nowhere else::

    IntegrityError                        -> AlreadyExists
    OperationalError (deadlock, conflict) -> Aborted
    OperationalError (anything else)      -> Unavailable
    any other SQLAlchemyError             -> Internal
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from tuneyard.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    Internal,
    Unavailable,
)

#: Seconds a SQLite writer waits for another writer before giving up with Unavailable.
SQLITE_BUSY_TIMEOUT = 30.0

# Execution option marking a connection whose transactions only read.
_READ_ONLY = "tuneyard_read_only"

# PostgreSQL's serialization_failure and deadlock_detected: a retry may succeed.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})

# Strict JSON on every backend: PostgreSQL refuses NaN, so SQLite must not quietly accept it.
_json_dumps = functools.partial(json.dumps, allow_nan=False)


def safe_url(url: str | URL) -> str:
    """The URL as text with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def create_db_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///PATH`` or ``postgresql+psycopg://...``).

    Raises:
        FailedPrecondition: the URL is malformed or needs a driver that is not installed.
    """
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise FailedPrecondition(
            "the database URL is not valid; expected sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DATABASE"
        ) from error
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        return create_engine(parsed, pool_pre_ping=True, json_serializer=_json_dumps)
    except (ImportError, exc.NoSuchModuleError) as error:
        hint = "pip install 'tuneyard[postgres]'" if "psycopg" in str(error) else str(error)
        raise FailedPrecondition(
            f"cannot open {safe_url(parsed)}: its database driver is missing ({hint})"
        ) from error


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        # SQLite creates the file but not its folder; if this fails, connecting says why.
        with contextlib.suppress(OSError):
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT},
        json_serializer=_json_dumps,
    )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    # Take transaction control away from the sqlite3 module; _sqlite_begin emits BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL is durable against a crash of any process (a SIGKILLed engine
        # loses nothing it committed); only a power cut may lose the last commits. It saves
        # an fsync per commit, which is most of a small transaction's cost.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    statement = "BEGIN" if read_only else "BEGIN IMMEDIATE"
    # Straight to the driver: SQLAlchemy's statement machinery would cost more than the BEGIN
    # itself, on every transaction. A failure is wrapped as SQLAlchemy wraps driver errors.
    try:
        connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(statement, None, error, sqlite3.Error) from error


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn database errors raised inside the block into tuneyard errors, chained."""
    try:
        yield
    except exc.IntegrityError as error:
        raise AlreadyExists(f"the database refused a duplicate: {error.orig}") from error
    except exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
            raise Aborted(f"a concurrent change won, retry: {error.orig}") from error
        raise Unavailable(f"the database is unavailable: {error.orig}") from error
    except exc.SQLAlchemyError as error:
        raise Internal(f"database error: {error}") from error


class Sessions:
    """Transactions on one engine: each ``transaction()`` is a session that commits on
    success, rolls back on any error, and always closes.

    Example:
        >>> sessions = Sessions(create_db_engine("sqlite:///jobs.db"))  # doctest: +SKIP
        >>> with sessions.transaction(write=False) as session:  # doctest: +SKIP
        ...     count = session.scalar(select(func.count()).select_from(JobRow))
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read_engine = self._read_only(engine)
        self._writer = sessionmaker(engine, expire_on_commit=False)
        self._reader = sessionmaker(self._read_engine, expire_on_commit=False)

    @staticmethod
    def _read_only(engine: Engine) -> Engine:
        # One snapshot for all of a read's statements: a job and its trials agree.
        if engine.dialect.name == "postgresql":
            return engine.execution_options(**{_READ_ONLY: True}, isolation_level="REPEATABLE READ")
        return engine.execution_options(**{_READ_ONLY: True})

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction; ``write=False`` for transactions that only read.

        Raises:
            AlreadyExists, Aborted, Unavailable, Internal: the database failed (translated).
        """
        factory = self._writer if write else self._reader
        with translate_errors():
            session = factory()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def connection(self, *, write: bool = True) -> Iterator[Connection]:
        """A Core connection in one transaction that commits on success and rolls back on
        any error; ``write=False`` for transactions that only read.

        Raises:
            AlreadyExists, Aborted, Unavailable, Internal: the database failed (translated).
        """
        engine = self.engine if write else self._read_engine
        with translate_errors(), engine.begin() as connection:
            yield connection
