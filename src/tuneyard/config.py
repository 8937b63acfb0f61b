"""Where tuneyard keeps its files and which database it uses (``TUNEYARD_HOME``,
``TUNEYARD_DATABASE_URL``)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """``$TUNEYARD_HOME`` (default ``~/.tuneyard``), created if absent."""
    path = Path(os.environ.get("TUNEYARD_HOME") or Path.home() / ".tuneyard").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def database_url() -> str:
    """``$TUNEYARD_DATABASE_URL``, or the SQLite file ``$TUNEYARD_HOME/tuneyard.db``."""
    url = os.environ.get("TUNEYARD_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{home() / 'tuneyard.db'}"


def buckets_root() -> Path:
    """The local directory that stands for ``gs://`` buckets: ``$TUNEYARD_HOME/buckets``."""
    path = home() / "buckets"
    path.mkdir(parents=True, exist_ok=True)
    return path
