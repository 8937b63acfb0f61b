"""What routes need from a request: the app's controller, its JSON body, how to write enums."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from tuneyard.engine import Controller
from tuneyard.errors import FieldViolation, InvalidArgument


def controller_of(request: Request) -> Controller:
    """The controller (and through it the store) the app was created with."""
    controller: Controller = request.app.state.controller
    return controller


def enum_int(request: Request) -> bool:
    """Whether the client asked for enum numbers: ``$alt=json;enum-encoding=int`` (or ``alt``)."""
    for key in ("$alt", "alt"):
        for value in request.query_params.getlist(key):
            if "enum-encoding=int" in value.replace(" ", "").lower():
                return True
    return False


async def read_json(request: Request) -> Any:
    """The request body as JSON (whatever the Content-Type); INVALID_ARGUMENT if it is not."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidArgument(
            [FieldViolation("", f"Invalid JSON payload received: {error}")]
        ) from None
