"""Migrations: they build exactly the models' schema, and an old schema is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from tests.store.jobs import small_job
from tuneyard.store import UPGRADE_COMMAND, SchemaOutdated, open_store, upgrade_database
from tuneyard.store.__main__ import main
from tuneyard.store.migrate import alembic_config, head_revisions
from tuneyard.store.schema import Base
from tuneyard.store.session import Sessions, create_db_engine


def test_migrations_equal_the_models(store_url: str) -> None:
    upgrade_database(store_url)
    engine = create_db_engine(store_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_nothing_and_back(store_url: str) -> None:
    upgrade_database(store_url)
    engine = create_db_engine(store_url)
    try:
        with Sessions(engine).connection() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    with open_store(store_url) as store:
        assert store.list_jobs() == []


def test_without_upgrade_an_empty_database_is_refused(store_url: str) -> None:
    with pytest.raises(SchemaOutdated) as info:
        open_store(store_url, upgrade=False)
    assert UPGRADE_COMMAND in info.value.message
    assert "no tuneyard schema" in info.value.message
    upgrade_database(store_url)
    with open_store(store_url, upgrade=False) as store:
        assert store.list_jobs() == []


def test_without_upgrade_an_old_schema_is_refused(store_url: str) -> None:
    upgrade_database(store_url)
    engine = create_db_engine(store_url)
    try:
        with Sessions(engine).connection() as connection:
            connection.execute(text("DELETE FROM alembic_version"))
    finally:
        engine.dispose()
    with pytest.raises(SchemaOutdated, match=UPGRADE_COMMAND):
        open_store(store_url, upgrade=False)


def test_a_schema_from_a_newer_tuneyard_is_refused(store_url: str) -> None:
    upgrade_database(store_url)
    engine = create_db_engine(store_url)
    try:
        with Sessions(engine).connection() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    finally:
        engine.dispose()
    for upgrade in (True, False):
        with pytest.raises(SchemaOutdated, match=r"f00d.*upgrade tuneyard"):
            open_store(store_url, upgrade=upgrade)


def test_upgrade_twice_changes_nothing(store_url: str) -> None:
    with open_store(store_url) as store:
        job = store.create_job("p", "l", small_job())
    upgrade_database(store_url)
    with open_store(store_url) as store:
        assert store.get_job(job.name) == job


def test_default_database_is_a_file_in_tuneyard_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNEYARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TUNEYARD_DATABASE_URL", raising=False)
    with open_store() as store:
        assert store.list_jobs() == []
    assert (tmp_path / "home" / "tuneyard.db").is_file()


def test_upgrade_command(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["upgrade", "--url", store_url]) == 0
    assert ", ".join(head_revisions()) in capsys.readouterr().out
    with open_store(store_url, upgrade=False) as store:
        assert store.list_jobs() == []
