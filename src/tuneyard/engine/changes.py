"""What a reconcile pass learns about one running trial, and the change that records it.

Polling a trial (:func:`poll_trial`) asks only the executor; what it finds comes back as a
:class:`TrialChange`: the trial as polling saw it, and the writes that store that. A pass polls
every running trial first and then writes everything it learned in one transaction, so polling
never waits on the store and the store's lock is never held while processes are polled or
stopped. A trial's new measurements commit together with its read position (and with its end,
when it ended): after a restart the same reports are neither lost nor recorded twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from tuneyard.algorithms import final_measurement
from tuneyard.engine.measurements import merge_by_step, reports_to_measurements
from tuneyard.model import HyperparameterTuningJob, Measurement, Trial, TrialState, format_duration
from tuneyard.runtime.base import Executor, TrialProgress
from tuneyard.store.base import TrialRecord, TrialWriter

logger = logging.getLogger(__name__)

DEFAULT_TRIAL_TIMEOUT = timedelta(days=7)


@dataclass(frozen=True)
class TrialChange:
    """A change to one trial that the pass's transaction stores.

    ``seen`` is the trial as the pass now knows it (an ended trial without its end time, which
    the store sets); ``write`` stores the change and returns the record as stored.
    ``relaunch`` marks the launch of a trial that was stored without an executor handle.
    """

    seen: TrialRecord
    write: Callable[[TrialWriter], TrialRecord]
    relaunch: bool = False


def seen(item: TrialRecord | TrialChange) -> TrialRecord:
    """The record as the pass knows it, stored or not."""
    return item.seen if isinstance(item, TrialChange) else item


def poll_trial(
    executor: Executor,
    job: HyperparameterTuningJob,
    record: TrialRecord,
    *,
    cancel_grace_seconds: float,
) -> TrialRecord | TrialChange:
    """Poll one launched trial: its record when nothing changed, else the change to store.

    A trial that ran longer than ``scheduling.timeout`` is stopped here (SIGTERM, then SIGKILL
    after ``cancel_grace_seconds``) and ends failed.
    """
    trial = record.trial
    since = float(record.runtime.get("since", 0.0))
    progress = executor.poll(record.runtime["handle"], since)
    new = reports_to_measurements(progress.reports, trial.start_time)
    runtime = _updated_runtime(record.runtime, progress)
    measurements = [*trial.measurements, *new]
    ending: dict[str, Any] = {"new": new, "runtime": runtime}
    if progress.done:
        if progress.exit_code == 0:
            return end_trial(job, trial, measurements, failed=False, reason="", **ending)
        detail = progress.message or f"exited with status {progress.exit_code}"
        reason = f"trial {trial.id}: {detail}"
        return end_trial(job, trial, measurements, failed=True, reason=reason, **ending)
    if overdue(job, trial):
        executor.cancel(runtime["handle"], cancel_grace_seconds)
        reason = (
            f"trial {trial.id} ran longer than scheduling.timeout "
            f"({format_duration(_timeout(job))}) and was stopped"
        )
        return end_trial(job, trial, measurements, failed=True, reason=reason, **ending)
    if not new and runtime == record.runtime:
        return record
    updated = TrialRecord(trial.model_copy(update={"measurements": measurements}), runtime=runtime)

    def write(writer: TrialWriter) -> TrialRecord:
        if new:
            writer.add_measurements(trial.id, new, runtime=runtime)
        else:
            writer.set_trial_runtime(trial.id, runtime)
        return updated

    return TrialChange(updated, write)


def overdue(job: HyperparameterTuningJob, trial: Trial) -> bool:
    """True once ``trial`` has run longer than the job's ``scheduling.timeout``."""
    started = trial.start_time
    return started is not None and datetime.now(timezone.utc) - started > _timeout(job)


def end_trial(
    job: HyperparameterTuningJob,
    trial: Trial,
    measurements: Sequence[Measurement],
    *,
    failed: bool,
    reason: str,
    new: Sequence[Measurement] = (),
    runtime: dict[str, Any] | None = None,
) -> TrialChange:
    """Pick the final measurement; the change that ends the trial SUCCEEDED, or INFEASIBLE
    with a reason (``new``: its last measurements, stored with its end; ``runtime``: its
    executor state, replaced with it)."""
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
    ended = trial.model_copy(
        update={
            "state": state,
            "final_measurement": final,
            "infeasible_reason": reason,
            "measurements": list(measurements),
        }
    )

    def write(writer: TrialWriter) -> TrialRecord:
        stored = writer.finish_trial(
            trial.id,
            state,
            final_measurement=final,
            infeasible_reason=reason,
            failed=failed,
            measurements=new,
            runtime=runtime,
            known=trial,
        )
        return TrialRecord(stored, failed=failed, runtime=runtime or {})

    return TrialChange(TrialRecord(ended, failed=failed, runtime=runtime or {}), write)


def _updated_runtime(runtime: dict[str, Any], progress: TrialProgress) -> dict[str, Any]:
    updated = dict(runtime)
    if progress.reports:
        updated["since"] = max(r.timestamp for r in progress.reports)
    if progress.handle is not None:
        updated["handle"] = progress.handle
    if progress.lost_reports:
        updated["lost_reports"] = int(updated.get("lost_reports", 0)) + progress.lost_reports
        logger.warning(
            "%d metric reports were overwritten before they could be read", progress.lost_reports
        )
    return updated


def _timeout(job: HyperparameterTuningJob) -> timedelta:
    scheduling = job.trial_spec.scheduling
    if scheduling is not None and scheduling.timeout is not None:
        return scheduling.timeout
    return DEFAULT_TRIAL_TIMEOUT
