"""Guards against web pages that make a visitor's browser call this server.

The API reads any request body as JSON, and a job runs commands on this machine, so a page on
another site must never get a browser to create or cancel jobs here. Two checks, before any
route:

- A request that changes something (any method but GET, HEAD and OPTIONS) and carries an
  ``Origin`` header must come from this server's own origin (the dashboard). Browsers send
  ``Origin`` on every cross-origin POST, ``no-cors`` ones included; API clients (Google's SDK,
  the hook, ``curl``) send none and pass.
- With ``loopback_hosts`` (``tuneyard serve`` on loopback without a token), the ``Host`` header
  must name loopback (``127.0.0.1``, ``localhost``, ``[::1]``): a site whose name resolves to
  127.0.0.1 (DNS rebinding) would otherwise be "same-origin" with this server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from starlette.responses import Response

from tuneyard.api.errors import error_response
from tuneyard.errors import PermissionDenied

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _host_name(host: str) -> str:
    """``host`` (a Host header: name, name:port, [v6]:port) without its port, lower case."""
    return (urlsplit(f"//{host}").hostname or "").lower()


def refusal(request: Request, *, loopback_hosts: bool) -> PermissionDenied | None:
    """Why ``request`` must be refused (see the module), or None.

    Example:
        >>> from starlette.requests import Request
        >>> scope = {"type": "http", "method": "POST", "path": "/", "headers": [
        ...     (b"host", b"127.0.0.1:8080"), (b"origin", b"https://example.com")]}
        >>> refusal(Request(scope), loopback_hosts=True).message  # doctest: +ELLIPSIS
        'a page of https://example.com may not change anything on this server...'
    """
    host = request.headers.get("host", "")
    if loopback_hosts and _host_name(host) not in LOOPBACK_NAMES:
        return PermissionDenied(
            f"Host {host!r} is not loopback: a server without an access token answers only "
            "requests addressed to 127.0.0.1, localhost or [::1]"
        )
    origin = request.headers.get("origin")
    if request.method in _SAFE_METHODS or origin is None:
        return None
    if origin != f"{request.url.scheme}://{host}":
        return PermissionDenied(
            f"a page of {origin} may not change anything on this server (cross-origin "
            "requests are refused; API clients send no Origin header)"
        )
    return None


def install_browser_guard(app: FastAPI, *, loopback_hosts: bool) -> None:
    """Refuse (403 PERMISSION_DENIED) what :func:`refusal` refuses, before any route."""

    @app.middleware("http")
    async def refuse_other_sites(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        refused = refusal(request, loopback_hosts=loopback_hosts)
        if refused is not None:
            return error_response(refused)
        return await call_next(request)
