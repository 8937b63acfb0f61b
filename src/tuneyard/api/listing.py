"""Paging and read masks for ``ListHyperparameterTuningJobs``.

Page tokens are opaque to clients: URL-safe base64 of ``v1:<last job id returned>``. Jobs are
listed by ascending numeric id and ids are never reused, so a token stays correct while jobs are
created (they come later) or deleted (they are skipped). ``pageSize`` defaults to
:data:`DEFAULT_PAGE_SIZE` and is capped at :data:`MAX_PAGE_SIZE`, as AIP-158 allows.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from tuneyard.errors import FieldViolation, InvalidArgument

#: Jobs per page when the request gives no ``pageSize`` (or 0).
DEFAULT_PAGE_SIZE = 50
#: Larger ``pageSize`` values are lowered to this.
MAX_PAGE_SIZE = 1000
_TOKEN_PREFIX = "v1:"


def page_size(requested: int | None) -> int:
    """The number of jobs a page holds for a requested ``pageSize``.

    Raises:
        InvalidArgument: a negative page size.
    """
    if requested is None or requested == 0:
        return DEFAULT_PAGE_SIZE
    if requested < 0:
        raise InvalidArgument([FieldViolation("pageSize", "must not be negative")])
    return min(requested, MAX_PAGE_SIZE)


def encode_page_token(last_id: int) -> str:
    """The token of the page that starts after job ``last_id``."""
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int | None:
    """The job id a page token continues after; None for no token (the first page).

    Raises:
        InvalidArgument: the token was not made by :func:`encode_page_token`.
    """
    if not token:
        return None
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = text.removeprefix(_TOKEN_PREFIX)
    if not text.startswith(_TOKEN_PREFIX) or not number.isdigit() or len(number) > 12:
        raise InvalidArgument([FieldViolation("pageToken", "is not a token this server issued")])
    return int(number)


def _camel(path: str) -> str:
    head, *rest = path.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def parse_read_mask(mask: str | None) -> list[list[str]] | None:
    """A ``readMask`` (comma-separated, camelCase or snake_case paths) as camelCase path parts;
    None when there is no mask (every field is read)."""
    if not mask or not mask.strip():
        return None
    paths = [p.strip() for p in mask.split(",") if p.strip()]
    return [[_camel(part) for part in path.split(".")] for path in paths]


def project(data: dict[str, Any], mask: list[list[str]] | None) -> dict[str, Any]:
    """``data`` (a resource's JSON) with only the fields ``mask`` names; all of it without one."""
    if mask is None:
        return data
    result: dict[str, Any] = {}
    for path in mask:
        source: Any = data
        target = result
        for i, part in enumerate(path):
            if not isinstance(source, dict) or part not in source:
                break
            if i == len(path) - 1:
                target[part] = source[part]
            else:
                source = source[part]
                target = target.setdefault(part, {})
    return result
