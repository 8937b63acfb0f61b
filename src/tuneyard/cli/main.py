"""``tuneyard``: run a tuning job to its end, and look at the jobs in the local database.

Exit status: 0 when the job SUCCEEDED (or the command worked), 1 when it FAILED or was
cancelled, 2 for invalid input (one clear message, no traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from tuneyard.cli.executors import add_executor_arguments
from tuneyard.cli.serve import add_serve_parser
from tuneyard.errors import InvalidArgument, TuneyardError

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_INVALID = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuneyard", description="Vertex AI hyperparameter tuning jobs, self-hosted."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the engine does")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a tuning job from a YAML or JSON file to its end")
    run.add_argument(
        "job_file", metavar="JOB.yaml", help="a HyperparameterTuningJob (Vertex JSON/YAML)"
    )
    run.add_argument("--max-trial-count", type=int, metavar="N", help="override maxTrialCount")
    run.add_argument(
        "--parallel-trial-count", type=int, metavar="N", help="override parallelTrialCount"
    )
    run.add_argument("--json", action="store_true", help="print the final job as Vertex JSON")
    run.add_argument("--project", default="local", help="project of the job's resource name")
    run.add_argument("--location", default="us-central1", help="location of the job's name")
    add_executor_arguments(run)

    jobs = commands.add_parser("jobs", help="jobs in the local database")
    job_commands = jobs.add_subparsers(dest="jobs_command", required=True, metavar="COMMAND")
    listing = job_commands.add_parser("list", help="list jobs")
    listing.add_argument("--json", action="store_true", help="print Vertex JSON")
    for name, text in (
        ("describe", "show a job and its trials"),
        ("resume", "run a job that did not end (e.g. after a crash) to its end"),
        ("cancel", "cancel a job; the process running it stops its trials"),
    ):
        sub = job_commands.add_parser(name, help=text)
        sub.add_argument("job", metavar="ID", help="a job id or full resource name")
        if name in ("describe", "resume"):
            sub.add_argument("--json", action="store_true", help="print Vertex JSON")
    logs = job_commands.add_parser("logs", help="the tail of a trial's output")
    logs.add_argument("job", metavar="ID", help="a job id or full resource name")
    logs.add_argument("trial", metavar="TRIAL", help="a trial id")
    add_serve_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tuneyard`` command."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "run":
            from tuneyard.cli.run import run_command

            return run_command(args)
        if args.command == "serve":
            from tuneyard.cli.serve import serve_command

            return serve_command(args)
        from tuneyard.cli.jobs import jobs_command

        return jobs_command(args)
    except InvalidArgument as error:
        print("error: invalid input", file=sys.stderr)
        for violation in error.violations:
            print(f"  {violation}", file=sys.stderr)
        return EXIT_INVALID
    except TuneyardError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return EXIT_INVALID if error.http_status == 400 else EXIT_JOB_FAILED


if __name__ == "__main__":
    sys.exit(main())
