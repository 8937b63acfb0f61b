"""Where tuneyard keeps its files and which database it uses (``TUNEYARD_HOME``,
``TUNEYARD_DATABASE_URL``)."""

from __future__ import annotations

import functools
import os
from pathlib import Path


def home() -> Path:
    """``$TUNEYARD_HOME`` (default ``~/.tuneyard``), created if absent."""
    # Resolved once per setting: the engine asks for every trial it launches, and resolving
    # costs a system call per path component.
    path = _resolved(os.environ.get("TUNEYARD_HOME", ""), os.environ.get("HOME", ""))
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
    return path


@functools.lru_cache(maxsize=32)
def _resolved(setting: str, user_home: str) -> Path:
    """The resolved home for ``$TUNEYARD_HOME`` = ``setting`` (``user_home``, ``$HOME``, is
    part of the cache key only: ``~`` and the default depend on it)."""
    path = Path(setting or Path.home() / ".tuneyard").expanduser()
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
