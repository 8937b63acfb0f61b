"""The store seam: jobs, trials, measurements and long-running operations, persisted."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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


class Store(abc.ABC):
    """Persistence of tuning jobs and their trials.

    Contract:
        - Every method is thread safe and commits before it returns; nothing is kept only in
          memory. Values returned are immutable model objects, detached from the database.
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
        self, project: str, location: str, job: HyperparameterTuningJob
    ) -> HyperparameterTuningJob:
        """Store a new job: assign id and name, state QUEUED, create and update times."""

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
    def add_trial(
        self,
        name: str,
        parameters: dict[str, ParameterValue],
        *,
        runtime: dict[str, Any] | None = None,
        lease: str | None = None,
    ) -> Trial:
        """Create the job's next trial (ACTIVE, start_time now) with these parameters.

        With ``lease`` (an owner id), only while that owner holds the job's unexpired lease,
        checked in the same transaction (``LeaseLost`` otherwise)."""

    @abc.abstractmethod
    def trial_records(self, name: str, *, after: int = 0) -> list[TrialRecord]:
        """The job's trials with ids above ``after`` (all by default), by trial id, each with
        its measurements, failure flag and executor state."""

    @abc.abstractmethod
    def set_trial_runtime(self, name: str, trial_id: str, runtime: dict[str, Any]) -> None:
        """Replace the executor state kept for a trial (JSON-serializable)."""

    @abc.abstractmethod
    def add_measurements(
        self,
        name: str,
        trial_id: str,
        measurements: Sequence[Measurement],
        *,
        runtime: dict[str, Any] | None = None,
    ) -> None:
        """Append measurements to a trial, in order; with ``runtime``, replace its executor
        state in the same transaction (so a restart never reads the same reports twice)."""

    @abc.abstractmethod
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
        """End a trial: its state (SUCCEEDED or INFEASIBLE), final measurement, end_time now.

        ``measurements`` (its last reports) are appended and ``runtime`` replaced in the same
        transaction, so a trial's end is recorded whole or not at all."""

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
    def release_leases(self, owner: str) -> None:
        """Give up every lease ``owner`` holds; others may claim those jobs at once."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the store's connections; the store is unusable afterwards."""
