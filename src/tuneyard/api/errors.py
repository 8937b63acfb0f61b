"""Errors in Google's JSON shape (AIP-193), from one place.

Every error the API answers with goes through :func:`error_response`, so ``google.api_core``
raises the same exception as it does against Google (it maps by HTTP status)::

    {"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT",
               "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                            "fieldViolations": [{"field": "...", "description": "..."}]}]}}

What reaches the handlers here and what it becomes:

- :class:`~tuneyard.errors.TuneyardError` → its own code and HTTP status;
- FastAPI's request validation errors and malformed JSON → INVALID_ARGUMENT (400);
- Starlette's HTTP errors (unknown route 404, wrong method 405) → that status with its code;
- anything else → INTERNAL (500), logged with its traceback.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from tuneyard.errors import (
    Code,
    FieldViolation,
    Internal,
    InvalidArgument,
    NotFound,
    TuneyardError,
)

logger = logging.getLogger(__name__)

_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_CODE_FOR_HTTP = {404: Code.NOT_FOUND, 405: Code.UNIMPLEMENTED, 401: Code.UNAUTHENTICATED}


class _HttpError(TuneyardError):
    """A Starlette HTTP error, with the code closest to its status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.code = _CODE_FOR_HTTP.get(
            status, Code.INVALID_ARGUMENT if status < 500 else Code.UNKNOWN
        )
        self._status = status

    @property
    def http_status(self) -> int:
        return self._status


def error_response(error: TuneyardError) -> JSONResponse:
    """Google's JSON error body for ``error``, with its HTTP status."""
    body: dict[str, object] = {
        "code": error.http_status,
        "message": error.message,
        "status": error.code.name,
    }
    if isinstance(error, InvalidArgument):
        violations = [{"field": v.field, "description": v.description} for v in error.violations]
        body["details"] = [{"@type": _BAD_REQUEST, "fieldViolations": violations}]
    return JSONResponse({"error": body}, status_code=error.http_status)


def _as_tuneyard_error(request: Request, exc: Exception) -> TuneyardError:
    if isinstance(exc, TuneyardError):
        return exc
    if isinstance(exc, RequestValidationError):
        violations = []
        for item in exc.errors():
            loc = [str(part) for part in item.get("loc", ()) if part != "body"]
            message = str(item.get("msg", "invalid"))
            if item.get("type") == "json_invalid":
                message = (
                    f"Invalid JSON payload received: {item.get('ctx', {}).get('error', message)}"
                )
            violations.append(FieldViolation(".".join(loc), message))
        return InvalidArgument(violations or "invalid request")
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            return NotFound(f"no such resource or method: {request.method} {request.url.path}")
        return _HttpError(exc.status_code, str(exc.detail))
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return Internal("internal error; the server log has the details")


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    return error_response(_as_tuneyard_error(request, exc))


def install_error_handlers(app: FastAPI) -> None:
    """Route every error the app can meet through :func:`error_response`."""
    for kind in (TuneyardError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(kind, _handle)
