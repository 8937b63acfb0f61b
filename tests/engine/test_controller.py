"""The controller runs real jobs: real store, real subprocesses, real cloudml-hypertune."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.engine.conftest import toy_job
from tuneyard.engine import Controller
from tuneyard.errors import FailedPrecondition
from tuneyard.model import JobState, Measurement, MeasurementMetric, TrialState
from tuneyard.runtime import LocalExecutor, TrialHandle, TrialProgress
from tuneyard.store import SqlStore
from tuneyard.store.base import TrialWriter


def test_job_runs_to_success_with_best_measurement(controller: Controller) -> None:
    job, notices = controller.submit(toy_job(max_trials=4, parallel=2))
    assert notices == []
    assert job.state == JobState.JOB_STATE_QUEUED
    snapshot = controller.run(job.name)
    final = controller.store.get_job(job.name)
    assert final.state == JobState.JOB_STATE_SUCCEEDED
    assert final.start_time is not None and final.end_time is not None
    assert [t.id for t in final.trials] == ["1", "2", "3", "4"]
    assert len(snapshot.records) == 4
    for trial in final.trials:
        assert trial.state == TrialState.SUCCEEDED
        # Three steps reported score and cost; BEST picks step 2 where the bonus peaks.
        assert [m.step_count for m in trial.measurements] == [1, 2, 3]
        assert trial.final_measurement is not None
        assert trial.final_measurement.step_count == 2
        params = trial.parameter_dict()
        x, n = float(params["x"]), int(params["n"])
        expected = -((x - 0.3) ** 2) - 0.01 * abs(n - 4) + 0.3
        assert trial.final_measurement.value("score") == pytest.approx(expected)
        assert trial.final_measurement.value("cost") == pytest.approx(n * x)


def test_last_measurement_and_unspecified_mean_last(controller: Controller) -> None:
    for selection in ("LAST_MEASUREMENT", "MEASUREMENT_SELECTION_TYPE_UNSPECIFIED"):
        job, _ = controller.submit(toy_job(max_trials=1, parallel=1, selection=selection))
        controller.run(job.name)
        trial = controller.store.get_job(job.name).trials[0]
        assert trial.final_measurement is not None
        assert trial.final_measurement.step_count == 3


def test_never_more_than_parallel_trials_at_once(controller: Controller, tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    job, _ = controller.submit(
        toy_job(args=["--sleep=0.15", f"--trace={trace}"], max_trials=6, parallel=2)
    )
    controller.run(job.name)
    events = sorted(
        (float(t), kind) for kind, _, t in (line.split() for line in trace.read_text().splitlines())
    )
    running = peak = 0
    for _, kind in events:
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert peak == 2
    assert len(controller.store.get_job(job.name).trials) == 6


def test_failed_trials_fail_the_job_with_a_clear_error(controller: Controller) -> None:
    job, _ = controller.submit(
        toy_job(args=["--mode=fail"], max_trials=6, parallel=1, max_failed=2)
    )
    controller.run(job.name)
    final = controller.store.get_job(job.name)
    assert final.state == JobState.JOB_STATE_FAILED
    assert final.error is not None
    assert final.error.message.startswith("2 trials failed (maxFailedTrialCount 2); last: trial 2")
    assert "exited with status 1" in final.error.message
    assert "is failing on purpose" in final.error.message
    assert len(final.trials) == 2
    assert all(t.state == TrialState.INFEASIBLE for t in final.trials)


def test_first_trial_failing_fails_the_job_when_max_failed_is_zero(controller: Controller) -> None:
    job, _ = controller.submit(toy_job(args=["--mode=crash"], max_trials=10, parallel=1))
    controller.run(job.name)
    final = controller.store.get_job(job.name)
    assert final.state == JobState.JOB_STATE_FAILED
    assert len(final.trials) == 1
    assert final.error is not None
    assert "trial 1 failed before any trial succeeded" in final.error.message
    assert "boom: the trainer crashed before reporting" in final.error.message


def test_some_failures_below_the_limit_still_succeed(controller: Controller) -> None:
    job, _ = controller.submit(
        toy_job(
            args=["--fail-when=b"],
            max_trials=6,
            parallel=2,
            max_failed=5,
            algorithm="GRID_SEARCH",
            parameters=[
                {"parameterId": "kind", "categoricalValueSpec": {"values": ["a", "b"]}},
                {"parameterId": "n", "integerValueSpec": {"minValue": "1", "maxValue": "3"}},
            ],
        )
    )
    controller.run(job.name)
    final = controller.store.get_job(job.name)
    assert final.state == JobState.JOB_STATE_SUCCEEDED
    failed = [t for t in final.trials if t.parameter_dict()["kind"] == "b"]
    assert len(failed) == 3
    assert all("exited with status 1" in t.infeasible_reason for t in failed)


def test_exit_zero_without_metric_is_infeasible(controller: Controller) -> None:
    job, _ = controller.submit(toy_job(args=["--mode=noreport"], max_trials=2, parallel=2))
    controller.run(job.name)
    final = controller.store.get_job(job.name)
    assert all(t.state == TrialState.INFEASIBLE for t in final.trials)
    assert "without reporting metric 'score'" in final.trials[0].infeasible_reason
    assert final.state == JobState.JOB_STATE_FAILED
    assert final.error is not None and "no trial reported" in final.error.message


def test_grid_search_ends_when_the_grid_is_exhausted(controller: Controller) -> None:
    parameters = [
        {"parameterId": "kind", "categoricalValueSpec": {"values": ["a", "b"]}},
        {"parameterId": "batch", "discreteValueSpec": {"values": [16, 32]}},
    ]
    job, _ = controller.submit(
        toy_job(max_trials=10, parallel=3, algorithm="GRID_SEARCH", parameters=parameters)
    )
    controller.run(job.name)
    final = controller.store.get_job(job.name)
    assert final.state == JobState.JOB_STATE_SUCCEEDED
    points = {(t.parameter_dict()["kind"], t.parameter_dict()["batch"]) for t in final.trials}
    assert points == {("a", 16.0), ("a", 32.0), ("b", 16.0), ("b", 32.0)}
    assert len(final.trials) == 4


def test_cancel_stops_running_trials(controller: Controller, tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    job, _ = controller.submit(toy_job(args=["--mode=hang", f"--trace={trace}"], parallel=2))
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.update(snapshot=controller.run(job.name)))
    worker.start()
    deadline = time.time() + 30
    while (not trace.exists() or trace.read_text().count("start") < 2) and time.time() < deadline:
        time.sleep(0.05)
    controller.cancel(job.name)
    worker.join(timeout=60)
    assert not worker.is_alive()
    final = controller.store.get_job(job.name)
    assert final.state == JobState.JOB_STATE_CANCELLED
    assert final.error is not None and final.error.code == 1
    assert all(t.state == TrialState.INFEASIBLE for t in final.trials)
    assert all("cancelled" in t.infeasible_reason for t in final.trials)
    with pytest.raises(FailedPrecondition):
        controller.cancel(job.name)
    # No trainer outlived its trial.
    for record in controller.store.trial_records(job.name):
        for replica in record.runtime["handle"]["replicas"]:
            assert not Path(f"/proc/{replica['pid']}").exists() or _is_zombie(replica["pid"])


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def test_scheduling_timeout_ends_a_trial(controller: Controller) -> None:
    job, _ = controller.submit(
        toy_job(args=["--mode=hang"], max_trials=1, parallel=1, timeout="1s", max_failed=1)
    )
    started = time.monotonic()
    controller.run(job.name)
    assert time.monotonic() - started < 20
    final = controller.store.get_job(job.name)
    assert final.state == JobState.JOB_STATE_FAILED
    assert "ran longer than scheduling.timeout (1s)" in final.trials[0].infeasible_reason


def test_multi_objective_job(controller: Controller) -> None:
    metrics = [{"metricId": "score", "goal": "MAXIMIZE"}, {"metricId": "cost", "goal": "MINIMIZE"}]
    job, _ = controller.submit(toy_job(max_trials=5, parallel=2, metrics=metrics))
    controller.run(job.name)
    final = controller.store.get_job(job.name)
    assert final.state == JobState.JOB_STATE_SUCCEEDED
    for trial in final.trials:
        assert trial.final_measurement is not None
        assert trial.final_measurement.value("score") is not None
        assert trial.final_measurement.value("cost") is not None


def test_trials_get_their_own_model_dirs(controller: Controller) -> None:
    job, _ = controller.submit(toy_job(max_trials=2, parallel=2))
    controller.run(job.name)
    home = Path(os.environ["TUNEYARD_HOME"])
    written = sorted(p.read_text() for p in home.rglob("model.txt"))
    assert written == ["trial 1\n", "trial 2\n"]


def test_serve_runs_every_unfinished_job(controller: Controller) -> None:
    first, _ = controller.submit(toy_job(max_trials=2, parallel=1))
    second, _ = controller.submit(toy_job(max_trials=2, parallel=2), project="other")
    stop = threading.Event()
    worker = threading.Thread(target=controller.serve, args=(stop,))
    worker.start()
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            states = {
                controller.store.get_job(n, with_trials=False).state
                for n in (first.name, second.name)
            }
            if states == {JobState.JOB_STATE_SUCCEEDED}:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    for name in (first.name, second.name):
        job = controller.store.get_job(name)
        assert job.state == JobState.JOB_STATE_SUCCEEDED
        assert [t.id for t in job.trials] == ["1", "2"]


def test_a_trial_stored_without_a_handle_is_launched(controller: Controller) -> None:
    # What a controller that died between storing a trial and storing its handle leaves.
    job, _ = controller.submit(toy_job(max_trials=2, parallel=2))
    orphan = controller.store.add_trial(job.name, {"x": 0.5, "n": 3, "kind": "a"})
    snapshot = controller.run(job.name)
    assert snapshot.job.state == JobState.JOB_STATE_SUCCEEDED
    records = controller.store.trial_records(job.name)
    assert [r.trial.id for r in records] == ["1", "2"]
    assert records[0].trial.parameters == orphan.parameters
    assert records[0].trial.state == TrialState.SUCCEEDED
    assert all(r.runtime["handle"]["executor"] == "local" for r in records)
    assert snapshot.records == records


class CountingPolls(LocalExecutor):
    """The real local executor, noting the handle of every poll."""

    def __init__(self) -> None:
        super().__init__()
        self.polls: list[str] = []

    def poll(self, handle: TrialHandle, since: float) -> TrialProgress:
        self.polls.append(str(handle.get("trial_dir")))
        return super().poll(handle, since)


def test_a_pass_reads_once_and_writes_at_most_once(
    controller: Controller, monkeypatch: pytest.MonkeyPatch
) -> None:
    job, _ = controller.submit(toy_job(max_trials=4, parallel=2))
    store = controller.store
    calls: list[str] = []
    for method in ("get_job", "trial_records", "job_records", "write_trials", "add_trial"):
        original = getattr(store, method)
        monkeypatch.setattr(store, method, _counting(calls, method, original))
    executor = CountingPolls()
    controller = Controller(store, executor, poll_interval=0.05, cancel_grace_seconds=2.0)
    polls = executor.polls
    try:
        shapes = []
        while not controller.reconcile(job.name).job.state.ended:
            reads, writes = calls.count("job_records"), calls.count("write_trials")
            assert reads <= 1 and writes <= 1 and reads + writes >= 1, calls
            assert set(calls) <= {"job_records", "write_trials"}, calls
            assert len(polls) <= 2, polls  # each running trial once (parallelTrialCount 2)
            shapes.append((reads, writes))
            calls.clear()
            polls.clear()
            controller.executor.wait(0.05)
        assert len(shapes) > 1
    finally:
        executor.close()
    assert (0, 1) in shapes  # a pass that writes (a trial ended, the next starts) reads nothing
    assert [r.trial.state for r in store.trial_records(job.name)] == [TrialState.SUCCEEDED] * 4


def test_a_cancel_between_passes_stops_the_pass_that_would_write_without_reading(
    controller: Controller,
) -> None:
    job, _ = controller.submit(toy_job(max_trials=3, parallel=1))
    first = controller.reconcile(job.name)  # a full pass: it launches trial 1
    assert [r.trial.state for r in first.records] == [TrialState.ACTIVE]
    handle = first.records[0].runtime["handle"]
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{r['pid']}").exists() for r in handle["replicas"]):
        assert time.monotonic() < deadline, "trial 1 did not end"
        controller.executor.wait(0.05)
    controller.cancel(job.name)  # e.g. by the API, while this controller waits
    # The next pass finds trial 1 ended and would launch trial 2; its write sees the cancel,
    # writes nothing, and the full pass that follows records trial 1's end and cancels.
    ended = controller.reconcile(job.name)
    assert ended.job.state == JobState.JOB_STATE_CANCELLED
    records = controller.store.trial_records(job.name)
    assert [(r.trial.id, r.trial.state) for r in records] == [("1", TrialState.SUCCEEDED)]
    assert records[0].trial.final_measurement is not None


class CancelledAfterTheFirstWrite(SqlStore):
    """The real store; a cancel request lands right after the first write commits (the pass
    that launched trial 1), before that pass marks the job RUNNING, as the API may take it."""

    def __init__(self, engine: Engine, cancel: Any) -> None:
        super().__init__(engine)
        self.cancel_once = cancel

    @contextmanager
    def write_trials(self, name: str, **options: Any) -> Iterator[TrialWriter]:
        with super().write_trials(name, **options) as writer:
            yield writer
        if self.cancel_once is not None:
            cancel, self.cancel_once = self.cancel_once, None
            cancel(name)


def test_a_cancel_during_the_first_pass_is_not_lost(controller: Controller) -> None:
    job, _ = controller.submit(toy_job(args=["--sleep=30"], max_trials=2, parallel=1))
    store = CancelledAfterTheFirstWrite(controller.store.engine, controller.cancel)
    racing = Controller(store, controller.executor, poll_interval=0.05, cancel_grace_seconds=2)
    first = racing.reconcile(job.name)  # launched trial 1; must not mark the job RUNNING
    assert first.job.state == JobState.JOB_STATE_CANCELLING
    assert racing.run(job.name).job.state == JobState.JOB_STATE_CANCELLED
    (record,) = controller.store.trial_records(job.name)
    assert record.trial.state == TrialState.INFEASIBLE
    assert "cancelled" in record.trial.infeasible_reason


def _counting(calls: list[str], name: str, function: Any) -> Any:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return function(*args, **kwargs)

    return counted


def test_a_pass_sees_what_another_writer_changed_in_the_trials(controller: Controller) -> None:
    # A pass reads only the job's row while the job's trials are as the controller last stored
    # them; a change by anyone else bumps the trials revision, and the next pass reads again.
    job, _ = controller.submit(toy_job(args=["--sleep=30"], max_trials=1, parallel=1))
    first = controller.reconcile(job.name)
    assert [r.trial.state for r in first.records] == [TrialState.ACTIVE]
    again = controller.reconcile(job.name)
    assert again.records[0].trial.measurements == []
    noted = Measurement(step_count=7, metrics=[MeasurementMetric(metric_id="score", value=0.5)])
    controller.store.add_measurements(job.name, "1", [noted])
    seen = controller.reconcile(job.name).records[0]
    assert seen.trial.measurements == [noted]
    controller.cancel(job.name)
    assert controller.run(job.name).job.state == JobState.JOB_STATE_CANCELLED
