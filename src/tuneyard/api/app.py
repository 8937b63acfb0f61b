"""The FastAPI application: Vertex AI's v1 REST surface for hyperparameter tuning jobs.

The app only answers requests; the engine that runs the jobs is the ``Controller`` it is given,
whose ``serve`` loop runs elsewhere (``tuneyard serve`` runs both in one process).
"""

from __future__ import annotations

from fastapi import FastAPI

from tuneyard.api import jobs, operations
from tuneyard.api.auth import install_token_guard
from tuneyard.api.browsers import install_browser_guard
from tuneyard.api.errors import install_error_handlers
from tuneyard.engine import Controller


def create_app(
    controller: Controller, *, token: str | None = None, loopback_hosts: bool = False
) -> FastAPI:
    """The API app over ``controller`` (and its store).

    Args:
        controller: submits and cancels jobs; its store answers reads.
        token: when set, every request needs the token, as ``Authorization: Bearer <token>``
            or (from a browser) a cookie: see :mod:`tuneyard.api.auth` (401 UNAUTHENTICATED
            otherwise).
        loopback_hosts: answer only requests whose Host header names loopback (for a server
            without a token; see :mod:`tuneyard.api.browsers`). Changes from pages of other
            origins are refused either way.

    Example:
        >>> app = create_app(Controller(open_store(), LocalExecutor()))  # doctest: +SKIP
        >>> uvicorn.run(app, port=8080)  # doctest: +SKIP
    """
    app = FastAPI(
        title="tuneyard",
        summary="Vertex AI v1 HyperparameterTuningJob REST API, self-hosted",
        version="v1",
    )
    app.state.controller = controller
    install_error_handlers(app)
    app.include_router(jobs.router)
    app.include_router(operations.router)
    install_token_guard(app, token)
    # Added last, so it runs first: before the token check and every route.
    install_browser_guard(app, loopback_hosts=loopback_hosts)
    return app
