"""``tuneyard run``: run a job in this process with a live progress display."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.live import Live

from tuneyard.cli.executors import make_executor
from tuneyard.cli.render import best_table, progress_line, trials_table
from tuneyard.engine import Controller, JobLeases, JobSnapshot
from tuneyard.errors import FieldViolation, InvalidArgument
from tuneyard.model import HyperparameterTuningJob, JobState, load_job_file
from tuneyard.store import open_store


def resolve_local_paths(job: HyperparameterTuningJob, base: Path) -> HyperparameterTuningJob:
    """Make relative local ``packageUris`` relative to the job file's folder, not the cwd."""
    data = job.model_dump(exclude_defaults=True, by_alias=False)
    pools = (data.get("trial_job_spec") or {}).get("worker_pool_specs") or []
    for pool in pools:
        package = pool.get("python_package_spec")
        if package:
            package["package_uris"] = [
                uri if "://" in uri or Path(uri).is_absolute() else str((base / uri).resolve())
                for uri in package.get("package_uris", [])
            ]
    return HyperparameterTuningJob.model_validate(data)


def _with_overrides(
    job: HyperparameterTuningJob, args: argparse.Namespace
) -> HyperparameterTuningJob:
    updates: dict[str, int] = {}
    for flag, field in (
        ("max_trial_count", "max_trial_count"),
        ("parallel_trial_count", "parallel_trial_count"),
    ):
        value = getattr(args, flag)
        if value is not None:
            if value < 1:
                option = "--" + flag.replace("_", "-")
                raise InvalidArgument([FieldViolation(option, f"must be at least 1, got {value}")])
            updates[field] = value
    return job.model_copy(update=updates) if updates else job


class _Interrupts:
    """First Ctrl-C asks for cancellation; a second one stops at once."""

    def __init__(self) -> None:
        self.requested = False

    def __enter__(self) -> _Interrupts:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def drive(controller: Controller, name: str, console: Console) -> JobSnapshot:
    """Run a stored job to its end, showing progress on ``console``; Ctrl-C cancels it."""
    with _Interrupts() as interrupts, Live(console=console, refresh_per_second=8) as live:

        def show(snapshot: JobSnapshot) -> None:
            line = progress_line(snapshot)
            if interrupts.requested and not snapshot.job.state.ended:
                line.append("  cancelling (Ctrl-C again to stop at once)", style="yellow")
            live.update(line)

        return controller.run(name, on_pass=show, cancel_requested=lambda: interrupts.requested)


def report(snapshot: JobSnapshot, console: Console, as_json: bool) -> int:
    """Print the result (tables, or the job as JSON on stdout); return the exit status."""
    job = snapshot.job
    trials = [r.trial for r in snapshot.records]
    if as_json:
        full = job.model_copy(update={"trials": trials})
        sys.stdout.write(json.dumps(full.to_json_dict(), indent=2) + "\n")
    else:
        console.print(trials_table(job, trials))
        best = best_table(job, trials)
        if best is not None:
            console.print(best)
    state = job.state.name.removeprefix("JOB_STATE_")
    console.print(f"job {job.name}: [bold]{state}[/bold]")
    if job.error is not None and job.error.message:
        console.print(f"  {job.error.message}", style="red", markup=False, highlight=False)
    return 0 if job.state == JobState.JOB_STATE_SUCCEEDED else 1


def run_command(args: argparse.Namespace) -> int:
    """Load, validate, store and run a job file; see ``tuneyard run --help``."""
    path = Path(args.job_file)
    job = resolve_local_paths(_with_overrides(load_job_file(path), args), path.parent)
    console = Console(stderr=True)
    store = open_store()
    executor = make_executor(args)
    try:
        # Under the job's lease from its creation: a server sharing the database leaves it be.
        controller = Controller(store, executor, leases=JobLeases(store))
        created, notices = controller.submit(
            job, project=args.project, location=args.location, claim=True
        )
        for notice in notices:
            console.print(f"note: {notice}", style="yellow", markup=False, highlight=False)
        console.print(f"created {created.name}", highlight=False)
        snapshot = drive(controller, created.name, console)
        return report(snapshot, console, args.json)
    finally:
        executor.close()
        store.close()
