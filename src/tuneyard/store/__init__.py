"""Persistence of jobs, trials and measurements: SQLite by default, PostgreSQL by URL.

``open_store()`` opens the database ``tuneyard.config.database_url()`` names and returns a
:class:`SqlStore`, the one implementation of the :class:`Store` seam. Schema changes are Alembic
migrations inside this package; ``python -m tuneyard.store upgrade`` applies them.
"""

from __future__ import annotations

from tuneyard.config import database_url
from tuneyard.store.base import JobChanged, JobRecords, Store, TrialRecord
from tuneyard.store.leases import LeaseLost
from tuneyard.store.migrate import (
    UPGRADE_COMMAND,
    SchemaOutdated,
    check_schema,
    upgrade_database,
    upgrade_engine,
)
from tuneyard.store.session import create_db_engine
from tuneyard.store.sql import SqlStore

__all__ = [
    "UPGRADE_COMMAND",
    "JobChanged",
    "JobRecords",
    "LeaseLost",
    "SchemaOutdated",
    "SqlStore",
    "Store",
    "TrialRecord",
    "open_store",
    "upgrade_database",
]


def open_store(url: str | None = None, *, upgrade: bool = True) -> SqlStore:
    """Open the store at ``url``, making sure its schema is the one this tuneyard uses.

    Args:
        url: a SQLAlchemy URL such as ``sqlite:////path/tuneyard.db`` or
            ``postgresql+psycopg://user@host/db``; default ``tuneyard.config.database_url()``
            (``$TUNEYARD_DATABASE_URL``, else a SQLite file in ``$TUNEYARD_HOME``).
        upgrade: upgrade the schema to the newest first (creating it in an empty database).
            A server sharing its database passes False, and then refuses an old schema.

    Raises:
        SchemaOutdated: with ``upgrade=False``, the schema is missing or old; the message names
            the command that upgrades it. Also when a newer tuneyard upgraded the database.
        Unavailable: the database cannot be reached.

    Example:
        >>> store = open_store("sqlite:///jobs.db")  # doctest: +SKIP
        >>> store.list_jobs(states=[JobState.JOB_STATE_RUNNING])  # doctest: +SKIP
        []
        >>> store.close()  # doctest: +SKIP
    """
    engine = create_db_engine(url or database_url())
    try:
        if upgrade:
            upgrade_engine(engine)
        else:
            check_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine)
