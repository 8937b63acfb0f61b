"""``python -m tuneyard.store``: upgrade a database's schema, or write a new migration.

``upgrade [--url URL]`` brings the database (default ``TUNEYARD_DATABASE_URL``) to the newest
schema; ``revision -m "add x"`` autogenerates ``migrations/versions/v<next>_add_x.py`` from the
models, against a scratch database at the current head.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from alembic import command

from tuneyard.config import database_url
from tuneyard.errors import TuneyardError
from tuneyard.store.migrate import alembic_config, head_revisions, upgrade_database
from tuneyard.store.session import Sessions, create_db_engine, safe_url


def _upgrade(url: str | None) -> None:
    url = url or database_url()
    upgrade_database(url)
    sys.stdout.write(f"{safe_url(url)} is at schema revision {', '.join(head_revisions())}\n")


def _revision(message: str) -> None:
    """Autogenerate a revision against a scratch database at the current head."""
    heads = head_revisions()
    if len(heads) != 1:
        raise SystemExit(f"the migrations have {len(heads)} heads; merge them first")
    (head,) = heads
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'head.db'}"
        upgrade_database(url)
        engine = create_db_engine(url)
        try:
            with Sessions(engine).connection() as connection:
                script = command.revision(
                    alembic_config(connection),
                    message=message,
                    autogenerate=True,
                    rev_id=f"{int(head) + 1:04d}",
                )
        finally:
            engine.dispose()
    scripts = script if isinstance(script, list) else [script]
    for written in scripts:
        if written is not None:
            sys.stdout.write(
                f"wrote {written.path}; read it and tidy it (ruff check --fix, ruff format)\n"
            )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m tuneyard.store",
        description="Upgrade a tuneyard database's schema, or write a new migration.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    upgrade = commands.add_parser("upgrade", help="upgrade the database to the newest schema")
    upgrade.add_argument("--url", help="database URL (default: TUNEYARD_DATABASE_URL)")
    revision = commands.add_parser("revision", help="autogenerate a migration from the models")
    revision.add_argument("-m", "--message", required=True, help="what the migration does")
    args = parser.parse_args(argv)
    try:
        if args.command == "upgrade":
            _upgrade(args.url)
        else:
            _revision(args.message)
    except TuneyardError as error:
        sys.stderr.write(f"error: {error.message}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
