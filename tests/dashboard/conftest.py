"""Dashboard test fixtures: Debian's chromium driven headless by Playwright, a real server with
real jobs, and a folder for screenshots.

The browser is ``/usr/bin/chromium`` (``apt-get install chromium``; ``scripts/test`` installs it
as root), never a build ``playwright install`` would download. Screenshots go to
``$TUNEYARD_TEST_ARTIFACTS`` (default: a folder under pytest's temporary directory), printed at
the end of the session.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.api.conftest import PARENT, Server, start_server, stop_server, toy_job_json

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
ARTIFACTS_ENV = "TUNEYARD_TEST_ARTIFACTS"


_ARTIFACT_FOLDERS: list[Path] = []


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go; the test summary names the folder so a person can look at them."""
    folder = Path(os.environ.get(ARTIFACTS_ENV) or tmp_path_factory.mktemp("dashboard-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    _ARTIFACT_FOLDERS.append(folder)
    return folder


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name the screenshots' folder at the end of the run."""
    for folder in _ARTIFACT_FOLDERS:
        terminalreporter.write_line(f"dashboard screenshots: {folder}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless chromium for the session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does it as root)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (no cookies carried between tests); the test fails if
    the page's JavaScript raised."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"the page raised: {errors}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One ``tuneyard serve`` process for the test module."""
    running = start_server(tmp_path_factory.mktemp("home"))
    try:
        yield running
    finally:
        stop_server(running)


def wait_for(
    what: str, probe: Callable[[], Any], timeout: float = 90, interval: float = 0.2
) -> Any:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}", pytrace=False)
        time.sleep(interval)


def job_json(server: Server, name: str, token: str | None = None) -> dict[str, Any]:
    """GET the job through the Vertex API."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    result: dict[str, Any] = httpx.get(f"{server.url}/v1/{name}", headers=headers).json()
    return result


CHATTY = Path(__file__).resolve().parent / "chatty.py"


def chatty_job(
    display_name: str,
    *,
    steps: int = 3,
    sleep: float = 0.0,
    max_trials: int = 2,
    parallel: int = 2,
    labels: dict[str, str] | None = None,
    metrics: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A job body whose trials run :mod:`tests.dashboard.chatty` (it prints a line a step)."""
    body = toy_job_json(
        display_name,
        args=[f"--steps={steps}", f"--sleep={sleep}"],
        max_trials=max_trials,
        parallel=parallel,
        labels=labels,
    )
    body["trialJobSpec"]["workerPoolSpecs"][0]["containerSpec"]["command"] = [
        sys.executable,
        str(CHATTY),
    ]
    if metrics is not None:
        body["studySpec"]["metrics"] = metrics
    return body


def post_job(server: Server, body: dict[str, Any], token: str | None = None) -> str:
    """Create a job from ``body``; return its resource name."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    response = httpx.post(
        f"{server.url}/v1/{PARENT}/hyperparameterTuningJobs", json=body, headers=headers
    )
    response.raise_for_status()
    name: str = response.json()["name"]
    return name
