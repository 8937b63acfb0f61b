"""Finding rows by resource name.

Names that cannot belong to a stored row (malformed, non-numeric or out-of-range ids) are
``NotFound`` like names of rows that do not exist, without asking the database.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from tuneyard.errors import NotFound
from tuneyard.model import parse_job_name
from tuneyard.store.schema import JobRow

_ID = re.compile(r"[0-9]{1,10}")
_MAX_ID = 2**31 - 1  # ids are 32-bit integer columns


def stored_id(text: str) -> int | None:
    """``text`` as a stored job or trial id, or None when no stored id can look like it."""
    if not _ID.fullmatch(text) or int(text) > _MAX_ID:
        return None
    return int(text)


def job_missing(name: str) -> NotFound:
    """The error for a job that does not exist."""
    return NotFound(f"hyperparameterTuningJob {name!r} does not exist")


def job_key(name: str) -> tuple[str, str, int]:
    """``(project, location, id)`` of the job named ``name``, as stored.

    Raises:
        NotFound: no stored job can have this name.
    """
    try:
        project, location, text_id = parse_job_name(name)
    except ValueError:
        raise job_missing(name) from None
    job_id = stored_id(text_id)
    if job_id is None:
        raise job_missing(name)
    return project, location, job_id


def job_row(session: Session, name: str, *, lock: bool = False) -> JobRow:
    """The row of the job named ``name``.

    With ``lock``, the row is locked until the transaction ends (``FOR NO KEY UPDATE`` on
    PostgreSQL; on SQLite, write transactions already hold the database's write lock).

    Raises:
        NotFound: no such job.
    """
    project, location, job_id = job_key(name)
    query = select(JobRow).where(
        JobRow.id == job_id, JobRow.project == project, JobRow.location == location
    )
    row = session.scalar(query.with_for_update(key_share=True) if lock else query)
    if row is None:
        raise job_missing(name)
    return row
