"""Errors, one class per google.rpc code that tuneyard uses.

Every error a tuneyard layer raises on purpose is a :class:`TuneyardError`. Each subclass carries
its ``google.rpc.Code`` and the HTTP status Google's front ends answer with, so a transport turns
any of them into Google's JSON error shape in one place::

    TuneyardError (code, http_status)
    ├── InvalidArgument      INVALID_ARGUMENT     400   (carries field violations)
    ├── FailedPrecondition   FAILED_PRECONDITION  400
    ├── NotFound             NOT_FOUND            404
    ├── AlreadyExists        ALREADY_EXISTS       409
    ├── Aborted              ABORTED              409
    ├── Unauthenticated      UNAUTHENTICATED      401
    ├── PermissionDenied     PERMISSION_DENIED    403
    ├── DeadlineExceeded     DEADLINE_EXCEEDED    504
    ├── Unimplemented        UNIMPLEMENTED        501
    ├── Unavailable          UNAVAILABLE          503
    └── Internal             INTERNAL             500
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Code(enum.IntEnum):
    """``google.rpc.Code`` values."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


#: HTTP status for each code, as in ``google/rpc/code.proto``.
HTTP_STATUS: dict[Code, int] = {
    Code.OK: 200,
    Code.CANCELLED: 499,
    Code.UNKNOWN: 500,
    Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.PERMISSION_DENIED: 403,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.DATA_LOSS: 500,
    Code.UNAUTHENTICATED: 401,
}


class TuneyardError(Exception):
    """Base of every deliberate tuneyard error; ``code`` says which google.rpc code it is."""

    code: Code = Code.UNKNOWN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def http_status(self) -> int:
        """The HTTP status Google's front ends use for this error's code."""
        return HTTP_STATUS[self.code]


@dataclass(frozen=True)
class FieldViolation:
    """One broken rule; ``field`` is a camelCase path like ``studySpec.parameters[2]``."""

    field: str
    description: str

    def __str__(self) -> str:
        return f"{self.field}: {self.description}" if self.field else self.description


class InvalidArgument(TuneyardError):
    """The request is malformed; ``violations`` names each bad field and the rule it breaks."""

    code = Code.INVALID_ARGUMENT

    def __init__(self, violations: list[FieldViolation] | str) -> None:
        if isinstance(violations, str):
            violations = [FieldViolation("", violations)]
        self.violations: list[FieldViolation] = list(violations)
        super().__init__("; ".join(str(v) for v in self.violations))


class FailedPrecondition(TuneyardError):
    """The resource is not in a state that allows the operation (e.g. cancelling an ended job)."""

    code = Code.FAILED_PRECONDITION


class NotFound(TuneyardError):
    """The named resource does not exist."""

    code = Code.NOT_FOUND


class AlreadyExists(TuneyardError):
    """A resource with that name or id already exists."""

    code = Code.ALREADY_EXISTS


class Aborted(TuneyardError):
    """A concurrent change won; retrying may succeed."""

    code = Code.ABORTED


class Unauthenticated(TuneyardError):
    """The request lacks valid credentials."""

    code = Code.UNAUTHENTICATED


class PermissionDenied(TuneyardError):
    """The caller's credentials are valid but not allowed to do this."""

    code = Code.PERMISSION_DENIED


class DeadlineExceeded(TuneyardError):
    """A call or a wait did not finish within its timeout."""

    code = Code.DEADLINE_EXCEEDED


class Unimplemented(TuneyardError):
    """The server does not implement this method."""

    code = Code.UNIMPLEMENTED


class Unavailable(TuneyardError):
    """A dependency (the database, a cluster) cannot be reached right now."""

    code = Code.UNAVAILABLE


class Internal(TuneyardError):
    """An invariant broke inside tuneyard."""

    code = Code.INTERNAL
