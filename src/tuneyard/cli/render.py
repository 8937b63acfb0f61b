"""How jobs and trials look in a terminal: the live progress line and the result tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.table import Table
from rich.text import Text

from tuneyard.algorithms import optimal_trials
from tuneyard.engine import JobSnapshot
from tuneyard.model import HyperparameterTuningJob, ParameterValue, Trial, TrialState

_STATE_STYLE = {
    "SUCCEEDED": "green",
    "INFEASIBLE": "yellow",
    "ACTIVE": "cyan",
    "JOB_STATE_SUCCEEDED": "bold green",
    "JOB_STATE_FAILED": "bold red",
    "JOB_STATE_CANCELLED": "bold yellow",
    "JOB_STATE_RUNNING": "bold cyan",
}


def format_value(value: ParameterValue | float | None) -> str:
    """A parameter or metric value, short but exact enough to tell trials apart."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "-"
    seconds = (end - start).total_seconds()
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def progress_line(snapshot: JobSnapshot) -> Text:
    """``job 7 RUNNING  5/12 done · 2 running · 1 failed · best accuracy 0.97 (trial 4)``."""
    job = snapshot.job
    done = snapshot.count(TrialState.SUCCEEDED, TrialState.INFEASIBLE)
    state = job.state.name.removeprefix("JOB_STATE_")
    text = Text()
    text.append(f"job {job.job_id} ", style="bold")
    text.append(f"{state:<10}", style=_STATE_STYLE.get(job.state.name, ""))
    bar_width = 20
    filled = int(bar_width * done / max(job.max_trial_count, 1))
    text.append(" " + "█" * filled + "░" * (bar_width - filled) + " ")
    text.append(f"{done}/{job.max_trial_count} done · {snapshot.running} running")
    text.append(f" · {snapshot.failed} failed", style="red" if snapshot.failed else "")
    best = best_summary(job, [r.trial for r in snapshot.records])
    if best:
        text.append(f" · best {best}", style="bold")
    return text


def best_summary(job: HyperparameterTuningJob, trials: Sequence[Trial]) -> str:
    """``accuracy 0.97 (trial 4)`` for one metric; ``3 Pareto-optimal trials`` for several."""
    study = job.study
    best = optimal_trials(study, trials)
    if not best:
        return ""
    if len(study.metrics) > 1:
        return f"{len(best)} Pareto-optimal trial{'s' if len(best) != 1 else ''}"
    metric = study.metrics[0].metric_id
    final = best[0].final_measurement
    value = final.value(metric) if final is not None else None
    return f"{metric} {format_value(value)} (trial {best[0].id})"


def trials_table(job: HyperparameterTuningJob, trials: Sequence[Trial]) -> Table:
    """Every trial: id, state, parameters, final metrics, duration, and why it is infeasible."""
    study = job.study
    best_ids = {t.id for t in optimal_trials(study, trials)}
    parameter_ids: list[str] = []
    for trial in trials:
        for parameter in trial.parameters:
            if parameter.parameter_id not in parameter_ids:
                parameter_ids.append(parameter.parameter_id)
    table = Table(title=f"Trials of job {job.job_id} ({job.display_name})", title_justify="left")
    table.add_column("trial", justify="right")
    table.add_column("state")
    for parameter_id in parameter_ids:
        table.add_column(parameter_id, justify="right")
    for metric in study.metrics:
        table.add_column(metric.metric_id, justify="right", style="bold")
    table.add_column("time", justify="right")
    table.add_column("note", overflow="fold", max_width=60)
    for trial in trials:
        values = trial.parameter_dict()
        final = trial.final_measurement
        row: list[str | Text] = [
            ("★ " if trial.id in best_ids else "") + trial.id,
            Text(trial.state.name, style=_STATE_STYLE.get(trial.state.name, "")),
            *(format_value(values.get(p)) for p in parameter_ids),
            *(
                format_value(final.value(m.metric_id) if final is not None else None)
                for m in study.metrics
            ),
            _duration(trial.start_time, trial.end_time),
            trial.infeasible_reason,
        ]
        table.add_row(*row, style="on grey11" if trial.id in best_ids else None)
    return table


def best_table(job: HyperparameterTuningJob, trials: Sequence[Trial]) -> Table | None:
    """The best trial (or the Pareto front), with its parameters and metrics."""
    study = job.study
    best = optimal_trials(study, trials)
    if not best:
        return None
    title = "Best trial" if len(study.metrics) == 1 else "Pareto-optimal trials"
    table = Table(title=title, title_justify="left", show_header=True)
    table.add_column("trial", justify="right")
    table.add_column("parameters")
    table.add_column("metrics")
    for trial in best:
        final = trial.final_measurement
        params = " ".join(f"--{k}={format_value(v)}" for k, v in trial.parameter_dict().items())
        metrics = ", ".join(
            f"{m.metric_id}={format_value(final.value(m.metric_id) if final else None)}"
            for m in study.metrics
        )
        table.add_row(trial.id, params, metrics)
    return table


def jobs_table(jobs: Sequence[HyperparameterTuningJob]) -> Table:
    """One row per job: id, name, state, trial counts, created time, labels."""
    table = Table(title="Hyperparameter tuning jobs", title_justify="left")
    for column in ("id", "display name", "state", "trials", "created", "labels"):
        table.add_column(column)
    for job in jobs:
        created = job.create_time.strftime("%Y-%m-%d %H:%M:%S") if job.create_time else "-"
        labels = ",".join(f"{k}={v}" for k, v in job.labels.items())
        table.add_row(
            job.job_id,
            job.display_name,
            Text(
                job.state.name.removeprefix("JOB_STATE_"),
                style=_STATE_STYLE.get(job.state.name, ""),
            ),
            f"max {job.max_trial_count}, parallel {job.parallel_trial_count}",
            created,
            labels,
        )
    return table
