"""Alembic migrations of tuneyard's schema; run them through :mod:`tuneyard.store.migrate`."""
