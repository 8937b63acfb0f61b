"""The access token: which requests the server answers when ``tuneyard serve`` has one.

A request passes with either credential:

- ``Authorization: Bearer <token>`` — API clients, Google's SDK, ``curl``;
- the :data:`TOKEN_COOKIE` cookie holding the token — a browser on the dashboard, which sets it
  (HttpOnly, SameSite=Strict) when someone opens ``/?token=<token>`` or signs in at ``/``.

A cookie travels with every request the browser sends, including ones another site's page makes
it send. So a cookie-authenticated request that changes something (any method but GET, HEAD and
OPTIONS) must also carry the :data:`REQUEST_HEADER` header: a page of another origin cannot add
a custom header without a CORS preflight, which this server never grants. With SameSite=Strict
that is two locks where one suffices.

Paths in ``app.state.open_paths`` pass unchecked: they check the token themselves (the
dashboard's sign-in page at ``/``). Without a token every request passes, as on loopback.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.responses import Response

from tuneyard.api.errors import error_response
from tuneyard.errors import Unauthenticated

#: The cookie that carries the token in a browser.
TOKEN_COOKIE = "tuneyard_token"
#: The header a cookie-authenticated request that changes something must carry (any value).
REQUEST_HEADER = "X-Tuneyard-Request"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenCheck:
    """Compares what a request carries with the server's token, in constant time.

    Args:
        token: the access token; not empty.

    Example:
        >>> TokenCheck("s3cret").matches("s3cret")
        True
    """

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("an access token must not be empty")
        self._token = token.encode()
        self._bearer = b"Bearer " + self._token

    def matches(self, candidate: str | None) -> bool:
        """Whether ``candidate`` is the token."""
        if candidate is None:
            return False
        return secrets.compare_digest(candidate.encode(), self._token)

    def admits(self, request: Request) -> bool:
        """Whether ``request`` carries the token in a way this module accepts (above)."""
        header = request.headers.get("authorization")
        if header is not None:
            return secrets.compare_digest(header.encode(), self._bearer)
        if not self.matches(request.cookies.get(TOKEN_COOKIE)):
            return False
        return request.method in _SAFE_METHODS or REQUEST_HEADER.lower() in request.headers


def token_check_of(request: Request) -> TokenCheck | None:
    """The app's token check; None when the server has no token (every request passes)."""
    check: TokenCheck | None = getattr(request.app.state, "token_check", None)
    return check


def install_token_guard(app: FastAPI, token: str | None) -> None:
    """Refuse (401 UNAUTHENTICATED) requests without the token, except on open paths.

    Sets ``app.state.token_check`` (None without a token) and ``app.state.open_paths``, a set
    that whatever mounts more routes on the app may add paths to.
    """
    app.state.open_paths = set()
    app.state.token_check = TokenCheck(token) if token else None
    if not token:
        return

    @app.middleware("http")
    async def require_token(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        check = token_check_of(request)
        if (
            check is not None
            and request.url.path not in request.app.state.open_paths
            and not check.admits(request)
        ):
            return error_response(
                Unauthenticated(
                    "missing or wrong access token: send 'Authorization: Bearer TOKEN' "
                    f"(or, from a browser, the {TOKEN_COOKIE} cookie that /?token=TOKEN sets, "
                    f"plus an {REQUEST_HEADER} header on requests that change something)"
                )
            )
        return await call_next(request)
