"""The store contract, run on SQLite and on PostgreSQL: jobs, their states and listing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.store.jobs import rich_job, small_job
from tuneyard.errors import FailedPrecondition, NotFound
from tuneyard.model import JobState, Measurement, MeasurementMetric, Status
from tuneyard.store import SqlStore, open_store
from tuneyard.store.schema import JobRow, MeasurementRow, TrialRow

OUTPUT_ONLY = {"name", "state", "createTime", "updateTime", "startTime", "endTime", "trials"}


def _without_output(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in OUTPUT_ONLY}


def test_create_assigns_name_state_and_times(store: SqlStore) -> None:
    before = datetime.now(timezone.utc)
    job = store.create_job("proj", "us-central1", small_job())
    assert job.name == "projects/proj/locations/us-central1/hyperparameterTuningJobs/1"
    assert job.state == JobState.JOB_STATE_QUEUED
    assert job.create_time is not None and before <= job.create_time
    assert job.update_time == job.create_time
    assert job.start_time is None and job.end_time is None and job.error is None
    assert job.trials == []
    second = store.create_job("proj", "us-central1", small_job())
    assert second.job_id == "2"


def test_full_spec_round_trips_exactly(store: SqlStore) -> None:
    job = rich_job()
    created = store.create_job("proj", "europe-west4", job)
    for read in (created, store.get_job(created.name), store.list_jobs()[0]):
        assert _without_output(read.to_json_dict()) == job.to_json_dict()
        assert _without_output(read.to_json_dict(enum_int=True)) == job.to_json_dict(enum_int=True)


def test_create_ignores_output_only_fields(store: SqlStore) -> None:
    given = small_job(
        name="projects/x/locations/y/hyperparameterTuningJobs/99",
        state="JOB_STATE_SUCCEEDED",
        createTime="2020-01-01T00:00:00Z",
        error={"code": 3, "message": "no"},
        trials=[{"id": "7", "state": "SUCCEEDED"}],
    )
    job = store.create_job("proj", "loc", given)
    assert job.name.endswith("/hyperparameterTuningJobs/1")
    assert job.state == JobState.JOB_STATE_QUEUED
    assert job.error is None and job.trials == []
    assert job.create_time is not None and job.create_time.year > 2020
    assert store.add_trial(job.name, {"lr": 0.01}).id == "1"


@pytest.mark.parametrize(
    "name",
    [
        "projects/proj/locations/loc/hyperparameterTuningJobs/2",
        "projects/other/locations/loc/hyperparameterTuningJobs/1",
        "projects/proj/locations/other/hyperparameterTuningJobs/1",
        "projects/proj/locations/loc/hyperparameterTuningJobs/abc",
        "projects/proj/locations/loc/hyperparameterTuningJobs/99999999999999999999",
        "projects/proj/locations/loc/hyperparameterTuningJobs/-1",
        "1",
        "",
    ],
)
def test_unknown_job_is_not_found(store: SqlStore, name: str) -> None:
    store.create_job("proj", "loc", small_job())
    calls: list[Callable[[], object]] = [
        lambda: store.get_job(name),
        lambda: store.set_job_state(name, JobState.JOB_STATE_RUNNING),
        lambda: store.delete_job(name),
        lambda: store.add_trial(name, {"lr": 0.1}),
        lambda: store.trial_records(name),
    ]
    for call in calls:
        with pytest.raises(NotFound, match="does not exist"):
            call()


def test_list_filters_pages_and_leaves_out_trials(store: SqlStore) -> None:
    made = [
        store.create_job(project, location, small_job(displayName=f"job{i}"))
        for i, (project, location) in enumerate(
            [("a", "x"), ("a", "y"), ("b", "x"), ("a", "x"), ("a", "x")]
        )
    ]
    store.add_trial(made[0].name, {"lr": 0.05})
    store.set_job_state(made[3].name, JobState.JOB_STATE_RUNNING)

    def ids(jobs: list[Any]) -> list[str]:
        return [j.job_id for j in jobs]

    everything = store.list_jobs()
    assert ids(everything) == ["1", "2", "3", "4", "5"]
    assert all(j.trials == [] for j in everything)
    assert everything[0].display_name == "job0"
    assert ids(store.list_jobs("a")) == ["1", "2", "4", "5"]
    assert ids(store.list_jobs("a", "x")) == ["1", "4", "5"]
    assert ids(store.list_jobs(location="x")) == ["1", "3", "4", "5"]
    assert ids(store.list_jobs(states=[JobState.JOB_STATE_RUNNING])) == ["4"]
    assert ids(store.list_jobs(states=[JobState.JOB_STATE_QUEUED], limit=2)) == ["1", "2"]
    assert ids(store.list_jobs(states=[])) == []
    # Keyset paging: each page starts after the last id of the previous one.
    pages, after = [], None
    while page := store.list_jobs("a", "x", after_id=after, limit=2):
        pages.append(ids(page))
        after = int(page[-1].job_id)
    assert pages == [["1", "4"], ["5"]]
    assert store.list_jobs(after_id=5) == []


def test_job_ids_are_never_reused(store: SqlStore) -> None:
    store.create_job("p", "l", small_job())
    second = store.create_job("p", "l", small_job())
    store.delete_job(second.name)
    assert store.create_job("p", "l", small_job()).job_id == "3"


def test_state_changes_set_times(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    pending = store.set_job_state(job.name, JobState.JOB_STATE_PENDING)
    assert pending.state == JobState.JOB_STATE_PENDING
    assert pending.update_time is not None and job.update_time is not None
    assert pending.update_time > job.update_time
    assert pending.start_time is None and pending.end_time is None

    running = store.set_job_state(job.name, JobState.JOB_STATE_RUNNING)
    assert running.start_time is not None and running.start_time == running.update_time
    again = store.set_job_state(job.name, JobState.JOB_STATE_RUNNING)
    assert again.start_time == running.start_time
    assert again.update_time is not None and running.update_time is not None
    assert again.update_time > running.update_time
    assert again.end_time is None

    cancelling = store.set_job_state(job.name, JobState.JOB_STATE_CANCELLING)
    assert cancelling.end_time is None
    error = Status(code=1, message="CANCELED", details=[{"@type": "t", "reason": "x"}])
    cancelled = store.set_job_state(job.name, JobState.JOB_STATE_CANCELLED, error=error)
    assert cancelled.end_time is not None and cancelled.end_time == cancelled.update_time
    assert cancelled.start_time == running.start_time
    assert cancelled.create_time == job.create_time
    assert cancelled.error == error
    assert store.get_job(job.name) == cancelled


@pytest.mark.parametrize(
    "ended", [JobState.JOB_STATE_SUCCEEDED, JobState.JOB_STATE_FAILED, JobState.JOB_STATE_CANCELLED]
)
def test_end_time_set_on_entering_an_ended_state(store: SqlStore, ended: JobState) -> None:
    job = store.create_job("p", "l", small_job())
    first = store.set_job_state(job.name, ended)
    assert first.end_time is not None and first.start_time is None
    later = store.set_job_state(job.name, ended)
    assert later.end_time == first.end_time


def test_error_kept_until_replaced(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    store.set_job_state(job.name, JobState.JOB_STATE_RUNNING, error=Status(code=9, message="a"))
    kept = store.set_job_state(job.name, JobState.JOB_STATE_FAILED)
    assert kept.error == Status(code=9, message="a")


def test_expected_state_mismatch_is_failed_precondition(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    store.set_job_state(job.name, JobState.JOB_STATE_SUCCEEDED)
    with pytest.raises(FailedPrecondition, match="JOB_STATE_SUCCEEDED") as info:
        store.set_job_state(
            job.name,
            JobState.JOB_STATE_CANCELLING,
            expected=[JobState.JOB_STATE_QUEUED, JobState.JOB_STATE_RUNNING],
        )
    assert "JOB_STATE_QUEUED or JOB_STATE_RUNNING" in info.value.message
    assert store.get_job(job.name).state == JobState.JOB_STATE_SUCCEEDED
    moved = store.set_job_state(
        job.name, JobState.JOB_STATE_FAILED, expected=[JobState.JOB_STATE_SUCCEEDED]
    )
    assert moved.state == JobState.JOB_STATE_FAILED


def test_expected_state_is_checked_atomically(store_url: str) -> None:
    with open_store(store_url) as first, open_store(store_url, upgrade=False) as second:
        name = first.create_job("p", "l", small_job()).name
        first.set_job_state(name, JobState.JOB_STATE_RUNNING)
        wins: list[str] = []
        losses: list[str] = []
        start = threading.Barrier(8)

        def cancel(store: SqlStore) -> None:
            start.wait()
            try:
                store.set_job_state(
                    name, JobState.JOB_STATE_CANCELLING, expected=[JobState.JOB_STATE_RUNNING]
                )
                wins.append("won")
            except FailedPrecondition:
                losses.append("lost")

        threads = [
            threading.Thread(target=cancel, args=((first, second)[i % 2],)) for i in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert (len(wins), len(losses)) == (1, 7)


def test_get_without_trials(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    store.add_trial(job.name, {"lr": 0.01})
    assert store.get_job(job.name, with_trials=False).trials == []
    assert [t.id for t in store.get_job(job.name).trials] == ["1"]


def test_delete_removes_trials_and_measurements(store: SqlStore) -> None:
    kept = store.create_job("p", "l", small_job())
    gone = store.create_job("p", "l", small_job())
    for job in (kept, gone):
        for _ in range(2):
            trial = store.add_trial(job.name, {"lr": 0.01})
            metric = MeasurementMetric(metric_id="accuracy", value=0.5)
            store.add_measurements(
                job.name, trial.id, [Measurement(step_count=1, metrics=[metric])]
            )
    store.delete_job(gone.name)
    with pytest.raises(NotFound):
        store.get_job(gone.name)
    with pytest.raises(NotFound):
        store.delete_job(gone.name)
    with store.engine.connect() as connection:
        counts = {
            row.__tablename__: connection.scalar(
                select(func.count()).select_from(row).where(row.job_id == int(gone.job_id))
            )
            for row in (TrialRow, MeasurementRow)
        }
        jobs = connection.scalar(select(func.count()).select_from(JobRow))
    assert counts == {"trials": 0, "measurements": 0}
    assert jobs == 1
    assert len(store.get_job(kept.name).trials) == 2
    assert all(len(t.measurements) == 1 for t in store.get_job(kept.name).trials)


def test_times_are_aware_utc_with_microseconds(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    running = store.set_job_state(job.name, JobState.JOB_STATE_RUNNING)
    read = store.get_job(job.name)
    times = [read.create_time, read.update_time, read.start_time]
    for value in times:
        assert value is not None and value.tzinfo is not None
        assert value.utcoffset() == timedelta(0)
        assert abs(datetime.now(timezone.utc) - value) < timedelta(minutes=1)
    assert read.create_time == job.create_time
    assert (read.start_time, read.update_time) == (running.start_time, running.update_time)
    assert read.to_json_dict()["createTime"] == job.to_json_dict()["createTime"]
