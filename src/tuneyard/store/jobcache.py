"""Jobs as last built from their rows, so a reconcile pass does not rebuild an unchanged job.

Building a :class:`HyperparameterTuningJob` from its row means decoding the stored spec and
validating every field of it, which costs more than the pass's SQL. A job's spec never changes
after it is created, and every other change to a job (state, times, error, labels) shows in its
row's small columns. So a pass reads those columns only; when they are as they were, the job
built last time is returned (models are immutable), else the whole row is read and the job
rebuilt.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Connection

from tuneyard.model import HyperparameterTuningJob
from tuneyard.store import convert, rows
from tuneyard.store.trials import JOB, JOB_HEAD_ON_DRIVER, JOBS, job_params

_COUNTERS = ("next_trial_id", "trials_revision")  # trial bookkeeping, not part of the job
_KEY = tuple(c.name for c in JOBS.c if c.name not in ("spec", *_COUNTERS))


class JobCache:
    """The jobs last built, by row id (at most ``size`` of them); thread-safe."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._jobs: dict[int, tuple[tuple[Any, ...], HyperparameterTuningJob]] = {}
        self._lock = threading.Lock()

    def read(
        self, connection: Connection, name: str
    ) -> tuple[dict[str, Any], HyperparameterTuningJob]:
        """The columns of job ``name`` but its spec (its id and trial counters included), and
        the job (NotFound when there is none)."""
        params = job_params(name)
        values = JOB_HEAD_ON_DRIVER.first(connection, params)
        if values is None:
            raise rows.job_missing(name)
        head = dict(zip(JOB_HEAD_ON_DRIVER.names, values, strict=True))
        key = tuple(head[column] for column in _KEY)
        with self._lock:
            cached = self._jobs.get(head["id"])
        if cached is not None and cached[0] == key:
            return head, cached[1]
        row = connection.execute(JOB, params).first()
        if row is None:  # deleted meanwhile
            raise rows.job_missing(name)
        job = convert.job_from_row(row)
        with self._lock:
            self._jobs.pop(head["id"], None)
            while len(self._jobs) >= self._size:
                self._jobs.pop(next(iter(self._jobs)))
            self._jobs[head["id"]] = (tuple(row._mapping[column] for column in _KEY), job)
        return dict(row._mapping), job
