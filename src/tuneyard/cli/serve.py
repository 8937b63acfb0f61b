"""``tuneyard serve``: the Vertex v1 REST API, the dashboard and the engine, in one process.

uvicorn answers requests on the main thread; ``Controller.serve`` runs every unfinished job in a
background thread, over the same store and one executor (this machine, or a Ray cluster with
``--executor ray``). SIGTERM or SIGINT stops uvicorn (which handles both), then the engine
thread; trials keep running and a restarted server carries on with them. Binding to anything
but loopback requires an access token.

Several servers may share one database (PostgreSQL; see docs/multi-server.md): each drives the
jobs it holds a lease on (``--lease-seconds``), and any of them answers every API call.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tuneyard.cli.executors import add_executor_arguments, make_executor
from tuneyard.errors import InvalidArgument

if TYPE_CHECKING:
    import uvicorn

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TOKEN_ENV = "TUNEYARD_TOKEN"
LEASE_ENV = "TUNEYARD_LEASE_SECONDS"


def lease_seconds(text: str) -> float:
    """``--lease-seconds``: a positive number of seconds.

    Raises:
        argparse.ArgumentTypeError: not a positive number.
    """
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(
            f"--lease-seconds / ${LEASE_ENV}: must be a positive number of seconds, not {text!r}"
        )
    return seconds


def add_serve_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve`` to the ``tuneyard`` command's subcommands."""
    serve = commands.add_parser(
        "serve", help="serve Vertex AI's v1 REST API for tuning jobs and run the jobs"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")
    serve.add_argument(
        "--token",
        help=f"require 'Authorization: Bearer TOKEN' on every request (default ${TOKEN_ENV}); "
        "needed when binding to anything but loopback",
    )
    add_executor_arguments(serve)
    serve.add_argument(
        "--lease-seconds",
        type=lease_seconds,
        default=os.environ.get(LEASE_ENV, "30"),
        metavar="SECONDS",
        help="how long this server's claim on a job lasts without renewal; when a server "
        f"dies, others take its jobs over after this long (default ${LEASE_ENV} or 30)",
    )


def access_token(host: str, token: str | None) -> str | None:
    """The token requests must carry, or None; refuse a non-loopback host without one.

    Raises:
        InvalidArgument: ``host`` is not loopback and no token was given.
    """
    token = token or os.environ.get(TOKEN_ENV) or None
    if host not in LOOPBACK_HOSTS and not token:
        raise InvalidArgument(
            f"binding to {host} exposes the API beyond this machine: give an access token "
            f"with --token or ${TOKEN_ENV} (or bind to 127.0.0.1)"
        )
    return token


def _server(config: uvicorn.Config) -> uvicorn.Server:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, minus re-raising the stop signal once it has shut down: that
        would kill the process before the engine thread is stopped and the store closed."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            stops = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server(config)


def serve_command(args: argparse.Namespace) -> int:
    """Run the server until SIGTERM or SIGINT; return the exit status."""
    import uvicorn

    from tuneyard.api import create_app
    from tuneyard.dashboard import mount_dashboard
    from tuneyard.engine import Controller, JobLeases
    from tuneyard.store import open_store

    token = access_token(args.host, args.token)
    store = open_store()
    executor = make_executor(args)
    controller = Controller(store, executor, leases=JobLeases(store, seconds=args.lease_seconds))
    stop = threading.Event()
    engine = threading.Thread(target=controller.serve, args=(stop,), name="engine", daemon=True)
    try:
        server = _server(
            uvicorn.Config(
                mount_dashboard(create_app(controller, token=token, loopback_hosts=token is None)),
                host=args.host,
                port=args.port,
                log_level="info" if args.verbose else "warning",
            )
        )
        engine.start()
        base = f"http://{args.host}:{args.port}"
        sign_in = " (open /?token=TOKEN once to sign in)" if token else ""
        sys.stderr.write(f"tuneyard: serving {base}/v1/ and the dashboard at {base}/{sign_in}\n")
        sys.stderr.flush()
        server.run()  # returns after SIGTERM / SIGINT
        logger.info("stopping the engine")
        return 0 if server.started else 1
    finally:
        stop.set()
        if engine.is_alive():
            engine.join(timeout=30)
        executor.close()
        store.close()
