"""The store contract, run on SQLite and on PostgreSQL: trials and their measurements."""

from __future__ import annotations

import math
import threading
from datetime import timedelta

import pytest

from tests.store.jobs import small_job
from tuneyard.errors import InvalidArgument, NotFound
from tuneyard.model import Measurement, MeasurementMetric, ParameterValue, Trial, TrialState
from tuneyard.store import SqlStore, open_store


def _measurement(step: int, **metrics: float) -> Measurement:
    return Measurement(
        step_count=step,
        elapsed_duration=timedelta(seconds=step, microseconds=step),
        metrics=[MeasurementMetric(metric_id=k, value=v) for k, v in metrics.items()],
    )


def test_trial_ids_count_up_per_job(store: SqlStore) -> None:
    first = store.create_job("p", "l", small_job())
    second = store.create_job("p", "l", small_job())
    assert [store.add_trial(first.name, {"lr": 0.1}).id for _ in range(3)] == ["1", "2", "3"]
    assert store.add_trial(second.name, {"lr": 0.1}).id == "1"
    assert store.add_trial(first.name, {"lr": 0.1}).id == "4"


def test_add_trial_starts_an_active_trial(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    parameters: dict[str, ParameterValue] = {"lr": 0.01, "units": 64, "batch": 32.0, "act": "selu"}
    trial = store.add_trial(job.name, parameters)
    assert trial.state == TrialState.ACTIVE
    assert trial.start_time is not None and trial.start_time.utcoffset() == timedelta(0)
    assert trial.end_time is None and trial.final_measurement is None
    stored = store.get_job(job.name).trials[0]
    assert stored == trial
    # Order and types survive: an int stays an int, 32.0 stays a float.
    assert list(stored.parameter_dict().items()) == list(parameters.items())
    assert [type(v) for v in stored.parameter_dict().values()] == [float, int, float, str]


def test_trials_are_ordered_by_number(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    for i in range(12):
        store.add_trial(job.name, {"lr": i / 100})
    expected = [str(i) for i in range(1, 13)]
    assert [t.id for t in store.get_job(job.name).trials] == expected
    assert [r.trial.id for r in store.trial_records(job.name)] == expected


def test_concurrent_add_trial_never_repeats_an_id(store_url: str) -> None:
    threads_per_store, trials_per_thread = 4, 6
    with open_store(store_url) as first, open_store(store_url, upgrade=False) as second:
        name = first.create_job("p", "l", small_job()).name
        other = first.create_job("p", "l", small_job()).name
        ids: list[str] = []
        errors: list[BaseException] = []
        start = threading.Barrier(2 * threads_per_store)

        def add(store: SqlStore) -> None:
            start.wait()
            try:
                for _ in range(trials_per_thread):
                    ids.append(store.add_trial(name, {"lr": 0.1}).id)
                    store.add_trial(other, {"lr": 0.2})
            except BaseException as error:  # reported below, with the ids
                errors.append(error)

        threads = [
            threading.Thread(target=add, args=(s,))
            for s in (first, second)
            for _ in range(threads_per_store)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        count = 2 * threads_per_store * trials_per_thread
        assert sorted(ids, key=int) == [str(i) for i in range(1, count + 1)]
        assert [t.id for t in second.get_job(name).trials] == [str(i) for i in range(1, count + 1)]
        assert len(first.trial_records(other)) == count


def test_measurements_keep_their_order(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    trial = store.add_trial(job.name, {"lr": 0.1})
    other = store.add_trial(job.name, {"lr": 0.2})
    batches = [
        [_measurement(1, accuracy=0.1), _measurement(5, accuracy=0.4, loss=2.5)],
        [_measurement(3, accuracy=math.inf)],
        [],
        [_measurement(2, accuracy=-math.inf), _measurement(9, accuracy=0.9, loss=0.25)],
    ]
    for batch in batches:
        store.add_measurements(job.name, trial.id, batch)
        store.add_measurements(job.name, other.id, batch[:1])
    expected = [m for batch in batches for m in batch]
    stored = store.get_job(job.name).trials
    assert stored[0].measurements == expected
    assert stored[1].measurements == [b[0] for b in batches if b]
    assert store.trial_records(job.name)[0].trial.measurements == expected


def test_measurements_and_runtime_commit_together(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    trial = store.add_trial(job.name, {"lr": 0.1}, runtime={"handle": {"pid": 1}, "since": 0.0})
    runtime = {"handle": {"pid": 1}, "since": 12.5}
    store.add_measurements(job.name, trial.id, [_measurement(1, accuracy=0.5)], runtime=runtime)
    record = store.trial_records(job.name)[0]
    assert record.runtime == runtime
    assert record.trial.measurements == [_measurement(1, accuracy=0.5)]
    # Without runtime the executor state is left as it was.
    store.add_measurements(job.name, trial.id, [_measurement(2, accuracy=0.6)])
    assert store.trial_records(job.name)[0].runtime == runtime


def test_nan_metrics_are_kept(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    trial = store.add_trial(job.name, {"lr": 0.1})
    store.add_measurements(job.name, trial.id, [_measurement(1, accuracy=math.nan)])
    value = store.get_job(job.name).trials[0].measurements[0].value("accuracy")
    assert value is not None and math.isnan(value)


def test_measurement_without_elapsed_duration(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    trial = store.add_trial(job.name, {"lr": 0.1})
    bare = Measurement(step_count=2**62)
    store.add_measurements(job.name, trial.id, [bare])
    assert store.get_job(job.name).trials[0].measurements == [bare]


def test_finish_trial_succeeded(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    trial = store.add_trial(job.name, {"lr": 0.1})
    store.add_measurements(job.name, trial.id, [_measurement(1, accuracy=0.5)])
    final = _measurement(4, accuracy=0.75, loss=0.1)
    ended = store.finish_trial(job.name, trial.id, TrialState.SUCCEEDED, final_measurement=final)
    assert ended.state == TrialState.SUCCEEDED
    assert ended.final_measurement == final
    assert ended.end_time is not None and trial.start_time is not None
    assert ended.end_time >= trial.start_time and ended.start_time == trial.start_time
    assert ended.infeasible_reason == ""
    assert ended.measurements == [_measurement(1, accuracy=0.5)]
    (record,) = store.trial_records(job.name)
    assert record.trial == ended and record.failed is False


def test_finish_trial_infeasible_and_failed(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    trial = store.add_trial(job.name, {"lr": 0.1})
    ended = store.finish_trial(
        job.name, trial.id, TrialState.INFEASIBLE, infeasible_reason="exit 1", failed=True
    )
    assert (ended.state, ended.infeasible_reason) == (TrialState.INFEASIBLE, "exit 1")
    assert ended.final_measurement is None and ended.end_time is not None
    (record,) = store.trial_records(job.name)
    assert record.failed is True and record.trial == ended
    assert store.get_job(job.name).trials == [ended]


@pytest.mark.parametrize("state", [TrialState.ACTIVE, TrialState.STATE_UNSPECIFIED])
def test_finish_trial_refuses_a_state_that_does_not_end(store: SqlStore, state: TrialState) -> None:
    job = store.create_job("p", "l", small_job())
    trial = store.add_trial(job.name, {"lr": 0.1})
    with pytest.raises(InvalidArgument, match=state.name):
        store.finish_trial(job.name, trial.id, state)


def test_runtime_round_trips(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    runtime = {"handle": {"pids": [12, 13], "dir": "/tmp/ü"}, "since": 0.5, "ok": True, "n": None}
    store.add_trial(job.name, {"lr": 0.1}, runtime=runtime)
    store.add_trial(job.name, {"lr": 0.2})
    first, second = store.trial_records(job.name)
    assert first.runtime == runtime and second.runtime == {}
    store.set_trial_runtime(job.name, "2", {"handle": {"ray": "abc"}, "lost_reports": 3})
    assert store.trial_records(job.name)[1].runtime == {"handle": {"ray": "abc"}, "lost_reports": 3}
    assert store.trial_records(job.name)[0].runtime == runtime


@pytest.mark.parametrize("trial_id", ["3", "0", "x", "", "-1", "99999999999"])
def test_unknown_trial_is_not_found(store: SqlStore, trial_id: str) -> None:
    job = store.create_job("p", "l", small_job())
    store.add_trial(job.name, {"lr": 0.1})
    store.add_trial(job.name, {"lr": 0.2})
    with pytest.raises(NotFound, match="no trial"):
        store.set_trial_runtime(job.name, trial_id, {})
    with pytest.raises(NotFound, match="no trial"):
        store.add_measurements(job.name, trial_id, [_measurement(1, accuracy=1.0)])
    with pytest.raises(NotFound, match="no trial"):
        store.finish_trial(job.name, trial_id, TrialState.SUCCEEDED)


def test_trial_of_another_job_is_not_found(store: SqlStore) -> None:
    first = store.create_job("p", "l", small_job())
    second = store.create_job("p", "l", small_job())
    store.add_trial(first.name, {"lr": 0.1})
    with pytest.raises(NotFound):
        store.finish_trial(second.name, "1", TrialState.SUCCEEDED)


def test_values_returned_are_immutable(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    trial = store.add_trial(job.name, {"lr": 0.1})
    assert isinstance(trial, Trial)
    with pytest.raises(ValueError, match="frozen"):
        trial.id = "9"  # type: ignore[misc]


def test_trial_records_after_an_id(store: SqlStore) -> None:
    job = store.create_job("p", "l", small_job())
    for value in (0.1, 0.2, 0.3):
        trial = store.add_trial(job.name, {"lr": value})
        store.add_measurements(job.name, trial.id, [_measurement(1, accuracy=value)])
    later = store.trial_records(job.name, after=1)
    assert [r.trial.id for r in later] == ["2", "3"]
    assert [r.trial.measurements for r in later] == [
        [_measurement(1, accuracy=0.2)],
        [_measurement(1, accuracy=0.3)],
    ]
    assert store.trial_records(job.name, after=3) == []
