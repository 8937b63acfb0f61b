"""The store seam: jobs, trials, measurements and long-running operations, persisted."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from tuneyard.errors import Aborted
from tuneyard.model import (
    HyperparameterTuningJob,
    JobState,
    Measurement,
    Operation,
    ParameterValue,
    Status,
    Trial,
    TrialState,
)


@dataclass(frozen=True)
class TrialRecord:
    """A trial plus what only the engine needs: whether it failed, and executor state."""

    trial: Trial
    failed: bool = False
    runtime: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobRecords:
    """What :meth:`Store.job_records` read: the job (without trials), its trial records, and
    the revision of its trials they are as of.

    ``records`` is None when the caller already knows the trials as of ``revision``: they have
    not changed and were not read.
    """

    job: HyperparameterTuningJob
    records: list[TrialRecord] | None
    revision: int


class JobChanged(Aborted):
    """The job is no longer as the caller last read it (see :meth:`Store.write_trials`)."""


class TrialWriter(abc.ABC):
    """Changes to one job's trials inside the transaction of :meth:`Store.write_trials`.

    Errors: ``NotFound`` for a trial the job does not have (the transaction then rolls back
    when the error leaves the block).
    """

    @property
    @abc.abstractmethod
    def revision(self) -> int:
        """The revision of the job's trials: bumped once by a block that changed anything,
        read once the block has ended (see :meth:`Store.job_records`)."""

    @abc.abstractmethod
    def next_trial_id(self) -> str:
        """The id :meth:`add_trial` gives the next trial (so that it can be launched first and
        stored with its executor state)."""

    @abc.abstractmethod
    def add_trial(
        self, parameters: dict[str, ParameterValue], *, runtime: dict[str, Any] | None = None
    ) -> Trial:
        """Create the job's next trial (ACTIVE, start_time now) with these parameters and,
        with ``runtime``, this executor state."""

    @abc.abstractmethod
    def set_trial_runtime(self, trial_id: str, runtime: dict[str, Any]) -> None:
        """Replace the executor state kept for a trial (JSON-serializable)."""

    @abc.abstractmethod
    def add_measurements(
        self,
        trial_id: str,
        measurements: Sequence[Measurement],
        *,
        runtime: dict[str, Any] | None = None,
    ) -> None:
        """Append measurements to a trial, in order; with ``runtime``, replace its executor
        state too (so a restart never reads the same reports twice)."""

    @abc.abstractmethod
    def finish_trial(
        self,
        trial_id: str,
        state: TrialState,
        *,
        final_measurement: Measurement | None = None,
        infeasible_reason: str = "",
        failed: bool = False,
        measurements: Sequence[Measurement] = (),
        runtime: dict[str, Any] | None = None,
        known: Trial | None = None,
    ) -> Trial:
        """End a trial: its state (SUCCEEDED or INFEASIBLE, else ``InvalidArgument``), final
        measurement, end_time now; ``measurements`` (its last reports) are appended and
        ``runtime`` replaced with it. Returns the ended trial with all its measurements.

        ``known`` is the trial as the caller knows it is stored (the one writer of the job's
        trials, under its lease): the trial is then not read back, and the new measurements
        are numbered after ``known``'s (if more are stored, appending them fails on their key
        and the block rolls back)."""


class Store(abc.ABC):
    """Persistence of tuning jobs and their trials.

    Contract:
        - Every method is thread safe and commits before it returns (``write_trials`` when
          its block ends); nothing is kept only in memory. Values returned are immutable model
          objects, detached from the database.
        - Job ids are numeric strings, unique per store, never reused. Trial ids are
          ``"1"``, ``"2"``, ... per job in creation order, never reused.
        - Errors: ``NotFound`` for an unknown job or trial; ``FailedPrecondition`` when a
          state change's ``expected`` states do not hold (``LeaseLost``, a subclass, when a
          guarded ``add_trial`` is not under its lease); ``Unavailable`` when the database
          cannot be reached. Database errors never escape untranslated.
        - Several processes may share one database; leases (``lease_jobs``) decide which of
          them drives each job.
    """

    @abc.abstractmethod
    def create_job(
        self,
        project: str,
        location: str,
        job: HyperparameterTuningJob,
        *,
        lease: tuple[str, float] | None = None,
    ) -> HyperparameterTuningJob:
        """Store a new job: assign id and name, state QUEUED, create and update times.

        With ``lease`` (owner, seconds), the job's lease is that owner's from the start, in the
        same transaction (see :meth:`claim_job`): no server can take the job first."""

    @abc.abstractmethod
    def get_job(self, name: str, *, with_trials: bool = True) -> HyperparameterTuningJob:
        """The job named ``name`` (``projects/../hyperparameterTuningJobs/ID``)."""

    @abc.abstractmethod
    def list_jobs(
        self,
        project: str | None = None,
        location: str | None = None,
        *,
        states: Sequence[JobState] | None = None,
        after_id: int | None = None,
        limit: int | None = None,
    ) -> list[HyperparameterTuningJob]:
        """Jobs without their trials, by ascending numeric id, after ``after_id`` if given."""

    @abc.abstractmethod
    def set_job_state(
        self,
        name: str,
        state: JobState,
        *,
        error: Status | None = None,
        expected: Sequence[JobState] | None = None,
    ) -> HyperparameterTuningJob:
        """Move a job to ``state`` (update_time always; start_time on first RUNNING; end_time
        on SUCCEEDED, FAILED, CANCELLED). With ``expected``, only from one of those states
        (FailedPrecondition otherwise), checked and written atomically."""

    @abc.abstractmethod
    def delete_job(self, name: str) -> None:
        """Remove a job with its trials and measurements."""

    @abc.abstractmethod
    def trial_records(self, name: str, *, after: int = 0) -> list[TrialRecord]:
        """The job's trials with ids above ``after`` (all by default), by trial id, each with
        its measurements, failure flag and executor state."""

    @abc.abstractmethod
    def job_records(self, name: str, *, after: int = 0, known: int | None = None) -> JobRecords:
        """The job without its trials and :meth:`trial_records` ``(name, after=after)``, read
        in one transaction, so the two agree (what an engine reads at every pass).

        Every :meth:`write_trials` block that changes a job's trials bumps the job's trials
        revision. With ``known`` equal to the current revision (the caller holds the trials as
        of then) only the job is read and ``records`` is None.
        """

    @abc.abstractmethod
    def write_trials(
        self,
        name: str,
        *,
        lease: str | None = None,
        expect: tuple[JobState, int] | None = None,
    ) -> AbstractContextManager[TrialWriter]:
        """One transaction over the trials of job ``name``: what the writer changes commits
        together when the block ends, or not at all when it raises.

        With ``lease`` (an owner id), the block starts only while that owner holds the job's
        unexpired lease, and the lease cannot change hands until the block ends (``LeaseLost``
        otherwise): a server that lost a job never creates or launches its trials.

        The job is locked from the start of the block to its end, so trial ids are handed out
        in order and the writes of two engines to one job take turns. The writer is valid only
        inside its block.

        With ``expect`` (a job state and a trials revision, as :meth:`job_records` read them),
        the block starts only while the job is still in that state with its trials at that
        revision (``JobChanged`` otherwise): a writer that acts on what it read earlier learns,
        in the same transaction, that nobody changed the job meanwhile.

        Raises:
            NotFound: no such job (on entering the block).
            JobChanged: ``expect`` is given and the job is not as expected (on entering).

        Example:
            >>> with store.write_trials(job.name) as writer:  # doctest: +SKIP
            ...     writer.finish_trial("3", TrialState.SUCCEEDED, final_measurement=last)
            ...     trial = writer.add_trial({"lr": 0.01})
        """

    # The one-change forms: each is a transaction of its own.

    def add_trial(
        self,
        name: str,
        parameters: dict[str, ParameterValue],
        *,
        runtime: dict[str, Any] | None = None,
        lease: str | None = None,
    ) -> Trial:
        """:meth:`TrialWriter.add_trial` in a transaction of its own.

        With ``lease`` (an owner id), only while that owner holds the job's unexpired lease,
        checked in the same transaction (``LeaseLost`` otherwise)."""
        with self.write_trials(name, lease=lease) as writer:
            return writer.add_trial(parameters, runtime=runtime)

    def set_trial_runtime(self, name: str, trial_id: str, runtime: dict[str, Any]) -> None:
        """:meth:`TrialWriter.set_trial_runtime` in a transaction of its own."""
        with self.write_trials(name) as writer:
            writer.set_trial_runtime(trial_id, runtime)

    def add_measurements(
        self,
        name: str,
        trial_id: str,
        measurements: Sequence[Measurement],
        *,
        runtime: dict[str, Any] | None = None,
    ) -> None:
        """:meth:`TrialWriter.add_measurements` in a transaction of its own."""
        with self.write_trials(name) as writer:
            writer.add_measurements(trial_id, measurements, runtime=runtime)

    def finish_trial(
        self,
        name: str,
        trial_id: str,
        state: TrialState,
        *,
        final_measurement: Measurement | None = None,
        infeasible_reason: str = "",
        failed: bool = False,
        measurements: Sequence[Measurement] = (),
        runtime: dict[str, Any] | None = None,
    ) -> Trial:
        """:meth:`TrialWriter.finish_trial` in a transaction of its own."""
        with self.write_trials(name) as writer:
            return writer.finish_trial(
                trial_id,
                state,
                final_measurement=final_measurement,
                infeasible_reason=infeasible_reason,
                failed=failed,
                measurements=measurements,
                runtime=runtime,
            )

    # -- operations -------------------------------------------------------------------------

    @abc.abstractmethod
    def create_operation(self, parent: str, operation: Operation) -> Operation:
        """Store a long-running operation under ``parent`` (``projects/P/locations/L`` or a
        job's name); return it named ``PARENT/operations/ID`` with a new numeric id."""

    @abc.abstractmethod
    def get_operation(self, name: str) -> Operation:
        """The operation named ``name``; NotFound when there is none by that exact name."""

    # -- leases: several servers on one database ------------------------------------------

    @abc.abstractmethod
    def lease_jobs(
        self, owner: str, seconds: float, *, states: Sequence[JobState], claim: int
    ) -> list[str]:
        """Renew every lease ``owner`` holds on a job in ``states`` and claim up to ``claim``
        more (jobs without a lease, or whose lease expired), each until ``seconds`` from now
        on the database's clock; return the names of the jobs ``owner`` now holds, by id.

        Atomic: two owners never both hold one job's unexpired lease, whatever the timing."""

    @abc.abstractmethod
    def claim_job(
        self, name: str, owner: str, seconds: float, *, replacing: str | None = None
    ) -> str | None:
        """Take job ``name``'s lease for ``owner`` until ``seconds`` from now on the database's
        clock, unless another owner holds it unexpired (a lease ``owner`` holds is renewed);
        with ``replacing``, also while that owner still holds it (one known to have ended).
        Returns None when ``owner`` holds the lease now, else the owner that does.

        Atomic with :meth:`lease_jobs`: a command that drives one job (``tuneyard run``,
        ``tuneyard jobs resume``) and the servers never both hold it.

        Raises:
            NotFound: no such job.
        """

    @abc.abstractmethod
    def release_leases(self, owner: str) -> None:
        """Give up every lease ``owner`` holds; others may claim those jobs at once."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the store's connections; the store is unusable afterwards."""
