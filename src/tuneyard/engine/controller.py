"""The controller: moves each tuning job toward its end, one reconcile pass at a time.

A pass re-reads the job and its trials from the store, polls running trials, records their
measurements, ends the ones that finished, applies cancellation and the failure rule, asks the
algorithm for new trials while fewer than ``parallelTrialCount`` run and fewer than
``maxTrialCount`` exist, and ends the job when nothing is left to run. Nothing lives only in
memory, so a controller killed at any point and started again carries on where it stopped:
finished trials keep their results, running trials are re-attached through their executor
handles (or launched again if they were never launched), and trial ids never repeat.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from tuneyard.algorithms import algorithm_for, final_measurement
from tuneyard.engine.leases import JobLeases
from tuneyard.engine.measurements import merge_by_step, reports_to_measurements
from tuneyard.engine.policy import failure_limit, should_fail
from tuneyard.errors import Code, FailedPrecondition, NotFound, TuneyardError
from tuneyard.model import (
    HyperparameterTuningJob,
    JobState,
    Measurement,
    Status,
    Trial,
    TrialState,
    format_duration,
    validate_job,
)
from tuneyard.runtime.base import Executor, TrialLaunch, TrialProgress
from tuneyard.store import LeaseLost
from tuneyard.store.base import Store, TrialRecord

logger = logging.getLogger(__name__)

RUNNING_TRIAL_STATES = frozenset({TrialState.REQUESTED, TrialState.ACTIVE, TrialState.STOPPING})
CANCELLABLE_JOB_STATES = (
    JobState.JOB_STATE_QUEUED,
    JobState.JOB_STATE_PENDING,
    JobState.JOB_STATE_RUNNING,
    JobState.JOB_STATE_PAUSED,
)
UNFINISHED_JOB_STATES = (
    JobState.JOB_STATE_QUEUED,
    JobState.JOB_STATE_PENDING,
    JobState.JOB_STATE_RUNNING,
    JobState.JOB_STATE_CANCELLING,
)
DEFAULT_TRIAL_TIMEOUT = timedelta(days=7)
#: google.rpc code of a job that failed because its trials failed (Vertex reports user-code
#: failures of custom jobs with INVALID_ARGUMENT).
TRIAL_FAILURE_CODE = Code.INVALID_ARGUMENT
CANCELLED_MESSAGE = "CANCELED"


@dataclass(frozen=True)
class JobSnapshot:
    """A job (without trials) and its trial records after a reconcile pass."""

    job: HyperparameterTuningJob
    records: Sequence[TrialRecord]

    def count(self, *states: TrialState) -> int:
        """How many trials are in one of ``states``."""
        return sum(1 for r in self.records if r.trial.state in states)

    @property
    def running(self) -> int:
        """Trials that have started and not ended."""
        return self.count(*RUNNING_TRIAL_STATES)

    @property
    def failed(self) -> int:
        """Trials whose training code failed."""
        return sum(1 for r in self.records if r.failed)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _seed(job: HyperparameterTuningJob) -> int:
    job_id = job.job_id
    return int(job_id) if job_id.isdigit() else sum(job_id.encode())


class Controller:
    """Runs tuning jobs from a store with an executor.

    Args:
        store: where jobs, trials and measurements live.
        executor: where trials run.
        poll_interval: longest wait between passes while trials run, in seconds (a trial that
            ends wakes the controller at once).
        cancel_grace_seconds: time between SIGTERM and SIGKILL when trials are stopped.
        leases: for ``serve`` when several servers share the store: drive only the jobs this
            server holds the lease of, and start trials only under a lease.

    Example:
        >>> controller = Controller(open_store(), LocalExecutor())  # doctest: +SKIP
        >>> job, notices = controller.submit(load_job_file("examples/job.yaml"))  # doctest: +SKIP
        >>> controller.run(job.name).job.state  # doctest: +SKIP
        <JobState.JOB_STATE_SUCCEEDED: 4>
    """

    def __init__(
        self,
        store: Store,
        executor: Executor,
        *,
        poll_interval: float = 0.25,
        cancel_grace_seconds: float = 10.0,
        leases: JobLeases | None = None,
    ) -> None:
        self.store = store
        self.leases = leases
        self.executor = executor
        # Per job, trials 1..k once they have all ended. An ended trial never changes, so a
        # pass reads only the trials after them: the cost of a pass stays flat as a job grows.
        # A cache only: the store holds everything, and a new controller starts empty.
        self._ended_prefix: dict[str, list[TrialRecord]] = {}
        self.poll_interval = poll_interval
        self.cancel_grace_seconds = cancel_grace_seconds

    # -- requests -------------------------------------------------------------------------

    def submit(
        self,
        job: HyperparameterTuningJob,
        *,
        project: str = "local",
        location: str = "us-central1",
    ) -> tuple[HyperparameterTuningJob, list[str]]:
        """Validate and store a new job (QUEUED); return it with validation notices."""
        notices = validate_job(job)
        created = self.store.create_job(project, location, job)
        for notice in notices:
            logger.warning("%s: %s", created.name, notice)
        return created, notices

    def cancel(self, name: str) -> HyperparameterTuningJob:
        """Ask for a job to be cancelled: it moves to CANCELLING, the next pass stops it."""
        job = self.store.get_job(name, with_trials=False)
        if job.state == JobState.JOB_STATE_CANCELLING:
            return job
        if job.state.ended:
            raise FailedPrecondition(
                f"job {name} has already ended in state {job.state.name}; "
                "only a job that has not ended can be cancelled"
            )
        return self.store.set_job_state(
            name, JobState.JOB_STATE_CANCELLING, expected=CANCELLABLE_JOB_STATES
        )

    # -- the loop -------------------------------------------------------------------------

    def run(
        self,
        name: str,
        *,
        on_pass: Callable[[JobSnapshot], None] | None = None,
        cancel_requested: Callable[[], bool] | None = None,
    ) -> JobSnapshot:
        """Run reconcile passes until the job ends; return its final snapshot.

        ``on_pass`` sees every snapshot (for progress displays); when ``cancel_requested``
        returns True the job is cancelled and the loop goes on until it is CANCELLED.
        """
        cancelling = False
        while True:
            if cancel_requested is not None and not cancelling and cancel_requested():
                cancelling = True
                with contextlib.suppress(FailedPrecondition):
                    self.cancel(name)
            snapshot = self.reconcile(name)
            if on_pass is not None:
                on_pass(snapshot)
            if snapshot.job.state.ended:
                return snapshot
            self.executor.wait(self.poll_interval)

    def serve(self, stop: threading.Event) -> None:
        """Run every job that has not ended, in turn, until ``stop`` is set.

        Jobs created meanwhile (by another thread or process sharing the store) are picked up
        on the next round; an error in one job is logged and does not stop the others. With
        ``leases``, only the jobs this server holds the lease of (see ``engine/leases.py``),
        and the leases are released when ``stop`` ends the loop.
        """
        try:
            while not stop.is_set():
                try:
                    names = self._jobs_to_drive()
                except TuneyardError as error:  # e.g. the database is down: retry next round
                    logger.warning("could not find the jobs to drive: %s", error.message)
                    names = []
                for name in names:
                    if stop.is_set():
                        break
                    try:
                        if not self._may_drive(name):
                            continue
                        self.reconcile(name)
                    except NotFound:
                        self._ended_prefix.pop(name, None)
                        continue  # deleted since it was listed
                    except LeaseLost as error:
                        logger.warning("%s", error.message)
                    except Exception:
                        logger.exception("%s: reconcile pass failed; retrying next round", name)
                self.executor.wait(self.poll_interval)
        finally:
            if self.leases is not None:
                with contextlib.suppress(TuneyardError):
                    self.leases.release()

    def _jobs_to_drive(self) -> list[str]:
        if self.leases is None:
            return [job.name for job in self.store.list_jobs(states=UNFINISHED_JOB_STATES)]
        names = self.leases.refresh(UNFINISHED_JOB_STATES)
        for gone in self._ended_prefix.keys() - set(names):
            del self._ended_prefix[gone]  # ended, or driven by another server now
        return names

    def _may_drive(self, name: str) -> bool:
        if self.leases is None:
            return True
        if self.leases.due():  # a long round: renew before the leases run short
            self.leases.renew(UNFINISHED_JOB_STATES)
        return self.leases.holds(name)

    def _check_lease(self, name: str) -> None:
        if self.leases is not None:
            self.leases.check(name)

    def _read_records(self, name: str) -> list[TrialRecord]:
        known = self._ended_prefix.get(name, [])
        fresh = self.store.trial_records(name, after=len(known))
        prefix = list(known)
        for record in fresh:
            ended = record.trial.state in (TrialState.SUCCEEDED, TrialState.INFEASIBLE)
            if record.trial.id != str(len(prefix) + 1) or not ended:
                break
            prefix.append(record)
        self._ended_prefix[name] = prefix
        return [*known, *fresh]

    def reconcile(self, name: str) -> JobSnapshot:
        """One pass over a job; see the module docstring."""
        job = self.store.get_job(name, with_trials=False)
        if job.state.ended:
            self._ended_prefix.pop(name, None)
            return JobSnapshot(job, self.store.trial_records(name))
        if job.state in (JobState.JOB_STATE_QUEUED, JobState.JOB_STATE_UNSPECIFIED):
            job = self.store.set_job_state(name, JobState.JOB_STATE_PENDING, expected=(job.state,))
        # One read of the trials per pass; what the pass changes it keeps up to date itself.
        records = [
            self._advance_trial(job, r) if r.trial.state in RUNNING_TRIAL_STATES else r
            for r in self._read_records(name)
        ]
        if job.state == JobState.JOB_STATE_CANCELLING:
            return self._end_with_running_stopped(
                job,
                records,
                JobState.JOB_STATE_CANCELLED,
                Status(code=Code.CANCELLED, message=CANCELLED_MESSAGE),
                "cancelled: the job was cancelled",
            )
        if should_fail(records, job.max_trial_count, job.max_failed_trial_count):
            return self._end_with_running_stopped(
                job,
                records,
                JobState.JOB_STATE_FAILED,
                self._failure_status(job, records),
                "stopped: the job failed",
            )
        running = sum(1 for r in records if r.trial.state in RUNNING_TRIAL_STATES)
        wanted = min(job.parallel_trial_count - running, job.max_trial_count - len(records))
        exhausted = False
        if wanted > 0:
            launched = self._launch_new(job, records, wanted)
            exhausted = len(launched) < wanted
            if launched:
                if job.state != JobState.JOB_STATE_RUNNING:
                    job = self.store.set_job_state(name, JobState.JOB_STATE_RUNNING)
                records = [*records, *launched]
                running = sum(1 for r in records if r.trial.state in RUNNING_TRIAL_STATES)
        if running == 0 and (exhausted or len(records) >= job.max_trial_count):
            return self._finish(job, records)
        return JobSnapshot(job, records)

    # -- trials ---------------------------------------------------------------------------

    def _launch_new(
        self, job: HyperparameterTuningJob, records: Sequence[TrialRecord], n: int
    ) -> list[TrialRecord]:
        algorithm = algorithm_for(job.study)
        suggestions = algorithm.suggest(job.study, [r.trial for r in records], n, _seed(job))
        # With leases, a trial is created only under this server's lease (checked here and in
        # the database) and launched only while the lease still holds.
        lease = None if self.leases is None else self.leases.owner
        launched = []
        for parameters in suggestions:
            self._check_lease(job.name)
            launched.append(
                self._start(job, self.store.add_trial(job.name, parameters, lease=lease))
            )
        return launched

    def _start(self, job: HyperparameterTuningJob, trial: Trial) -> TrialRecord:
        self._check_lease(job.name)
        try:
            handle = self.executor.launch(TrialLaunch(job, trial.id, trial.parameter_dict()))
        except TuneyardError as error:
            return self._end_trial(
                job, trial, [], failed=True, reason=f"trial {trial.id} could not start: {error}"
            )
        runtime = {"handle": handle, "since": 0.0}
        self.store.set_trial_runtime(job.name, trial.id, runtime)
        return TrialRecord(trial, runtime=runtime)

    def _advance_trial(self, job: HyperparameterTuningJob, record: TrialRecord) -> TrialRecord:
        """Poll one running trial; return its record as it is now."""
        self._check_lease(job.name)  # a slow pass: stop before another server may take over
        trial = record.trial
        handle = record.runtime.get("handle")
        if handle is None:
            # The controller stopped between creating the trial and launching it.
            logger.info("%s: launching trial %s again", job.name, trial.id)
            return self._start(job, trial)
        since = float(record.runtime.get("since", 0.0))
        progress = self.executor.poll(handle, since)
        new = reports_to_measurements(progress.reports, trial.start_time)
        runtime = self._updated_runtime(record.runtime, progress)
        measurements = [*trial.measurements, *new]
        # New measurements and the read position commit together (with the trial's end, when it
        # ended): after a restart the same reports are neither lost nor recorded twice.
        ending: dict[str, Any] = {"new": new, "runtime": runtime}
        if progress.done:
            return self._end_after_exit(job, trial, measurements, progress, **ending)
        timeout = self._timeout(job)
        if trial.start_time is not None and _now() - trial.start_time > timeout:
            self.executor.cancel(runtime["handle"], self.cancel_grace_seconds)
            reason = (
                f"trial {trial.id} ran longer than scheduling.timeout "
                f"({format_duration(timeout)}) and was stopped"
            )
            return self._end_trial(job, trial, measurements, failed=True, reason=reason, **ending)
        if new:
            self.store.add_measurements(job.name, trial.id, new, runtime=runtime)
        elif runtime != record.runtime:
            self.store.set_trial_runtime(job.name, trial.id, runtime)
        if not new and runtime == record.runtime:
            return record
        return TrialRecord(trial.model_copy(update={"measurements": measurements}), runtime=runtime)

    @staticmethod
    def _updated_runtime(runtime: dict[str, Any], progress: TrialProgress) -> dict[str, Any]:
        updated = dict(runtime)
        if progress.reports:
            updated["since"] = max(r.timestamp for r in progress.reports)
        if progress.handle is not None:
            updated["handle"] = progress.handle
        if progress.lost_reports:
            updated["lost_reports"] = int(updated.get("lost_reports", 0)) + progress.lost_reports
            logger.warning(
                "%d metric reports were overwritten before they could be read",
                progress.lost_reports,
            )
        return updated

    @staticmethod
    def _timeout(job: HyperparameterTuningJob) -> timedelta:
        scheduling = job.trial_spec.scheduling
        if scheduling is not None and scheduling.timeout is not None:
            return scheduling.timeout
        return DEFAULT_TRIAL_TIMEOUT

    def _end_after_exit(
        self,
        job: HyperparameterTuningJob,
        trial: Trial,
        measurements: Sequence[Measurement],
        progress: TrialProgress,
        **ending: Any,
    ) -> TrialRecord:
        if progress.exit_code == 0:
            return self._end_trial(job, trial, measurements, failed=False, reason="", **ending)
        detail = progress.message or f"exited with status {progress.exit_code}"
        return self._end_trial(
            job, trial, measurements, failed=True, reason=f"trial {trial.id}: {detail}", **ending
        )

    def _end_trial(
        self,
        job: HyperparameterTuningJob,
        trial: Trial,
        measurements: Sequence[Measurement],
        *,
        failed: bool,
        reason: str,
        new: Sequence[Measurement] = (),
        runtime: dict[str, Any] | None = None,
    ) -> TrialRecord:
        """Pick the final measurement and end the trial SUCCEEDED, or INFEASIBLE with a reason."""
        study = job.study
        final = final_measurement(study, merge_by_step(measurements))
        missing = [
            m.metric_id for m in study.metrics if final is None or final.value(m.metric_id) is None
        ]
        if not failed and not reason and not missing:
            state = TrialState.SUCCEEDED
        else:
            state = TrialState.INFEASIBLE
            if not reason:
                names = ", ".join(repr(m) for m in missing)
                reason = f"trial {trial.id} exited with status 0 without reporting metric {names}"
        ended = self.store.finish_trial(
            job.name,
            trial.id,
            state,
            final_measurement=final,
            infeasible_reason=reason,
            failed=failed,
            measurements=new,
            runtime=runtime,
        )
        return TrialRecord(ended, failed=failed, runtime=runtime or {})

    # -- the job's end --------------------------------------------------------------------

    def _end_with_running_stopped(
        self,
        job: HyperparameterTuningJob,
        records: Sequence[TrialRecord],
        state: JobState,
        error: Status,
        reason: str,
    ) -> JobSnapshot:
        self._check_lease(job.name)
        self._ended_prefix.pop(job.name, None)
        for record in records:
            if record.trial.state not in RUNNING_TRIAL_STATES:
                continue
            handle = record.runtime.get("handle")
            if handle is not None:
                self.executor.cancel(handle, self.cancel_grace_seconds)
            self._end_trial(
                job,
                record.trial,
                record.trial.measurements,
                failed=False,
                reason=f"trial {record.trial.id} {reason}",
            )
        ended = self.store.set_job_state(job.name, state, error=error)
        return JobSnapshot(ended, self.store.trial_records(job.name))

    @staticmethod
    def _failure_status(job: HyperparameterTuningJob, records: Sequence[TrialRecord]) -> Status:
        failed = [r for r in records if r.failed]
        limit = failure_limit(job.max_trial_count, job.max_failed_trial_count)
        last = max(failed, key=lambda r: r.trial.end_time or _now())
        count = f"{len(failed)} trial{'s' if len(failed) != 1 else ''} failed"
        if job.max_failed_trial_count > 0:
            why = f"{count} (maxFailedTrialCount {limit})"
        elif len(failed) >= limit:
            why = f"{count} (limit {limit} for maxFailedTrialCount 0: half of maxTrialCount)"
        else:
            why = f"{count}: trial 1 failed before any trial succeeded"
        return Status(
            code=TRIAL_FAILURE_CODE, message=f"{why}; last: {last.trial.infeasible_reason}"
        )

    def _finish(self, job: HyperparameterTuningJob, records: Sequence[TrialRecord]) -> JobSnapshot:
        self._check_lease(job.name)
        self._ended_prefix.pop(job.name, None)
        if any(r.trial.state == TrialState.SUCCEEDED for r in records):
            ended = self.store.set_job_state(job.name, JobState.JOB_STATE_SUCCEEDED)
        else:
            reasons = [r.trial.infeasible_reason for r in records if r.trial.infeasible_reason]
            message = "no trial reported the study's metrics"
            if reasons:
                message += f"; last: {reasons[-1]}"
            ended = self.store.set_job_state(
                job.name,
                JobState.JOB_STATE_FAILED,
                error=Status(code=TRIAL_FAILURE_CODE, message=message),
            )
        return JobSnapshot(ended, records)
