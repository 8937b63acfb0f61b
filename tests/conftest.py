"""Fixtures for every test directory: a real PostgreSQL server, and a fresh database per test.

``postgres_url`` is a SQLAlchemy URL (``postgresql+psycopg://...``) of a new, empty database,
dropped after the test. The server is ``$TUNEYARD_TEST_POSTGRES_URL`` when set (its user needs
CREATEDB; the databases are created next to the one it names); otherwise a throwaway cluster
this session starts from the newest ``/usr/lib/postgresql/*/bin`` and removes at the end. The
cluster runs as the ``postgres`` user when the tests run as root, since PostgreSQL refuses root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    import psycopg

ENV_URL = "TUNEYARD_TEST_POSTGRES_URL"
INITDB_OPTIONS = ["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
_NO_SERVER = (
    "the PostgreSQL tests need a server: set TUNEYARD_TEST_POSTGRES_URL, or install PostgreSQL's "
    "server binaries (apt-get install postgresql) so the tests can start a throwaway one"
)


class PostgresServer:
    """A PostgreSQL server on which tests create and drop their own databases."""

    def __init__(self, url: str) -> None:
        self.url: URL = make_url(url).set(drivername="postgresql+psycopg")

    def _admin(self) -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        libpq = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(libpq, autocommit=True)

    def create_database(self) -> str:
        """Create an empty database; return its SQLAlchemy URL."""
        name = f"tuneyard_test_{uuid.uuid4().hex[:12]}"
        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database`, closing what is still connected."""
        name = make_url(url).database
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _scratch_parent() -> str:
    """A folder the postgres user can traverse, for the cluster's data directory."""
    parent = tempfile.gettempdir()
    if os.geteuid() == 0 and not os.stat(parent).st_mode & stat.S_IXOTH:
        parent = "/tmp"
    return parent


def _run(command: list[str], cwd: Path, log: Path | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        server_log = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        pytest.fail(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n"
            f"{result.stderr}\n{server_log}",
            pytrace=False,
        )


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a PostgreSQL cluster in a temporary folder; yield its admin URL; remove it."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if not bins or not Path(bins[-1], "initdb").exists():
        pytest.fail(_NO_SERVER, pytrace=False)
    pgbin = Path(bins[-1])
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = Path(tempfile.mkdtemp(prefix="tuneyard-pg-", dir=_scratch_parent()))
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
    log = data / "server.log"
    pg_ctl = [*as_postgres, str(pgbin / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        _run([*as_postgres, str(pgbin / "initdb"), "-D", str(data), *INITDB_OPTIONS], cwd=data)
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={data} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run([*pg_ctl, "-l", str(log), "-w", "-t", "30", "-o", options, "start"], data, log)
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            _run([*pg_ctl, "-m", "fast", "-w", "stop"], data, log)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server: ``$TUNEYARD_TEST_POSTGRES_URL`` or a throwaway one."""
    url = os.environ.get(ENV_URL)
    if url:
        yield PostgresServer(url)
        return
    with throwaway_cluster() as admin_url:
        yield PostgresServer(admin_url)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    url = postgres_server.create_database()
    try:
        yield url
    finally:
        postgres_server.drop_database(url)
