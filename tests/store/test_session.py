"""Sessions: database errors become tuneyard errors, and a failed transaction leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.store.jobs import small_job
from tuneyard.errors import AlreadyExists, FailedPrecondition, Unavailable
from tuneyard.store import SqlStore, open_store
from tuneyard.store.schema import TrialRow
from tuneyard.store.session import Sessions, create_db_engine


def _trial_row(job_id: int) -> TrialRow:
    return TrialRow(
        job_id=job_id,
        trial_id=1,
        state=2,
        parameters=[],
        final_measurement=None,
        infeasible_reason="",
        failed=False,
        runtime={},
    )


def test_duplicate_key_is_already_exists(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    store.add_trial(job.name, {"lr": 0.1})
    sessions = Sessions(store.engine)
    with pytest.raises(AlreadyExists) as info, sessions.transaction() as session:
        session.add(_trial_row(int(job.job_id)))
    assert info.value.__cause__ is not None


def test_failed_transaction_is_rolled_back(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    sessions = Sessions(store.engine)
    with pytest.raises(RuntimeError), sessions.transaction() as session:
        session.add(_trial_row(int(job.job_id)))
        session.flush()
        raise RuntimeError("boom")
    with sessions.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(TrialRow)) == 0


def test_sqlite_folder_is_created(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'new' / 'folder' / 'x.db'}") as store:
        assert store.list_jobs() == []
    assert (tmp_path / "new" / "folder" / "x.db").is_file()


def test_unreachable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(Unavailable, match="unavailable") as info:
        open_store(f"sqlite:///{tmp_path / 'file' / 'x.db'}")
    assert info.value.__cause__ is not None


@pytest.mark.postgres
def test_unreachable_postgres_server_is_unavailable() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Unavailable):
        open_store(f"postgresql+psycopg://nobody:secret@127.0.0.1:{port}/none")


def test_plain_postgresql_urls_use_psycopg() -> None:
    engine = create_db_engine("postgresql://u@localhost/db")
    try:
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["mysql://u@localhost/db", "nosuch+driver://u@localhost/db"])
def test_missing_driver_is_named(url: str) -> None:
    with pytest.raises(FailedPrecondition, match="driver is missing"):
        create_db_engine(url)


def test_malformed_url_is_refused() -> None:
    with pytest.raises(FailedPrecondition, match="not valid"):
        create_db_engine("not a url")
