"""Two ``tuneyard serve`` processes on one PostgreSQL database share the work (issue 6).

Both servers use the same ``TUNEYARD_HOME`` (trial folders) and database, each on its own port.
Jobs are driven under leases (``job_leases``); the tests read the lease owners from the database,
whose owner ids are ``host:boot:pid:random``, to know which server drives which job. A
``tuneyard run`` or ``tuneyard jobs resume`` beside the servers drives its job under the job's
lease too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, text

from tests.api.conftest import PARENT, free_port, toy_job_json
from tuneyard.store import upgrade_database
from tuneyard.store.session import create_db_engine

LEASE_SECONDS = 3
#: Longest time between spawning the toy trainer and its first trace line, on a loaded machine.
TRAINER_STARTUP_SECONDS = 5.0
ENDED = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")


@dataclass(frozen=True)
class Node:
    """One running server."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    log_path: Path


def _start(name: str, home: Path, database: str, logs: Path) -> Node:
    environment = {k: v for k, v in os.environ.items() if k != "TUNEYARD_TOKEN"}
    environment.update(
        TUNEYARD_HOME=str(home),
        TUNEYARD_DATABASE_URL=database,
        TUNEYARD_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    port = free_port()
    log_path = logs / f"server-{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tuneyard.cli.main", "-v", "serve", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Node(name, f"http://127.0.0.1:{port}", process, log, log_path)


def _wait_until_answering(node: Node) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            pytest.fail(f"server {node.name} exited: {node.log_path.read_text()}", pytrace=False)
        try:
            httpx.get(f"{node.url}/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"server {node.name} did not answer within 60 s", pytrace=False)


@pytest.fixture
def servers(tmp_path: Path, postgres_url: str) -> Iterator[tuple[Node, Node]]:
    """Servers ``a`` and ``b`` on one fresh PostgreSQL database and one TUNEYARD_HOME."""
    upgrade_database(postgres_url)
    home = tmp_path / "home"
    home.mkdir()
    nodes = (_start("a", home, postgres_url, tmp_path), _start("b", home, postgres_url, tmp_path))
    try:
        for node in nodes:
            _wait_until_answering(node)
        yield nodes
    finally:
        _stop(*nodes)


def _stop(*nodes: Node) -> None:
    """SIGTERM every node still running, SIGKILL what has not exited 30 s later."""
    for node in nodes:
        if node.process.poll() is None:
            node.process.send_signal(signal.SIGTERM)
    for node in nodes:
        try:
            node.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()
        node.log.close()


@pytest.fixture
def database(postgres_url: str) -> Iterator[Engine]:
    engine = create_db_engine(postgres_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _longest_lease_left(database: Engine) -> float:
    """Seconds until the latest lease expires, on the database's clock."""
    query = "SELECT max(expires) - extract(epoch FROM clock_timestamp()) FROM job_leases"
    with database.connect() as connection:
        return float(connection.execute(text(query)).scalar_one())


def _launched_trials(database: Engine) -> dict[str, list[str]]:
    """Job id -> ids of its ACTIVE trials whose executor handle is stored."""
    query = "SELECT job_id, trial_id, runtime FROM trials WHERE state = 2 ORDER BY trial_id"
    launched: dict[str, list[str]] = {}
    with database.connect() as connection:
        for job_id, trial_id, runtime in connection.execute(text(query)):
            if runtime.get("handle"):
                launched.setdefault(str(job_id), []).append(str(trial_id))
    return launched


def _still_running(trace: Path, trial: str) -> bool:
    """Whether a run of ``trial`` started and has not ended, per the trace."""
    if not trace.exists():
        return False
    return any(run.end is None for run in _runs(trace).get(trial, {}).values())


def _drivers(database: Engine) -> dict[str, int]:
    """Job id -> pid of the server holding its lease (unexpired or not)."""
    with database.connect() as connection:
        rows = connection.execute(text("SELECT job_id, owner FROM job_leases WHERE owner != ''"))
        return {str(job_id): int(owner.split(":")[-2]) for job_id, owner in rows}


@dataclass
class Run:
    """One process that ran a trial, from the toy trainer's trace (``--trace-pid``)."""

    start: float
    end: float | None = None


def _runs(trace: Path) -> dict[str, dict[int, Run]]:
    """Trial id -> pid -> its run."""
    runs: dict[str, dict[int, Run]] = {}
    for line in trace.read_text().splitlines():
        event, trial, moment, pid = line.split()
        by_pid = runs.setdefault(trial, {})
        if event == "start":
            by_pid[int(pid)] = Run(float(moment))
        else:
            by_pid[int(pid)].end = float(moment)
    return runs


@pytest.mark.postgres
def test_two_servers_share_twenty_jobs_and_one_survives_the_other_s_kill(
    servers: tuple[Node, Node], database: Engine, tmp_path: Path
) -> None:
    a, b = servers
    answered: Counter[str] = Counter()

    def call(node: Node, method: str, path: str, **options: Any) -> Any:
        response = httpx.request(method, f"{node.url}/v1/{path}", timeout=30, **options)
        assert response.status_code == 200, response.text
        answered[node.name] += 1
        return response.json()

    traces = tmp_path / "traces"
    traces.mkdir()
    jobs = f"{PARENT}/hyperparameterTuningJobs"
    names = []
    for i in range(20):
        args = ["--steps=3", "--sleep=0.4", f"--trace={traces / str(i)}", "--trace-pid"]
        body = toy_job_json(f"job-{i}", args=args, max_trials=3, parallel=2)
        names.append(call((a, b)[i % 2], "POST", jobs, json=body)["name"])
    ids = [name.rsplit("/", 1)[1] for name in names]
    trace_of = {job_id: traces / str(i) for i, job_id in enumerate(ids)}

    # Kill server a while a trial it launched runs (its handle stored, its process not ended)
    # and server b drives jobs too.
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, (_drivers(database), a.log_path.read_text())
        call((a, b)[sum(answered.values()) % 2], "GET", jobs, params={"pageSize": 50})
        drivers = _drivers(database)
        launched = _launched_trials(database)
        running_on_a = {
            (i, trial)
            for i in ids
            if drivers.get(i) == a.process.pid
            for trial in launched.get(i, [])
            if _still_running(trace_of[i], trial)
        }
        if running_on_a and b.process.pid in drivers.values():
            break
        time.sleep(0.2)
    killed_at = time.time()
    a.process.send_signal(signal.SIGKILL)
    a.process.wait()
    # The servers lease for --lease-seconds (from $TUNEYARD_LEASE_SECONDS), not the default.
    assert _longest_lease_left(database) <= LEASE_SECONDS
    # The jobs a drove when it died and that had not ended.
    listed = call(b, "GET", jobs, params={"pageSize": 50})["hyperparameterTuningJobs"]
    unfinished = {job["name"].rsplit("/", 1)[1] for job in listed if job["state"] not in ENDED}
    orphans = [i for i in ids if drivers.get(i) == a.process.pid and i in unfinished]
    assert orphans, (drivers, listed)

    deadline = time.monotonic() + 120
    while True:
        listed = call(b, "GET", jobs, params={"pageSize": 50})["hyperparameterTuningJobs"]
        if len(listed) == 20 and all(job["state"] in ENDED for job in listed):
            break
        assert time.monotonic() < deadline, (listed, b.log_path.read_text()[-3000:])
        time.sleep(0.5)

    # Server b took over every unfinished job a drove, and every job succeeded with trials 1..3.
    drivers = _drivers(database)
    assert all(drivers[i] == b.process.pid for i in orphans), (orphans, drivers)
    relaunched = []
    adopted = set()  # trials a launched before it died that ran once
    for i, name in enumerate(names):
        job = call(b, "GET", name)
        assert job["state"] == "JOB_STATE_SUCCEEDED", job
        assert [t["id"] for t in job["trials"]] == ["1", "2", "3"]
        assert all(t["state"] == "SUCCEEDED" for t in job["trials"]), job["trials"]
        runs = _runs(traces / str(i))
        assert sorted(runs) == ["1", "2", "3"]
        for trial, by_pid in runs.items():
            ordered = sorted(by_pid.values(), key=lambda run: run.start)
            assert ordered[-1].end is not None  # the run that counted finished
            # A trial runs once; a second run only as b's relaunch of a trial a had started
            # (a died before storing the trial's handle), never overlapping the first.
            assert len(ordered) <= 2, (name, trial, ordered)
            if len(ordered) == 2:
                first, second = ordered
                # a spawned the first run before its death; the trainer writes its start line
                # only once Python has started, which on a loaded machine can be after the kill.
                started_by_a = first.start - TRAINER_STARTUP_SECONDS < killed_at
                assert started_by_a and killed_at < second.start, (name, trial, ordered)
                assert first.end is None or first.end <= second.start, (name, trial, ordered)
                relaunched.append((name, trial))
            elif ordered[0].start < killed_at:
                adopted.add((ids[i], trial))
    # Both servers answered: a the creates and reads before its death, b everything after.
    assert answered["a"] >= 10 and answered["b"] >= 30, answered
    # b re-attached the trials a had running when it died and saw them to their end (the
    # jobs succeeded) without launching them again.
    assert running_on_a <= adopted, (running_on_a, adopted, relaunched)


@pytest.mark.postgres
def test_either_server_cancels_and_deletes_a_job_the_other_drives(
    servers: tuple[Node, Node], database: Engine, tmp_path: Path
) -> None:
    a, b = servers
    trace = tmp_path / "hang.trace"
    body = toy_job_json(
        "hang", args=["--mode=hang", f"--trace={trace}", "--trace-pid"], max_trials=2
    )
    name = httpx.post(f"{a.url}/v1/{PARENT}/hyperparameterTuningJobs", json=body).json()["name"]
    job_id = name.rsplit("/", 1)[1]
    deadline = time.monotonic() + 45
    while not trace.exists() or trace.read_text().count("start") < 2:
        assert time.monotonic() < deadline, a.log_path.read_text() + b.log_path.read_text()
        time.sleep(0.1)
    leader = a if _drivers(database)[job_id] == a.process.pid else b
    other = b if leader is a else a

    cancelled = httpx.post(f"{other.url}/v1/{name}:cancel")
    assert cancelled.status_code == 200, cancelled.text
    while (job := httpx.get(f"{other.url}/v1/{name}").json())["state"] != "JOB_STATE_CANCELLED":
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert [t["state"] for t in job["trials"]] == ["INFEASIBLE", "INFEASIBLE"]
    # The leader stopped the trials: their processes are gone.
    for by_pid in _runs(trace).values():
        for pid in by_pid:
            assert not Path(f"/proc/{pid}").exists() or "Z" in _proc_state(pid)

    deleted = httpx.delete(f"{other.url}/v1/{name}")
    assert deleted.status_code == 200 and deleted.json()["done"] is True, deleted.text
    for node in (a, b):
        assert httpx.get(f"{node.url}/v1/{name}").status_code == 404


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


@pytest.fixture
def server(tmp_path: Path, postgres_url: str) -> Iterator[Node]:
    """One server on a fresh PostgreSQL database, TUNEYARD_HOME ``tmp_path/home``."""
    upgrade_database(postgres_url)
    home = tmp_path / "home"
    home.mkdir()
    node = _start("a", home, postgres_url, tmp_path)
    try:
        _wait_until_answering(node)
        yield node
    finally:
        _stop(node)


@pytest.mark.postgres
def test_a_cli_run_beside_a_server_drives_its_job_alone_and_resume_waits_for_the_server(
    server: Node, database: Engine, postgres_url: str, tmp_path: Path
) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "TUNEYARD_TOKEN"}
    environment.update(TUNEYARD_HOME=str(tmp_path / "home"), TUNEYARD_DATABASE_URL=postgres_url)
    trace = tmp_path / "trace"
    args = ["--steps=2", "--sleep=0.3", f"--trace={trace}", "--trace-pid"]
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(toy_job_json("cli", args=args, max_trials=4, parallel=2)))
    cli = subprocess.Popen(
        [sys.executable, "-m", "tuneyard.cli.main", "run", str(job_file), "--json"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # The server claims new jobs every round; this one is the CLI's from its creation.
    holders = set()
    while cli.poll() is None:
        holders.update(_drivers(database).values())
        time.sleep(0.05)
    out, err = cli.communicate()
    assert cli.returncode == 0, err.decode()
    job = json.loads(out)
    assert job["state"] == "JOB_STATE_SUCCEEDED"
    assert holders == {cli.pid}
    runs = _runs(trace)
    assert sorted(runs) == ["1", "2", "3", "4"]
    assert all(len(by_pid) == 1 for by_pid in runs.values()), runs  # each trial ran once
    assert job["name"] not in server.log_path.read_text()

    # A job the server drives: `jobs resume` refuses, naming the server, and leaves it alone.
    body = toy_job_json("served", args=["--sleep=30"], max_trials=1, parallel=1)
    served = httpx.post(f"{server.url}/v1/{PARENT}/hyperparameterTuningJobs", json=body).json()
    deadline = time.monotonic() + 60
    while served["name"].rsplit("/", 1)[1] not in _drivers(database):
        assert time.monotonic() < deadline, server.log_path.read_text()
        time.sleep(0.05)
    resume = subprocess.run(
        [sys.executable, "-m", "tuneyard.cli.main", "jobs", "resume", served["name"]],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert resume.returncode == 2, resume.stderr  # FAILED_PRECONDITION
    assert f"job {served['name']} is driven by" in resume.stderr
    assert f":{server.process.pid}:" in resume.stderr
    assert _drivers(database)[served["name"].rsplit("/", 1)[1]] == server.process.pid
    cancelled = httpx.post(f"{server.url}/v1/{served['name']}:cancel")
    assert cancelled.status_code == 200, cancelled.text


def test_lease_seconds_must_be_a_positive_number(tmp_path: Path) -> None:
    for value in ("0", "-1", "soon", "inf"):
        result = subprocess.run(
            [sys.executable, "-m", "tuneyard.cli.main", "serve", "--lease-seconds", value],
            env={**os.environ, "TUNEYARD_HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 2
        assert "--lease-seconds / $TUNEYARD_LEASE_SECONDS: must be a positive number" in (
            result.stderr
        )
