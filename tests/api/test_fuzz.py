"""A fuzz test generated from the OpenAPI document: no input makes the app answer 5xx.

The app runs in process over a real store (no engine loop), so generated jobs stay QUEUED.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.openapi import from_asgi

from tuneyard.api import create_app
from tuneyard.engine import Controller
from tuneyard.runtime import LocalExecutor
from tuneyard.store import open_store


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    store = open_store(f"sqlite:///{tmp_path / 'fuzz.db'}")
    executor = LocalExecutor()
    try:
        yield create_app(Controller(store, executor))
    finally:
        executor.close()
        store.close()


def test_no_input_makes_a_server_error(app: FastAPI) -> None:
    # Hypothesis drives each operation directly: schemathesis' pytest plugin does not support
    # this pytest version.
    schema = from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        fuzz()
