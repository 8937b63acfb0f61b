"""``tuneyard jobs``: list, describe, resume, cancel and read logs of jobs in the local database."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console

from tuneyard.cli.executors import make_executor
from tuneyard.cli.render import best_table, jobs_table, trials_table
from tuneyard.cli.run import drive, report
from tuneyard.engine import Controller, JobLeases
from tuneyard.errors import NotFound
from tuneyard.model import HyperparameterTuningJob
from tuneyard.store import Store, open_store


def find_job(store: Store, ident: str) -> HyperparameterTuningJob:
    """The job with this numeric id or full resource name."""
    if "/" in ident:
        return store.get_job(ident)
    if ident.isdigit():
        found = store.list_jobs(after_id=int(ident) - 1, limit=1)
        if found and found[0].job_id == ident:
            return store.get_job(found[0].name)
    raise NotFound(f"no job with id {ident!r} in the local database")


def jobs_command(args: argparse.Namespace) -> int:
    """Dispatch ``tuneyard jobs SUBCOMMAND``."""
    console = Console(stderr=True)
    out = Console()
    store = open_store()
    try:
        if args.jobs_command == "list":
            jobs = store.list_jobs()
            if args.json:
                payload = {"hyperparameterTuningJobs": [j.to_json_dict() for j in jobs]}
                sys.stdout.write(json.dumps(payload, indent=2) + "\n")
            else:
                out.print(jobs_table(jobs))
            return 0
        job = find_job(store, args.job)
        if args.jobs_command == "describe":
            if args.json:
                sys.stdout.write(json.dumps(job.to_json_dict(), indent=2) + "\n")
                return 0
            out.print(trials_table(job, job.trials))
            best = best_table(job, job.trials)
            if best is not None:
                out.print(best)
            out.print(f"job {job.name}: [bold]{job.state.name}[/bold]")
            if job.error is not None and job.error.message:
                out.print(f"  {job.error.message}", style="red", markup=False, highlight=False)
            return 0
        executor = make_executor(args)  # $TUNEYARD_EXECUTOR: the jobs' executor
        try:
            controller = Controller(store, executor)
            if args.jobs_command == "cancel":
                cancelled = controller.cancel(job.name)
                console.print(f"{cancelled.name}: {cancelled.state.name}")
                return 0
            if args.jobs_command == "resume":  # under the job's lease: never beside a server
                controller = Controller(store, executor, leases=JobLeases(store))
                return report(drive(controller, job.name, console), console, args.json)
            records = {r.trial.id: r for r in store.trial_records(job.name)}
            record = records.get(args.trial)
            if record is None:
                raise NotFound(f"job {job.job_id} has no trial {args.trial!r}")
            handle = record.runtime.get("handle")
            if handle is None:
                raise NotFound(f"trial {args.trial} of job {job.job_id} never started")
            for replica, text in executor.read_logs(handle).items():
                out.rule(replica)
                out.print(text, markup=False, highlight=False, end="")
            return 0
        finally:
            executor.close()
    finally:
        store.close()
