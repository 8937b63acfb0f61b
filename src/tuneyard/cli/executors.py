"""Where the trials of ``tuneyard serve`` and ``tuneyard run`` run: ``--executor local|ray``.

The flag wins over ``$TUNEYARD_EXECUTOR``; ``local`` (this machine) is the default. For ``ray``
the cluster is ``--ray-address HOST:PORT``, else ``$TUNEYARD_RAY_ADDRESS``, else Ray's own choice
(``$RAY_ADDRESS``, a cluster started on this machine, or a new local one).
"""

from __future__ import annotations

import argparse
import os

from tuneyard.errors import FieldViolation, InvalidArgument
from tuneyard.runtime import Executor, LocalExecutor

EXECUTOR_ENV = "TUNEYARD_EXECUTOR"
RAY_ADDRESS_ENV = "TUNEYARD_RAY_ADDRESS"
EXECUTORS = ("local", "ray")


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--executor`` and ``--ray-address`` to a command."""
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        help=f"where trials run: this machine or a Ray cluster (default ${EXECUTOR_ENV} or local)",
    )
    parser.add_argument(
        "--ray-address",
        metavar="HOST:PORT",
        help=f"the Ray cluster's head for --executor ray (default ${RAY_ADDRESS_ENV})",
    )


def make_executor(args: argparse.Namespace) -> Executor:
    """The executor the command's flags (or the environment) ask for.

    Raises:
        InvalidArgument: ``$TUNEYARD_EXECUTOR`` names no executor.
        FailedPrecondition: Ray is not installed.
        Unavailable: the Ray cluster cannot be reached.
    """
    name = getattr(args, "executor", None) or os.environ.get(EXECUTOR_ENV) or "local"
    if name not in EXECUTORS:
        raise InvalidArgument(
            [FieldViolation(EXECUTOR_ENV, f"must be one of {', '.join(EXECUTORS)}; got {name!r}")]
        )
    if name == "local":
        return LocalExecutor()
    from tuneyard.runtime.ray import RayExecutor

    address = getattr(args, "ray_address", None) or os.environ.get(RAY_ADDRESS_ENV) or None
    return RayExecutor(address)
