"""The store contract, run on SQLite and on PostgreSQL: job leases for several servers."""

from __future__ import annotations

import threading
import time

import pytest

from tests.store.jobs import small_job
from tuneyard.errors import InvalidArgument, NotFound
from tuneyard.model import JobState
from tuneyard.store import LeaseLost, SqlStore, leases, open_store, rows

UNFINISHED = (
    JobState.JOB_STATE_QUEUED,
    JobState.JOB_STATE_PENDING,
    JobState.JOB_STATE_RUNNING,
    JobState.JOB_STATE_CANCELLING,
)
LONG = 600.0


def _jobs(store: SqlStore, count: int) -> list[str]:
    return [store.create_job("p", "l", small_job()).name for _ in range(count)]


def _expire(seconds: float) -> None:
    # Leases run on the database's clock; wait past them with room to spare.
    time.sleep(seconds + 0.3)


def test_claim_takes_free_jobs_in_id_order(store: SqlStore) -> None:
    names = _jobs(store, 3)
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=2) == names[:2]
    assert store.lease_jobs("b", LONG, states=UNFINISHED, claim=5) == names[2:]
    # Held and unexpired: nobody else gets them, and the holders keep them.
    assert store.lease_jobs("c", LONG, states=UNFINISHED, claim=5) == []
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=5) == names[:2]
    assert store.lease_jobs("b", LONG, states=UNFINISHED, claim=0) == names[2:]


def test_only_jobs_in_the_given_states_are_leased(store: SqlStore) -> None:
    queued, running, ended = _jobs(store, 3)
    store.set_job_state(running, JobState.JOB_STATE_RUNNING)
    store.set_job_state(ended, JobState.JOB_STATE_SUCCEEDED)
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=5) == [queued, running]
    # A held job that ends is no longer reported (nor renewed).
    store.set_job_state(running, JobState.JOB_STATE_FAILED)
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=5) == [queued]
    assert store.lease_jobs("b", LONG, states=[JobState.JOB_STATE_SUCCEEDED], claim=5) == [ended]


def test_renewal_keeps_a_lease_past_its_first_expiry(store: SqlStore) -> None:
    (name,) = _jobs(store, 1)
    assert store.lease_jobs("a", 1.0, states=UNFINISHED, claim=1) == [name]
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=0) == [name]
    _expire(1.0)
    assert store.lease_jobs("b", LONG, states=UNFINISHED, claim=1) == []
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=0) == [name]


def test_an_expired_lease_is_stolen_and_the_old_holder_cannot_add_trials(
    store: SqlStore,
) -> None:
    name, other = _jobs(store, 2)
    assert store.lease_jobs("a", 0.5, states=UNFINISHED, claim=1) == [name]
    assert store.add_trial(name, {"lr": 0.01}, lease="a").id == "1"
    _expire(0.5)
    assert store.lease_jobs("b", LONG, states=UNFINISHED, claim=1) == [name]
    # The old holder learns it lost the job when it renews; its renewal does not take it back.
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=0) == []
    with pytest.raises(LeaseLost, match="'a' does not hold"):
        store.add_trial(name, {"lr": 0.02}, lease="a")
    assert store.add_trial(name, {"lr": 0.03}, lease="b").id == "2"
    assert [t.id for t in store.get_job(name).trials] == ["1", "2"]
    # Without a lease row at all, a guarded add_trial is refused too; unguarded ones work.
    with pytest.raises(LeaseLost):
        store.add_trial(other, {"lr": 0.04}, lease="b")
    assert store.add_trial(other, {"lr": 0.04}).id == "1"


def test_an_expired_lease_not_taken_over_is_renewed_by_its_holder(store: SqlStore) -> None:
    (name,) = _jobs(store, 1)
    assert store.lease_jobs("a", 0.5, states=UNFINISHED, claim=1) == [name]
    _expire(0.5)
    with pytest.raises(LeaseLost):
        store.add_trial(name, {"lr": 0.01}, lease="a")
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=0) == [name]
    assert store.add_trial(name, {"lr": 0.01}, lease="a").id == "1"


def test_released_leases_are_claimed_at_once(store: SqlStore) -> None:
    names = _jobs(store, 3)
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=3) == names
    store.release_leases("a")
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=0) == []
    assert store.lease_jobs("b", LONG, states=UNFINISHED, claim=3) == names


def test_a_leased_job_can_be_deleted(store: SqlStore) -> None:
    name, kept = _jobs(store, 2)
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=2) == [name, kept]
    store.delete_job(name)
    assert store.lease_jobs("a", LONG, states=UNFINISHED, claim=2) == [kept]


def test_bad_owner_or_duration_is_refused(store: SqlStore) -> None:
    with pytest.raises(InvalidArgument, match="lease owner"):
        store.lease_jobs("", LONG, states=UNFINISHED, claim=1)
    with pytest.raises(InvalidArgument, match="lease owner"):
        store.release_leases("x" * 129)
    with pytest.raises(InvalidArgument, match="lease seconds"):
        store.lease_jobs("a", 0.0, states=UNFINISHED, claim=1)


def test_concurrent_claims_never_share_a_job(store_url: str) -> None:
    owners, job_count = 4, 24
    with open_store(store_url) as first, open_store(store_url, upgrade=False) as second:
        names = _jobs(first, job_count)
        held: dict[str, list[str]] = {}
        errors: list[BaseException] = []
        start = threading.Barrier(owners)

        def claim(store: SqlStore, owner: str) -> None:
            start.wait()
            try:
                for _ in range(job_count):
                    held[owner] = store.lease_jobs(owner, LONG, states=UNFINISHED, claim=2)
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [
            threading.Thread(target=claim, args=((first, second)[i % 2], f"server-{i}"))
            for i in range(owners)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        everything = [name for owned in held.values() for name in owned]
        assert sorted(everything) == sorted(names)  # every job held, and by one owner only


def test_a_lease_checked_in_a_transaction_cannot_be_taken_until_it_ends(
    store_url: str,
) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers: the claim would wait for the lock instead")
    with open_store(store_url) as first, open_store(store_url, upgrade=False) as second:
        (name,) = _jobs(first, 1)
        assert first.lease_jobs("a", 0.5, states=UNFINISHED, claim=1) == [name]
        # What a trial's creation does: check the lease in its transaction, which then runs on.
        with first._sessions.transaction() as session:
            leases.require_lease(session, rows.job_row(session, name).id, "a", name)
            _expire(0.5)
            assert second.lease_jobs("b", LONG, states=UNFINISHED, claim=1) == []
        assert second.lease_jobs("b", LONG, states=UNFINISHED, claim=1) == [name]


def test_claim_job_takes_one_job_unless_another_owner_holds_it(store: SqlStore) -> None:
    first, second = _jobs(store, 2)
    assert store.claim_job(first, "cli", 1.0) is None  # no lease row yet: taken
    assert store.claim_job(first, "cli", LONG) is None  # its own: renewed
    assert store.claim_job(first, "server", LONG) == "cli"  # held: refused, holder named
    assert store.lease_jobs("server", LONG, states=UNFINISHED, claim=5) == [second]
    assert store.claim_job(second, "cli", LONG) == "server"
    store.release_leases("server")
    assert store.claim_job(second, "cli", 1.0) is None  # released: taken at once
    _expire(1.0)
    assert store.claim_job(second, "server", LONG) is None  # expired: taken over
    with pytest.raises(NotFound):
        store.claim_job("projects/p/locations/l/hyperparameterTuningJobs/999", "cli", LONG)
    with pytest.raises(InvalidArgument, match="lease seconds"):
        store.claim_job(first, "cli", 0)


def test_a_job_created_with_a_lease_is_never_claimed_by_a_server(store: SqlStore) -> None:
    created = store.create_job("p", "l", small_job(), lease=("cli", LONG))
    assert store.lease_jobs("server", LONG, states=UNFINISHED, claim=5) == []
    assert store.lease_jobs("cli", LONG, states=UNFINISHED, claim=0) == [created.name]
    with pytest.raises(InvalidArgument, match="lease owner"):
        store.create_job("p", "l", small_job(), lease=("", LONG))
