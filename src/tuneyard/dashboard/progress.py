"""A job's progress as the dashboard shows it: what Vertex's job resource does not say directly.

Vertex reports a trial whose training code failed as INFEASIBLE, the same as one that ended
without its metrics; only the store knows which trials failed. Counting trials and finding the
best ones also needs every trial, which ``ListHyperparameterTuningJobs`` leaves out. So the jobs
list asks for these summaries, one request for a whole page of jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tuneyard.algorithms import optimal_trials
from tuneyard.model import HyperparameterTuningJob, TrialState
from tuneyard.store import TrialRecord

_RUNNING = frozenset({TrialState.REQUESTED, TrialState.ACTIVE, TrialState.STOPPING})


def job_progress(job: HyperparameterTuningJob, records: Sequence[TrialRecord]) -> dict[str, Any]:
    """The progress summary of ``job`` (camelCase JSON) from its trial records.

    Keys: ``name``, ``state``, ``maxTrialCount``, ``trialCount``, ``succeeded``, ``running``,
    ``infeasible`` (ended without the study's metrics, failures included), ``failed`` (the
    training code failed), ``failedTrialIds``, and ``optimalTrials``: the best trial, or the
    Pareto front with several metrics, each as ``{"trialId", "values": {metricId: value}}``.

    Example:
        >>> job_progress(job, store.trial_records(job.name))["succeeded"]  # doctest: +SKIP
        3
    """
    trials = [record.trial for record in records]
    optimal = optimal_trials(job.study_spec, trials) if job.study_spec is not None else []
    metric_ids = [m.metric_id for m in job.study_spec.metrics] if job.study_spec else []
    optimal_json = []
    for trial in optimal:
        final = trial.final_measurement
        values = {} if final is None else {m: final.value(m) for m in metric_ids}
        optimal_json.append({"trialId": trial.id, "values": values})
    return {
        "name": job.name,
        "state": job.state.name,
        "maxTrialCount": job.max_trial_count,
        "trialCount": len(trials),
        "succeeded": sum(1 for t in trials if t.state == TrialState.SUCCEEDED),
        "running": sum(1 for t in trials if t.state in _RUNNING),
        "infeasible": sum(1 for t in trials if t.state == TrialState.INFEASIBLE),
        "failed": sum(1 for r in records if r.failed),
        "failedTrialIds": [r.trial.id for r in records if r.failed],
        "optimalTrials": optimal_json,
    }
