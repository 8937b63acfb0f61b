"""Statements on the driver store and read exactly what SQLAlchemy's own execution does, and
fail with the same translated errors; on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select, update

from tests.store.jobs import small_job
from tuneyard.errors import AlreadyExists
from tuneyard.store import SqlStore
from tuneyard.store.driver import DriverStatement
from tuneyard.store.schema import Base
from tuneyard.store.session import Sessions

TRIALS = Base.metadata.tables["trials"]
KEY = (TRIALS.c.job_id == bindparam("b_job"), TRIALS.c.trial_id == bindparam("b_trial"))
WHEN = datetime(2026, 12, 4, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))


def _columns(job_id: int, trial_id: int, **changes: Any) -> dict[str, Any]:
    columns = {
        "job_id": job_id,
        "trial_id": trial_id,
        "state": 2,
        "parameters": [{"parameterId": "lr", "value": 0.5}],
        "final_measurement": None,
        "infeasible_reason": "",
        "failed": False,
        "runtime": {"handle": {"pid": 7}, "since": 1.5},
        "start_time": WHEN,
        "end_time": None,
    }
    return {**columns, **changes}


@pytest.fixture
def sessions(store: SqlStore) -> Sessions:
    """Transactions on the store's database."""
    return Sessions(store.engine)


def _job_id(store: SqlStore) -> int:
    return int(store.create_job("p", "us-central1", small_job()).job_id)


def test_a_row_written_on_the_driver_reads_back_as_sqlalchemy_writes_it(
    store: SqlStore, sessions: Sessions
) -> None:
    job_id = _job_id(store)
    with sessions.connection() as connection:
        DriverStatement(insert(TRIALS)).execute(connection, _columns(job_id, 1))
        connection.execute(insert(TRIALS), _columns(job_id, 2))
    with sessions.connection(write=False) as connection:
        rows = connection.execute(select(TRIALS).order_by(TRIALS.c.trial_id)).all()
    driven, plain = (dict(row._mapping) for row in rows)
    assert driven == {**plain, "trial_id": 1}
    assert driven["start_time"] == WHEN and driven["start_time"].tzinfo == timezone.utc
    assert driven["final_measurement"] is None and driven["end_time"] is None
    assert driven["runtime"] == {"handle": {"pid": 7}, "since": 1.5}


def test_a_select_on_the_driver_processes_values_as_sqlalchemy_does(
    store: SqlStore, sessions: Sessions
) -> None:
    job_id = _job_id(store)
    with sessions.connection() as connection:
        connection.execute(insert(TRIALS), _columns(job_id, 1, failed=True))
    query = select(TRIALS).where(*KEY)
    driver = DriverStatement(query)
    with sessions.connection(write=False) as connection:
        params = {"b_job": job_id, "b_trial": 1}
        row = driver.first(connection, params)
        expected = connection.execute(query, params).one()
        assert driver.first(connection, {"b_job": job_id, "b_trial": 2}) is None
    assert row == tuple(expected)
    assert driver.names == tuple(c.name for c in TRIALS.c)
    assert row is not None and row[driver.names.index("failed")] is True


def test_an_update_on_the_driver_counts_its_rows_and_sets_only_its_columns(
    store: SqlStore, sessions: Sessions
) -> None:
    job_id = _job_id(store)
    end = WHEN + timedelta(minutes=3)
    statement = DriverStatement(update(TRIALS).where(*KEY))
    with sessions.connection() as connection:
        DriverStatement(insert(TRIALS)).execute_many(
            connection, [_columns(job_id, 1), _columns(job_id, 2)]
        )
        changed = statement.execute(
            connection, {"b_job": job_id, "b_trial": 2, "state": 4, "end_time": end}
        )
        missing = statement.execute(connection, {"b_job": job_id, "b_trial": 9, "state": 4})
    assert (changed, missing) == (1, 0)
    with sessions.connection(write=False) as connection:
        rows = connection.execute(select(TRIALS).order_by(TRIALS.c.trial_id)).all()
    assert [(r.state, r.end_time) for r in rows] == [(2, None), (4, end)]
    assert rows[1].runtime == {"handle": {"pid": 7}, "since": 1.5}


def test_driver_errors_are_translated_like_sqlalchemys(store: SqlStore, sessions: Sessions) -> None:
    job_id = _job_id(store)
    statement = DriverStatement(insert(TRIALS))
    with pytest.raises(AlreadyExists, match="duplicate"), sessions.connection() as connection:
        statement.execute(connection, _columns(job_id, 1))
        statement.execute(connection, _columns(job_id, 1))
    with sessions.connection(write=False) as connection:  # rolled back, both
        assert connection.execute(select(TRIALS)).all() == []
