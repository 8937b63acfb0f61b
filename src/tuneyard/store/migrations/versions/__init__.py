"""Alembic revisions, one file each, named ``v<revision>_<slug>.py``."""
