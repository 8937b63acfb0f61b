"""Mount the dashboard on the API app: the page at ``/``, its files under ``/dashboard/``,
and the read endpoints of :mod:`tuneyard.dashboard.reads`.

The page is static HTML, CSS and JavaScript shipped in the package (``static/``); the browser
reads everything else from the API. On a server with an access token, ``/`` is the way in:
``/?token=TOKEN`` (or the sign-in form it shows, which posts the token) sets an HttpOnly,
SameSite=Strict cookie that the API accepts (:mod:`tuneyard.api.auth`) and redirects to ``/``
without the token in the address bar. Everything else under the token's guard stays there.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from tuneyard.api.auth import TOKEN_COOKIE, token_check_of
from tuneyard.dashboard.reads import router

#: Where the dashboard's own files are served.
STATIC_PREFIX = "/dashboard"
# A week: the browser keeps the cookie across restarts of the server, not forever.
_COOKIE_SECONDS = 7 * 24 * 3600
_NO_STORE = {"Cache-Control": "no-store"}


def static_dir() -> Path:
    """The folder of the dashboard's HTML, CSS, JavaScript and vendored chart library."""
    return Path(str(resources.files("tuneyard.dashboard") / "static"))


def _sign_in_page(message: str = "") -> str:
    notice = f'<p class="error">{html.escape(message)}</p>' if message else ""
    return (static_dir() / "signin.html").read_text().replace("<!--NOTICE-->", notice)


def _signed_in(request: Request, token: str) -> Response:
    response = RedirectResponse("/", status_code=303, headers=_NO_STORE)
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=_COOKIE_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def _index(request: Request) -> Response:
    """The dashboard page; with a token, the sign-in page until the browser has the cookie."""
    check = token_check_of(request)
    if check is not None:
        given = request.query_params.get("token")
        if request.method == "POST":
            form = parse_qs((await request.body()).decode(errors="replace"))
            given = (form.get("token") or [""])[0]
        if given is not None:
            if check.matches(given):
                return _signed_in(request, given)
            return HTMLResponse(_sign_in_page("That is not the access token of this server."), 401)
        if not check.matches(request.cookies.get(TOKEN_COOKIE)):
            return HTMLResponse(_sign_in_page(), 401, headers=_NO_STORE)
    index = (static_dir() / "index.html").read_text()
    return HTMLResponse(index, headers=_NO_STORE)


def mount_dashboard(app: FastAPI) -> FastAPI:
    """Add the dashboard to an app made by :func:`tuneyard.api.create_app`; return the app.

    ``/`` is left open by the token guard, since it checks the token itself (above).

    Example:
        >>> app = mount_dashboard(create_app(controller, token="s3cret"))  # doctest: +SKIP
    """
    app.include_router(router)
    app.add_api_route("/", _index, methods=["GET", "POST"], include_in_schema=False)
    app.mount(STATIC_PREFIX, StaticFiles(directory=static_dir()), name="dashboard")
    app.state.open_paths.add("/")
    return app
