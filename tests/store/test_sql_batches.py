"""The store contract, run on SQLite and on PostgreSQL: several trial changes in one transaction
(``write_trials``), and the job with its trial records in one read (``job_records``)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.store.jobs import small_job
from tuneyard.errors import NotFound, TuneyardError
from tuneyard.model import JobState, Measurement, MeasurementMetric, TrialState
from tuneyard.store import JobChanged, SqlStore, open_store


def _measurement(step: int, value: float) -> Measurement:
    return Measurement(
        step_count=step, metrics=[MeasurementMetric(metric_id="accuracy", value=value)]
    )


class Boom(Exception):
    """Raised inside a block to abandon it."""


def test_changes_in_one_block_commit_together(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    first = store.add_trial(job.name, {"lr": 0.1}, runtime={"since": 0.0})
    store.add_trial(job.name, {"lr": 0.2})
    with store.write_trials(job.name) as writer:
        ended = writer.finish_trial(
            first.id,
            TrialState.SUCCEEDED,
            final_measurement=_measurement(2, 0.9),
            measurements=[_measurement(1, 0.5), _measurement(2, 0.9)],
            runtime={"since": 2.0},
        )
        writer.add_measurements("2", [_measurement(1, 0.3)], runtime={"since": 1.0})
        assert writer.next_trial_id() == "3"
        added = writer.add_trial({"lr": 0.3}, runtime={"handle": {"pid": 7}, "since": 0.0})
        assert (added.id, writer.next_trial_id()) == ("3", "4")
        fourth = writer.add_trial({"lr": 0.4})
    assert fourth.id == "4"
    records = store.trial_records(job.name)
    assert [r.trial.id for r in records] == ["1", "2", "3", "4"]
    assert records[0].trial == ended and records[0].runtime == {"since": 2.0}
    assert ended.measurements == [_measurement(1, 0.5), _measurement(2, 0.9)]
    assert records[1].trial.measurements == [_measurement(1, 0.3)]
    assert records[1].runtime == {"since": 1.0}
    assert records[2].trial == added and records[2].runtime == {"handle": {"pid": 7}, "since": 0.0}
    assert store.add_trial(job.name, {"lr": 0.5}).id == "5"


def test_an_end_built_from_the_known_trial_reads_as_stored(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    trial = store.add_trial(job.name, {"lr": 0.1})
    store.add_measurements(job.name, trial.id, [_measurement(1, 0.5)])
    (known,) = store.trial_records(job.name)
    with store.write_trials(job.name) as writer:
        ended = writer.finish_trial(
            trial.id,
            TrialState.SUCCEEDED,
            final_measurement=_measurement(2, 0.9),
            measurements=[_measurement(2, 0.9)],
            known=known.trial,
        )
    (record,) = store.trial_records(job.name)
    assert record.trial == ended  # what was built equals what reads back
    assert ended.measurements == [_measurement(1, 0.5), _measurement(2, 0.9)]
    assert ended.state == TrialState.SUCCEEDED and ended.end_time is not None


def test_an_end_from_a_stale_known_trial_rolls_the_block_back(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    trial = store.add_trial(job.name, {"lr": 0.1})
    store.add_measurements(job.name, trial.id, [_measurement(1, 0.5)])  # not in ``trial``
    with pytest.raises(TuneyardError), store.write_trials(job.name) as writer:
        writer.finish_trial(
            trial.id, TrialState.SUCCEEDED, measurements=[_measurement(2, 0.9)], known=trial
        )
    (record,) = store.trial_records(job.name)
    assert record.trial.state == TrialState.ACTIVE
    assert record.trial.measurements == [_measurement(1, 0.5)]


def test_a_block_that_raises_leaves_nothing(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    trial = store.add_trial(job.name, {"lr": 0.1})
    with pytest.raises(Boom), store.write_trials(job.name) as writer:
        writer.finish_trial(trial.id, TrialState.SUCCEEDED, measurements=[_measurement(1, 0.5)])
        writer.add_trial({"lr": 0.2})
        raise Boom
    (record,) = store.trial_records(job.name)
    assert record.trial == trial and record.trial.measurements == []
    # The trial id handed out in the abandoned block is handed out again.
    assert store.add_trial(job.name, {"lr": 0.3}).id == "2"


def test_an_unknown_trial_in_a_block_rolls_it_back(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    with pytest.raises(NotFound, match="no trial '9'"), store.write_trials(job.name) as writer:
        writer.add_trial({"lr": 0.1})
        writer.set_trial_runtime("9", {})
    assert store.trial_records(job.name) == []


@pytest.mark.parametrize(
    "name",
    [
        "projects/p/locations/l/hyperparameterTuningJobs/2",
        "projects/other/locations/l/hyperparameterTuningJobs/1",
        "projects/p/locations/l/hyperparameterTuningJobs/x",
        "jobs/1",
    ],
)
def test_unknown_jobs_are_not_found(store: SqlStore, name: str) -> None:
    job = store.create_job("p", "l", small_job())
    store.add_trial(job.name, {"lr": 0.1})
    with pytest.raises(NotFound), store.write_trials(name):
        pass
    with pytest.raises(NotFound):
        store.job_records(name)
    with pytest.raises(NotFound):
        store.trial_records(name)


def test_blocks_of_two_stores_on_one_job_take_turns(store_url: str) -> None:
    with open_store(store_url) as first, open_store(store_url, upgrade=False) as second:
        name = first.create_job("p", "l", small_job()).name
        entered = threading.Event()
        ids: list[str] = []

        def hold() -> None:
            with first.write_trials(name) as writer:
                ids.append(writer.add_trial({"lr": 0.1}).id)
                entered.set()
                time.sleep(0.5)  # the other store's block waits for this one to commit
                ids.append(writer.add_trial({"lr": 0.2}).id)

        holder = threading.Thread(target=hold)
        holder.start()
        assert entered.wait(10)
        with second.write_trials(name) as writer:
            ids.append(writer.add_trial({"lr": 0.3}).id)
        holder.join()
        assert ids == ["1", "2", "3"]


def test_job_records_reads_the_job_and_the_trials_after_an_id(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    for value in (0.1, 0.2, 0.3):
        trial = store.add_trial(job.name, {"lr": value}, runtime={"since": value})
        store.add_measurements(job.name, trial.id, [_measurement(1, value)])
    store.finish_trial(job.name, "1", TrialState.SUCCEEDED)
    read = store.job_records(job.name, after=1)
    records = read.records
    assert read.job == store.get_job(job.name, with_trials=False) and read.job.trials == []
    assert records is not None and records == store.trial_records(job.name, after=1)
    assert [(r.trial.id, r.runtime) for r in records] == [
        ("2", {"since": 0.2}),
        ("3", {"since": 0.3}),
    ]
    everything = store.job_records(job.name).records
    assert everything is not None
    assert [r.trial for r in everything] == store.get_job(job.name).trials
    assert store.job_records(job.name, after=3).records == []


def test_job_records_sees_every_change_to_the_job_by_anyone(
    store: SqlStore, store_url: str
) -> None:
    job = store.create_job("p", "l", small_job())
    first = store.job_records(job.name).job
    assert first == store.get_job(job.name, with_trials=False)
    assert store.job_records(job.name).job is first  # unchanged: not built again
    store.add_trial(job.name, {"lr": 0.1})  # trials change the job's counters only
    assert store.job_records(job.name).job is first
    with open_store(store_url) as other:  # another process sharing the database
        other.set_job_state(job.name, JobState.JOB_STATE_RUNNING)
        running = store.job_records(job.name).job
        assert running.state == JobState.JOB_STATE_RUNNING
        assert running == other.get_job(job.name, with_trials=False)
        other.set_job_state(job.name, JobState.JOB_STATE_CANCELLING)
    assert store.job_records(job.name).job.state == JobState.JOB_STATE_CANCELLING
    store.delete_job(job.name)
    with pytest.raises(NotFound):
        store.job_records(job.name)


def test_every_block_that_changes_trials_bumps_the_revision_once(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    start = store.job_records(job.name).revision
    assert store.job_records(job.name, known=start).records is None  # nothing read
    with store.write_trials(job.name) as writer:
        writer.add_trial({"lr": 0.1})
        writer.add_trial({"lr": 0.2})
    assert writer.revision == start + 1
    read = store.job_records(job.name, known=start)
    assert read.revision == start + 1 and read.records is not None and len(read.records) == 2
    with store.write_trials(job.name) as writer:
        pass  # a block that writes nothing leaves the revision alone
    assert writer.revision == start + 1
    assert store.job_records(job.name, known=start + 1).records is None
    changes = [
        lambda: store.set_trial_runtime(job.name, "1", {"since": 1.0}),
        lambda: store.add_measurements(job.name, "1", [_measurement(1, 0.5)]),
        lambda: store.finish_trial(job.name, "2", TrialState.SUCCEEDED),
    ]
    for bumped, change in enumerate(changes, start=start + 2):
        change()
        read = store.job_records(job.name, known=bumped - 1)
        assert read.revision == bumped and read.records is not None
    with pytest.raises(NotFound), store.write_trials(job.name) as writer:
        writer.add_trial({"lr": 0.3})
        writer.finish_trial("9", TrialState.SUCCEEDED)  # rolls the block back
    assert store.job_records(job.name, known=bumped).records is None


def test_a_block_expecting_what_was_read_starts_only_while_the_job_is_so(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    store.set_job_state(job.name, JobState.JOB_STATE_RUNNING)
    read = store.job_records(job.name)
    running = (JobState.JOB_STATE_RUNNING, read.revision)
    with store.write_trials(job.name, expect=running) as writer:
        writer.add_trial({"lr": 0.1})
    after = store.job_records(job.name).revision
    assert after == read.revision + 1
    with (
        pytest.raises(JobChanged, match="trials revision"),
        store.write_trials(
            job.name,
            expect=running,  # the revision the block above moved on from
        ) as writer,
    ):
        writer.add_trial({"lr": 0.2})
    store.set_job_state(job.name, JobState.JOB_STATE_CANCELLING)
    expected = (JobState.JOB_STATE_RUNNING, after)
    with (
        pytest.raises(JobChanged, match="JOB_STATE_CANCELLING"),
        store.write_trials(job.name, expect=expected) as writer,
    ):
        writer.add_trial({"lr": 0.3})
    assert [r.trial.id for r in store.trial_records(job.name)] == ["1"]  # nothing else written
    assert store.job_records(job.name).revision == after
