"""Job leases in the engine: a server acts only on jobs it holds, and starts trials only then."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.engine.conftest import toy_job
from tuneyard.engine import Controller, JobLeases
from tuneyard.engine.controller import UNFINISHED_JOB_STATES
from tuneyard.engine.leases import new_owner_id, owner_is_gone
from tuneyard.errors import FailedPrecondition, InvalidArgument
from tuneyard.model import JobState, TrialState
from tuneyard.runtime import LocalExecutor
from tuneyard.store import LeaseLost, SqlStore, open_store


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    with open_store(database_url) as opened:
        yield opened


def _controller(store: SqlStore, executor: LocalExecutor, leases: JobLeases) -> Controller:
    return Controller(store, executor, poll_interval=0.05, cancel_grace_seconds=2.0, leases=leases)


def test_trust_ends_a_margin_before_the_lease_can_expire(store: SqlStore) -> None:
    now = [1000.0]
    leases = JobLeases(store, seconds=30, owner="a", clock=lambda: now[0])
    job = store.create_job("p", "l", toy_job())
    assert leases.refresh(UNFINISHED_JOB_STATES) == [job.name]
    assert leases.holds(job.name) and not leases.due()
    now[0] += 19.0  # 11 s left: more than the 10 s margin
    assert leases.holds(job.name) and leases.due()
    now[0] += 1.5
    assert not leases.holds(job.name)
    with pytest.raises(LeaseLost, match="'a' no longer holds"):
        leases.check(job.name)
    assert leases.renew(UNFINISHED_JOB_STATES) == [job.name]  # nobody took it: renewed
    assert leases.holds(job.name)
    with pytest.raises(InvalidArgument, match="lease seconds"):
        JobLeases(store, seconds=0)


def test_a_server_that_lost_its_lease_starts_no_trial(store: SqlStore) -> None:
    executor = LocalExecutor()
    try:
        # Server A's clock stands still, so only the database can tell it the lease is gone.
        stale = _controller(store, executor, JobLeases(store, seconds=0.5, clock=lambda: 0.0))
        fresh = _controller(store, executor, JobLeases(store, seconds=60))
        job, _ = stale.submit(toy_job(args=["--steps=1"], max_trials=2, parallel=2))
        assert stale.leases is not None and fresh.leases is not None
        assert stale.leases.refresh(UNFINISHED_JOB_STATES) == [job.name]
        time.sleep(0.8)
        assert fresh.leases.refresh(UNFINISHED_JOB_STATES) == [job.name]
        with pytest.raises(LeaseLost, match="must not start trials"):
            stale.reconcile(job.name)
        assert store.trial_records(job.name) == []
        snapshot = fresh.run(job.name)
        assert snapshot.job.state == JobState.JOB_STATE_SUCCEEDED
        assert [r.trial.id for r in snapshot.records] == ["1", "2"]
    finally:
        executor.close()


def test_serve_drives_held_jobs_and_releases_them_on_stop(store: SqlStore) -> None:
    executor = LocalExecutor()
    stop = threading.Event()
    try:
        controller = _controller(store, executor, JobLeases(store, seconds=60))
        done, _ = controller.submit(toy_job(args=["--steps=1"], max_trials=2, parallel=1))
        hang, _ = controller.submit(toy_job(args=["--mode=hang"], max_trials=1, parallel=1))
        engine = threading.Thread(target=controller.serve, args=(stop,))
        engine.start()
        deadline = time.monotonic() + 60
        while store.get_job(done.name, with_trials=False).state != JobState.JOB_STATE_SUCCEEDED:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        while not store.trial_records(hang.name):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # While it serves, nobody else can claim its jobs.
        assert store.lease_jobs("other", 60, states=UNFINISHED_JOB_STATES, claim=5) == []
        stop.set()
        engine.join(timeout=30)
        assert not engine.is_alive()
        # Stopped cleanly: its lease is released, and another server takes the job at once.
        other = _controller(store, executor, JobLeases(store, seconds=60))
        assert other.leases is not None
        assert other.leases.refresh(UNFINISHED_JOB_STATES) == [hang.name]
        other.cancel(hang.name)
        snapshot = other.run(hang.name)
        assert snapshot.job.state == JobState.JOB_STATE_CANCELLED
        assert [r.trial.state for r in snapshot.records] == [TrialState.INFEASIBLE]
    finally:
        stop.set()
        executor.close()


def test_run_drives_one_job_under_its_lease_and_releases_it(store: SqlStore) -> None:
    executor = LocalExecutor()
    try:
        server = JobLeases(store, seconds=30, owner="server")
        held = store.create_job("p", "l", toy_job(max_trials=1, parallel=1))
        assert server.refresh(UNFINISHED_JOB_STATES) == [held.name]
        cli = _controller(store, executor, JobLeases(store, seconds=30))
        with pytest.raises(FailedPrecondition, match="is driven by 'server'"):
            cli.run(held.name)
        assert store.get_job(held.name, with_trials=False).state == JobState.JOB_STATE_QUEUED

        job, _ = cli.submit(toy_job(max_trials=2, parallel=2), claim=True)
        assert server.refresh(UNFINISHED_JOB_STATES) == [held.name]  # not the CLI's job
        assert cli.run(job.name).job.state == JobState.JOB_STATE_SUCCEEDED
        assert cli.leases is not None and not cli.leases.holds(job.name)  # released
    finally:
        executor.close()


def test_a_lease_of_an_ended_process_of_this_machine_is_taken_over(store: SqlStore) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # reaped: its pid names no process now
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mine = new_owner_id()
        gone = mine.replace(f":{os.getpid()}:", f":{ended.pid}:")
        running = mine.replace(f":{os.getpid()}:", f":{alive.pid}:")
        elsewhere = gone.replace(gone.split(":")[0], "another-host", 1)
        assert owner_is_gone(gone)
        assert not owner_is_gone(running) and not owner_is_gone(elsewhere)
        assert not owner_is_gone("host:pid:random")  # an id of another form: cannot tell
        for holder, taken in ((running, False), (elsewhere, False), (gone, True)):
            job = store.create_job("p", "l", toy_job(), lease=(holder, 600.0))
            leases = JobLeases(store)
            if taken:
                leases.claim(job.name)
                assert leases.holds(job.name)
            else:
                with pytest.raises(FailedPrecondition, match=f"driven by '{holder}'"):
                    leases.claim(job.name)
    finally:
        alive.kill()
        alive.wait()
