"""Endpoint resolution, tokens, ``retry`` / ``timeout`` / ``metadata``, against real servers."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from google.oauth2.credentials import Credentials

from tests.api.conftest import free_port, start_server, stop_server
from tests.client.conftest import PROJECT, REGION
from tuneyard.client import HyperparameterTuningJobHook, JobServiceClient, Retry
from tuneyard.client.endpoint import (
    DEFAULT_ENDPOINT,
    ConnectionSettings,
    endpoint_url,
    resolve_endpoint,
    settings_from_connection,
)
from tuneyard.client.resources import read_job
from tuneyard.errors import DeadlineExceeded, Internal, Unauthenticated, Unavailable


@dataclass
class Connection:
    """The fields of an Airflow connection the client reads (a plain value, as Airflow's)."""

    conn_id: str = "tuneyard_default"
    host: str | None = None
    port: int | None = None
    schema: str | None = None
    password: str | None = None
    extra_dejson: dict[str, Any] = field(default_factory=dict)


class ConnectedHook(HyperparameterTuningJobHook):
    """A hook whose connection (read its own way, as a subclass may) names the project."""

    def connection_settings(self) -> ConnectionSettings | None:
        return ConnectionSettings(project=PROJECT)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUNEYARD_API_ENDPOINT", raising=False)
    monkeypatch.delenv("TUNEYARD_TOKEN", raising=False)


@pytest.mark.usefixtures("clean_env")
def test_endpoint_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert resolve_endpoint("us-central1").url == DEFAULT_ENDPOINT == "http://127.0.0.1:8080"
    monkeypatch.setenv("TUNEYARD_API_ENDPOINT", "tuneyard.internal:9000/")
    monkeypatch.setenv("TUNEYARD_TOKEN", "env-token")
    from_env = resolve_endpoint("us-central1")
    assert (from_env.url, from_env.token) == ("http://tuneyard.internal:9000", "env-token")

    host_port = settings_from_connection(
        Connection(host="10.0.0.5", port=8443, schema="https", password="conn-token")
    )
    resolved = resolve_endpoint("us-central1", settings=host_port)
    assert (resolved.url, resolved.token) == ("https://10.0.0.5:8443", "conn-token")
    assert "tuneyard_default" in resolved.source

    extras = settings_from_connection(
        Connection(
            host="ignored",
            extra_dejson={
                "extra__google_cloud_platform__api_endpoint": "http://hpt:8080",
                "token": "extra-token",
                "project": "from-conn",
            },
        )
    )
    resolved = resolve_endpoint(None, settings=extras)
    assert (resolved.url, resolved.token, resolved.project) == (
        "http://hpt:8080",
        "extra-token",
        "from-conn",
    )

    anonymous = settings_from_connection(
        Connection(
            password="unused",
            extra_dejson={"endpoint": "{region}-aiplatform.googleapis.com", "is_anonymous": "true"},
        )
    )
    google = resolve_endpoint("europe-west4", settings=anonymous)
    assert google.url == "https://europe-west4-aiplatform.googleapis.com"
    assert google.is_google and google.token is None and google.credentials is None
    assert endpoint_url("https://{region}-aiplatform.googleapis.com", None) == (
        "https://aiplatform.googleapis.com"
    )
    # Vertex AI without a token: Google credentials, or a clear error when there are none.
    monkeypatch.delenv("TUNEYARD_TOKEN")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    vertex = ConnectionSettings(endpoint="https://{region}-aiplatform.googleapis.com")
    with pytest.raises(Unauthenticated, match="no Google credentials for Vertex AI"):
        resolve_endpoint("us-central1", settings=vertex)


def test_a_token_server_needs_the_token_and_metadata_reaches_it(
    tmp_path: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(tmp_path / "home", env={"TUNEYARD_TOKEN": "s3cret"})
    try:
        monkeypatch.setenv("TUNEYARD_API_ENDPOINT", server.url)
        hook = HyperparameterTuningJobHook()
        with pytest.raises(Unauthenticated, match="missing or wrong access token"):
            hook.list_hyperparameter_tuning_jobs(project_id=PROJECT, region=REGION)
        # metadata pairs travel as headers: here, the credential itself
        pager = hook.list_hyperparameter_tuning_jobs(
            project_id=PROJECT, region=REGION, metadata=[("Authorization", "Bearer s3cret")]
        )
        assert list(pager) == []
        monkeypatch.setenv("TUNEYARD_TOKEN", "s3cret")
        hook = HyperparameterTuningJobHook()
        assert list(hook.list_hyperparameter_tuning_jobs(project_id=PROJECT, region=REGION)) == []
        # the hook's project comes from the connection when the call gives none
        assert list(ConnectedHook().list_hyperparameter_tuning_jobs(region=REGION)) == []
        # google-auth credentials add their own Authorization header
        credentials = Credentials(token="s3cret")  # type: ignore[no-untyped-call]
        client = JobServiceClient(server.url, credentials=credentials)
        parent = client.common_location_path(PROJECT, REGION)
        assert list(client.list_hyperparameter_tuning_jobs(parent=parent)) == []
    finally:
        stop_server(server)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A real TCP listener that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


def test_timeout_bounds_each_call(silent_port: int) -> None:
    client = JobServiceClient(f"http://127.0.0.1:{silent_port}")
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"timeout of 0\.5 s"):
        client.get_hyperparameter_tuning_job(
            name=client.hyperparameter_tuning_job_path(PROJECT, REGION, "1"), timeout=0.5
        )
    assert time.monotonic() - started < 10


def test_retry_waits_for_a_server_that_is_starting(tmp_path: Path, clean_env: None) -> None:
    port = free_port()
    client = JobServiceClient(f"http://127.0.0.1:{port}")
    parent = client.common_location_path(PROJECT, REGION)
    with pytest.raises(Unavailable, match="cannot reach"):
        client.list_hyperparameter_tuning_jobs(parent=parent, retry=None)
    home = tmp_path / "home"
    home.mkdir()
    with (home / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tuneyard.cli.main", "serve", "--port", str(port)],
            env={"TUNEYARD_HOME": str(home), "PATH": "/usr/bin:/bin"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # Retrying UNAVAILABLE rides out the seconds the server needs to start.
            pager = client.list_hyperparameter_tuning_jobs(
                parent=parent, retry=Retry(initial=0.2, maximum=1.0, timeout=120)
            )
            assert list(pager) == []
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_answers_with_fields_this_client_does_not_know_still_read() -> None:
    answer = {
        "name": f"projects/{PROJECT}/locations/{REGION}/hyperparameterTuningJobs/5",
        "state": "JOB_STATE_RUNNING",
        "satisfiesPzx": True,
        "studySpec": {"metrics": [{"metricId": "score", "goal": 1, "futureKnob": {"a": 1}}]},
        "trials": [{"id": "1", "state": 2, "futureTrialField": "x"}],
    }
    job = read_job(answer)
    assert job.job_id == "5" and job.state.name == "JOB_STATE_RUNNING"
    assert job.study.metrics[0].metric_id == "score" and job.trials[0].state.name == "ACTIVE"
    with pytest.raises(Internal, match="not understood"):
        read_job({"state": "NOT_A_STATE"})
