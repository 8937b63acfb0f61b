"""Schema migrations: upgrading a database to the schema this tuneyard needs, and checking it.

The Alembic scripts live in ``tuneyard/store/migrations/`` and run programmatically (no
``alembic.ini``). Upgrades run on a connection of tuneyard's own engine, in one transaction,
serialized between processes: by SQLite's write lock, and by an advisory lock on PostgreSQL.
``python -m tuneyard.store upgrade`` (:data:`UPGRADE_COMMAND`) is the command for people.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from tuneyard.config import database_url
from tuneyard.errors import FailedPrecondition
from tuneyard.store.session import Sessions, create_db_engine, safe_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

#: The command that upgrades a database's schema.
UPGRADE_COMMAND = "python -m tuneyard.store upgrade"

# Any fixed 64-bit number works; it names tuneyard's lock among other advisory locks.
_PG_UPGRADE_LOCK = 0x7475_6E65_7961_7264 & (2**63 - 1)


class SchemaOutdated(FailedPrecondition):
    """The database's schema is not the one this version of tuneyard uses."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for tuneyard's migrations, running on ``connection``.

    Revision files are named ``v<rev>_<slug>.py``; ``env.py`` uses ``connection``.
    """
    config = Config()
    # The options are read through configparser, which gives '%' a meaning.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def head_revisions() -> set[str]:
    """The head revision(s) of the migration scripts: the schema this tuneyard uses."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade_database(url: str | None = None) -> None:
    """Upgrade the database at ``url`` to the newest schema (an empty one is created).

    Args:
        url: a SQLAlchemy URL; default ``tuneyard.config.database_url()``.

    Raises:
        SchemaOutdated: the database has a revision this tuneyard does not know (it was
            upgraded by a newer tuneyard).
        Unavailable: the database cannot be reached.

    Example:
        >>> upgrade_database("sqlite:///jobs.db")  # doctest: +SKIP
    """
    engine = create_db_engine(url or database_url())
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()


def upgrade_engine(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to the newest schema; see upgrade_database."""
    with Sessions(engine).connection() as connection:
        if connection.dialect.name == "postgresql":
            # Two servers starting at once: the second waits, then finds nothing to do.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_UPGRADE_LOCK}
            )
        _refuse_unknown(connection, _current(connection))
        command.upgrade(alembic_config(connection), "head")


def check_schema(engine: Engine) -> None:
    """Make sure the database behind ``engine`` has exactly the newest schema.

    Raises:
        SchemaOutdated: it has none, an older one (naming :data:`UPGRADE_COMMAND`), or a newer
            one.
        Unavailable: the database cannot be reached.
    """
    with Sessions(engine).connection(write=False) as connection:
        current = _current(connection)
        _refuse_unknown(connection, current)
    heads = head_revisions()
    if current != heads:
        found = f"schema revision {', '.join(sorted(current))}" if current else "no tuneyard schema"
        raise SchemaOutdated(
            f"the database {safe_url(engine.url)} has {found}, but this tuneyard needs schema "
            f"revision {', '.join(sorted(heads))}; upgrade it with `{UPGRADE_COMMAND}` "
            "(it reads TUNEYARD_DATABASE_URL, or pass --url)"
        )


def _current(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def _refuse_unknown(connection: Connection, current: set[str]) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    unknown = []
    for revision in sorted(current):
        try:
            script.revision_map.get_revision(revision)
        except ResolutionError:
            unknown.append(revision)
    if unknown:
        raise SchemaOutdated(
            f"the database {safe_url(connection.engine.url)} has schema revision "
            f"{', '.join(unknown)}, which this version of tuneyard does not know: a newer "
            "tuneyard upgraded it; upgrade tuneyard too"
        )
