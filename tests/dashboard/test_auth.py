"""Signing in to the dashboard on a server with a token: the cookie, and what it is good for."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from tests.api.conftest import PARENT, Server, start_server, stop_server
from tests.dashboard.conftest import chatty_job, post_job, wait_for
from tuneyard.api.auth import REQUEST_HEADER, TOKEN_COOKIE

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that needs the token."""
    running = start_server(tmp_path_factory.mktemp("home"), env={"TUNEYARD_TOKEN": TOKEN})
    try:
        yield running
    finally:
        stop_server(running)


def test_the_sign_in_page_sets_an_http_only_cookie(guarded: Server) -> None:
    anonymous = httpx.get(f"{guarded.url}/")
    assert anonymous.status_code == 401
    assert '<form method="post" action="/">' in anonymous.text
    assert TOKEN not in anonymous.text

    wrong = httpx.get(f"{guarded.url}/", params={"token": "nope"})
    assert wrong.status_code == 401
    assert "not the access token of this server" in wrong.text
    assert "set-cookie" not in wrong.headers

    for response in (
        httpx.get(f"{guarded.url}/", params={"token": TOKEN}),
        httpx.post(f"{guarded.url}/", data={"token": TOKEN}),
    ):
        assert response.status_code == 303
        assert response.headers["location"] == "/"  # the token leaves the address bar
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{TOKEN_COOKIE}={TOKEN};")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Path=/" in cookie

    with httpx.Client(base_url=guarded.url, cookies={TOKEN_COOKIE: TOKEN}) as browser:
        page = browser.get("/")
        assert page.status_code == 200
        assert '<script src="/dashboard/js/app.js" type="module">' in page.text
        assert browser.get("/dashboard/dashboard.css").status_code == 200
        assert browser.get("/dashboard/vendor/echarts.min.js").status_code == 200
        assert browser.get("/tuneyard/v1/locations").status_code == 200
        listed = browser.get(f"/v1/{PARENT}/hyperparameterTuningJobs")
        assert listed.json() == {"hyperparameterTuningJobs": []}


def test_without_the_token_nothing_but_the_sign_in_page_answers(guarded: Server) -> None:
    for path in (
        "/dashboard/dashboard.css",
        "/dashboard/js/app.js",
        "/tuneyard/v1/locations",
        f"/v1/{PARENT}/hyperparameterTuningJobs",
    ):
        for cookies in ({}, {TOKEN_COOKIE: "wrong"}):
            response = httpx.get(f"{guarded.url}{path}", cookies=cookies)
            assert response.status_code == 401, path
            assert response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_a_cookie_changes_something_only_with_the_request_header(guarded: Server) -> None:
    name = post_job(guarded, chatty_job("guarded", steps=200, sleep=0.5), token=TOKEN)
    cancel = f"{guarded.url}/v1/{name}:cancel"
    cookies = {TOKEN_COOKIE: TOKEN}

    # What a form on another site could make a browser send: the cookie, no custom header.
    forged = httpx.post(cancel, cookies=cookies)
    assert forged.status_code == 401
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    job = httpx.get(f"{guarded.url}/v1/{name}", headers=bearer).json()
    assert job["state"] not in ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED")

    allowed = httpx.post(cancel, cookies=cookies, headers={REQUEST_HEADER: "dashboard"})
    assert allowed.status_code == 200
    wait_for(
        "the job to be cancelled",
        lambda: (
            httpx.get(f"{guarded.url}/v1/{name}", headers=bearer).json()["state"]
            == "JOB_STATE_CANCELLED"
        ),
    )


def test_a_browser_signs_in_then_works_with_the_cookie(
    guarded: Server, page: Any, artifacts: Path
) -> None:
    name = post_job(guarded, chatty_job("guarded-ui", steps=400, sleep=0.5), token=TOKEN)
    page.goto(f"{guarded.url}/")
    expect(page.locator("form")).to_be_visible()
    page.fill("input[name=token]", "wrong")
    page.click("button[type=submit]")
    expect(page.locator("p.error")).to_contain_text("not the access token of this server")
    page.screenshot(path=artifacts / "sign-in.png")

    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    row = page.locator(f'tr[data-job="{name}"]')
    expect(row.locator(".badge")).to_have_attribute("data-state", "JOB_STATE_RUNNING")
    assert "token" not in page.url
    (cookie,) = [c for c in page.context.cookies() if c["name"] == TOKEN_COOKIE]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert TOKEN not in page.evaluate("document.cookie")  # page scripts cannot read it

    # Cancelling sends the cookie and the request header the server asks for.
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator('[data-action="cancel"]').click()
    expect(row.locator(".badge")).to_have_attribute(
        "data-state", re.compile(r"^JOB_STATE_CANCELL(ING|ED)$")
    )

    # A link with the token signs a fresh browser in and leaves no token in the address.
    fresh = page.context.browser.new_context()
    try:
        linked = fresh.new_page()
        linked.goto(f"{guarded.url}/?token={TOKEN}")
        expect(linked.locator(f'tr[data-job="{name}"]')).to_be_visible()
        assert "token" not in linked.url
    finally:
        fresh.close()
