"""Alembic's entry point for tuneyard's migrations.

tuneyard runs Alembic programmatically (:mod:`tuneyard.store.migrate`) and hands it a connection
of its own engine, already in a transaction, so SQLite's pragmas and PostgreSQL's upgrade lock
apply to migrations too.
"""

from __future__ import annotations

from alembic import context

from tuneyard.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "tuneyard's migrations run through tuneyard.store.upgrade_database "
        "(python -m tuneyard.store upgrade), not the alembic command"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
