"""The FastAPI application: Vertex AI's v1 REST surface for hyperparameter tuning jobs.

The app only answers requests; the engine that runs the jobs is the ``Controller`` it is given,
whose ``serve`` loop runs elsewhere (``tuneyard serve`` runs both in one process).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.responses import Response

from tuneyard.api import jobs, operations
from tuneyard.api.errors import error_response, install_error_handlers
from tuneyard.engine import Controller
from tuneyard.errors import Unauthenticated


def create_app(controller: Controller, *, token: str | None = None) -> FastAPI:
    """The API app over ``controller`` (and its store).

    Args:
        controller: submits and cancels jobs; its store answers reads.
        token: when set, every request needs ``Authorization: Bearer <token>``
            (401 UNAUTHENTICATED otherwise).

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
    if token:
        expected = f"Bearer {token}".encode()

        @app.middleware("http")
        async def require_token(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            given = request.headers.get("authorization", "").encode()
            if not secrets.compare_digest(given, expected):
                return error_response(
                    Unauthenticated("missing or wrong access token: send Authorization: Bearer")
                )
            return await call_next(request)

    return app
