"""The controller: moves each tuning job toward its end, one reconcile pass at a time.

A pass re-reads the job and its trials from the store, polls running trials, records their
measurements, ends the ones that finished, applies cancellation and the failure rule, asks the
algorithm for new trials while fewer than ``parallelTrialCount`` run and fewer than
``maxTrialCount`` exist, and ends the job when nothing is left to run. A pass reads the job and
its unfinished trials in one transaction and writes at most once: what polling found (new
measurements with their read positions, the ends of trials; see :mod:`tuneyard.engine.changes`)
and the new trials, each launched and then stored with its executor handle, commit together.
A pass of a running job that has something to write (a trial ended, the next one starts) skips
the read: it works from what the last pass left, and its write starts only while the job's
state and trials revision are still those (``Store.write_trials(expect=)``); if anyone changed
the job meanwhile (a cancel, say), nothing is written and a full pass follows.
Nothing lives only in memory, so a controller killed at any point and started again carries on
where it stopped: finished trials keep their results, running trials are re-attached through
their executor handles (or launched again if they were never launched), and trial ids never
repeat.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tuneyard.algorithms import algorithm_for
from tuneyard.engine.changes import TrialChange, end_trial, overdue, poll_trial, seen
from tuneyard.engine.leases import JobLeases
from tuneyard.engine.policy import failure_limit, should_fail
from tuneyard.errors import Code, FailedPrecondition, NotFound, TuneyardError
from tuneyard.model import (
    HyperparameterTuningJob,
    JobState,
    ParameterValue,
    Status,
    Trial,
    TrialState,
    validate_job,
)
from tuneyard.runtime.base import Executor, TrialLaunch
from tuneyard.store import JobChanged, LeaseLost
from tuneyard.store.base import Store, TrialRecord, TrialWriter

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
        # Caches only: the store holds everything, and a new controller starts empty.
        # Per job, trials 1..k once they have all ended. An ended trial never changes, so a
        # pass reads only the trials after them: the cost of a pass stays flat as a job grows.
        self._ended_prefix: dict[str, list[TrialRecord]] = {}
        # Per job, every trial record as stored at a trials revision (the last pass read or
        # wrote them), and the job as that pass left it: while the job's revision is the same,
        # a pass reads only the job's row, and a pass that writes reads nothing first.
        self._known: dict[str, tuple[int, list[TrialRecord], HyperparameterTuningJob]] = {}
        self.poll_interval = poll_interval
        self.cancel_grace_seconds = cancel_grace_seconds

    # -- requests -------------------------------------------------------------------------

    def submit(
        self,
        job: HyperparameterTuningJob,
        *,
        project: str = "local",
        location: str = "us-central1",
        claim: bool = False,
    ) -> tuple[HyperparameterTuningJob, list[str]]:
        """Validate and store a new job (QUEUED); return it with validation notices.

        With ``claim`` (and ``leases``), the job is created with this controller's lease, for
        :meth:`run` to drive it here while servers share the store."""
        notices = validate_job(job)
        if claim and self.leases is not None:
            created = self.leases.create_job(project, location, job)
        else:
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

        With ``leases``, the job is driven only under its lease: taken at the start (renewed
        if the job was created with it), renewed as it runs, released at the end.

        Raises:
            FailedPrecondition: with ``leases``, another process (a server) holds the job's
                lease; :class:`~tuneyard.store.LeaseLost` if the lease is lost while it runs.
        """
        if self.leases is not None:
            self.leases.claim(name)
        try:
            return self._run(name, on_pass, cancel_requested)
        finally:
            if self.leases is not None:
                with contextlib.suppress(TuneyardError):
                    self.leases.release()

    def _run(
        self,
        name: str,
        on_pass: Callable[[JobSnapshot], None] | None,
        cancel_requested: Callable[[], bool] | None,
    ) -> JobSnapshot:
        cancelling = False
        while True:
            if cancel_requested is not None and not cancelling and cancel_requested():
                cancelling = True
                with contextlib.suppress(FailedPrecondition):
                    self.cancel(name)
            if self.leases is not None and self.leases.due():
                self.leases.renew(UNFINISHED_JOB_STATES)
            self._check_lease(name)
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
                        self._forget(name)
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
        for gone in (self._ended_prefix.keys() | self._known.keys()) - set(names):
            self._forget(gone)  # ended, or driven by another server now
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

    def _forget(self, name: str) -> None:
        self._ended_prefix.pop(name, None)
        self._known.pop(name, None)

    def _remember(
        self, job: HyperparameterTuningJob, revision: int, records: list[TrialRecord]
    ) -> None:
        """Keep the job and its records as stored at ``revision``, and the records of trials
        1..k once all have ended."""
        name = job.name
        self._known[name] = (revision, records, job)
        known = self._ended_prefix.get(name, [])
        prefix = list(known)
        for record in records[len(known) :]:
            ended = record.trial.state in (TrialState.SUCCEEDED, TrialState.INFEASIBLE)
            if record.trial.id != str(len(prefix) + 1) or not ended:
                break
            prefix.append(record)
        self._ended_prefix[name] = prefix

    def reconcile(self, name: str) -> JobSnapshot:
        """One pass over a job; see the module docstring."""
        outcome = self._pass_without_read(name)
        if isinstance(outcome, JobSnapshot):
            return outcome
        return self._pass(name, outcome)

    def _pass_without_read(self, name: str) -> JobSnapshot | list[TrialRecord | TrialChange] | None:
        """The pass of a running job as the last pass left it, when it has something to
        write: it polls, decides and writes without reading the job first; its write starts
        only while the job's state and trials revision are still those the last pass saw.
        Else nothing is written (as when there is nothing to write or the job must fail) and
        a full pass follows, given what polling found (None when it did not poll)."""
        cached = self._known.get(name)
        if cached is None or cached[2].state != JobState.JOB_STATE_RUNNING:
            return None
        revision, stored, job = cached
        unfinished = [r for r in stored if r.trial.state in RUNNING_TRIAL_STATES]
        if any(overdue(job, r.trial) for r in unfinished):
            return None  # the full pass stops it, knowing the job is still running
        polled = [
            self._poll(job, r) if r.trial.state in RUNNING_TRIAL_STATES else r for r in stored
        ]
        records = [seen(p) for p in polled]
        if should_fail(records, job.max_trial_count, job.max_failed_trial_count):
            return polled
        running = sum(1 for r in records if r.trial.state in RUNNING_TRIAL_STATES)
        wanted = min(job.parallel_trial_count - running, job.max_trial_count - len(records))
        suggestions = self._suggest(job, records, wanted) if wanted > 0 else []
        if not suggestions and all(isinstance(p, TrialRecord) for p in polled):
            return polled
        try:
            written = self._write(job, polled, suggestions, expect=(job.state, revision))
        except JobChanged:
            return polled
        return self._after_write(job, written, wanted, revision)

    def _pass(
        self, name: str, polled: list[TrialRecord | TrialChange] | None = None
    ) -> JobSnapshot:
        """The full pass. ``polled``: what polling the trials as this controller last knew
        them found, kept when the read shows they are still so (a trial is polled once per
        pass: a poll can cost a round trip to another machine)."""
        # One read of the job (and of its trials, unless they are as this controller last
        # stored or read them) per pass; what the pass changes it keeps up to date itself.
        known = self._ended_prefix.get(name, [])
        cached = self._known.get(name)
        read = self.store.job_records(
            name, after=len(known), known=None if cached is None else cached[0]
        )
        job = read.job
        stored = cached[1] if read.records is None and cached else [*known, *(read.records or [])]
        if job.state.ended:
            self._forget(name)
            return JobSnapshot(job, stored)
        if job.state in (JobState.JOB_STATE_QUEUED, JobState.JOB_STATE_UNSPECIFIED):
            job = self.store.set_job_state(name, JobState.JOB_STATE_PENDING, expected=(job.state,))
        if polled is None or read.records is not None:  # not polled, or the trials changed
            polled = [
                self._poll(job, r) if r.trial.state in RUNNING_TRIAL_STATES else r for r in stored
            ]
        records = [seen(p) for p in polled]  # what polling found, not stored yet
        if job.state == JobState.JOB_STATE_CANCELLING:
            return self._end_with_running_stopped(
                job,
                polled,
                JobState.JOB_STATE_CANCELLED,
                Status(code=Code.CANCELLED, message=CANCELLED_MESSAGE),
                "cancelled: the job was cancelled",
            )
        if should_fail(records, job.max_trial_count, job.max_failed_trial_count):
            return self._end_with_running_stopped(
                job,
                polled,
                JobState.JOB_STATE_FAILED,
                self._failure_status(job, records),
                "stopped: the job failed",
            )
        running = sum(1 for r in records if r.trial.state in RUNNING_TRIAL_STATES)
        wanted = min(job.parallel_trial_count - running, job.max_trial_count - len(records))
        suggestions = self._suggest(job, records, wanted) if wanted > 0 else []
        written = self._write(job, polled, suggestions)
        return self._after_write(job, written, wanted, read.revision)

    def _after_write(
        self,
        job: HyperparameterTuningJob,
        written: tuple[list[TrialRecord], list[TrialRecord], int | None],
        wanted: int,
        revision: int,
    ) -> JobSnapshot:
        """The end of a pass once its write is done: the job runs, or it has ended."""
        records, launched, written_revision = written
        exhausted = len(launched) < wanted
        if launched:
            if job.state != JobState.JOB_STATE_RUNNING:
                try:
                    job = self.store.set_job_state(
                        job.name, JobState.JOB_STATE_RUNNING, expected=(job.state,)
                    )
                except FailedPrecondition:  # cancelled while this pass launched: the next
                    job = self.store.get_job(job.name, with_trials=False)  # pass stops them
            records = [*records, *launched]
        running = sum(1 for r in records if r.trial.state in RUNNING_TRIAL_STATES)
        if running == 0 and (exhausted or len(records) >= job.max_trial_count):
            return self._finish(job, records)
        self._remember(job, revision if written_revision is None else written_revision, records)
        return JobSnapshot(job, records)

    # -- trials ---------------------------------------------------------------------------

    def _poll(self, job: HyperparameterTuningJob, record: TrialRecord) -> TrialRecord | TrialChange:
        if record.runtime.get("handle") is None:
            # Created by a controller that stopped before it stored the handle.
            logger.info("%s: launching trial %s again", job.name, record.trial.id)
            relaunch = functools.partial(self._relaunch, job=job, trial=record.trial)
            return TrialChange(record, relaunch, relaunch=True)
        return poll_trial(
            self.executor, job, record, cancel_grace_seconds=self.cancel_grace_seconds
        )

    def _suggest(
        self, job: HyperparameterTuningJob, records: Sequence[TrialRecord], n: int
    ) -> list[dict[str, ParameterValue]]:
        algorithm = algorithm_for(job.study)
        return algorithm.suggest(job.study, [r.trial for r in records], n, _seed(job))

    def _write(
        self,
        job: HyperparameterTuningJob,
        polled: Sequence[TrialRecord | TrialChange],
        suggestions: Sequence[dict[str, ParameterValue]],
        *,
        expect: tuple[JobState, int] | None = None,
    ) -> tuple[list[TrialRecord], list[TrialRecord], int | None]:
        """The pass's one write: what polling found, then the new trials, each launched and
        stored with its handle. Returns the records as stored, the new trials', and the trials
        revision the write made (None when there was nothing to write). ``expect``: see
        :meth:`Store.write_trials` (``JobChanged``)."""
        if not suggestions and all(isinstance(p, TrialRecord) for p in polled):
            return [seen(p) for p in polled], [], None
        # No trial is stored without the handle of what runs it. A launch whose transaction
        # fails is forgotten with it: its trial id is handed out again, and launching that
        # trial stops whatever the forgotten launch left running.
        # With leases, the block starts only under this server's lease, which then cannot change
        # hands until it ends: a server that lost the job neither creates nor launches trials.
        lease = None if self.leases is None else self.leases.owner
        with self.store.write_trials(job.name, lease=lease, expect=expect) as writer:
            records = [p.write(writer) if isinstance(p, TrialChange) else p for p in polled]
            launched = [self._start(writer, job, parameters) for parameters in suggestions]
        return records, launched, writer.revision

    def _start(
        self,
        writer: TrialWriter,
        job: HyperparameterTuningJob,
        parameters: dict[str, ParameterValue],
    ) -> TrialRecord:
        """Launch the job's next trial, then store it with its handle."""
        launched = self._launch(job, writer.next_trial_id(), parameters)
        if isinstance(launched, str):
            trial = writer.add_trial(parameters)
            return end_trial(job, trial, [], failed=True, reason=launched).write(writer)
        return TrialRecord(writer.add_trial(parameters, runtime=launched), runtime=launched)

    def _relaunch(
        self, writer: TrialWriter, *, job: HyperparameterTuningJob, trial: Trial
    ) -> TrialRecord:
        """Launch a stored trial that has no handle, and store its handle."""
        launched = self._launch(job, trial.id, trial.parameter_dict())
        if isinstance(launched, str):
            return end_trial(job, trial, [], failed=True, reason=launched).write(writer)
        writer.set_trial_runtime(trial.id, launched)
        return TrialRecord(trial, runtime=launched)

    def _launch(
        self, job: HyperparameterTuningJob, trial_id: str, parameters: dict[str, ParameterValue]
    ) -> dict[str, Any] | str:
        """The runtime (handle and read position) of the launched trial, or why it could not
        start."""
        self._check_lease(job.name)  # a slow pass: stop before another server may take over
        try:
            handle = self.executor.launch(TrialLaunch(job, trial_id, parameters))
        except TuneyardError as error:
            return f"trial {trial_id} could not start: {error}"
        return {"handle": handle, "since": 0.0}

    # -- the job's end --------------------------------------------------------------------

    def _end_with_running_stopped(
        self,
        job: HyperparameterTuningJob,
        polled: Sequence[TrialRecord | TrialChange],
        state: JobState,
        error: Status,
        reason: str,
    ) -> JobSnapshot:
        """Stop the running trials, then store what polling found (no relaunch) and their
        ends with the job's end state."""
        self._check_lease(job.name)
        self._forget(job.name)
        found = [p for p in polled if isinstance(p, TrialChange) and not p.relaunch]
        running = [r for r in map(seen, polled) if r.trial.state in RUNNING_TRIAL_STATES]
        for record in running:
            handle = record.runtime.get("handle")
            if handle is not None:
                self.executor.cancel(handle, self.cancel_grace_seconds)
        if found or running:
            with self.store.write_trials(job.name) as writer:
                for change in found:
                    change.write(writer)
                for record in running:
                    trial, why = record.trial, f"trial {record.trial.id} {reason}"
                    stop = end_trial(job, trial, trial.measurements, failed=False, reason=why)
                    stop.write(writer)
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
        self._forget(job.name)
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
