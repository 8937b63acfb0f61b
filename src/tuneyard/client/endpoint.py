"""Where the client sends its calls, and with which credentials.

The endpoint is the first of:

1. the Airflow connection ``gcp_conn_id``, when Airflow is installed and the connection exists:
   the ``endpoint`` (or ``api_endpoint``) extra, else its host (with ``schema`` as the URL
   scheme and ``port``); the ``token`` extra, else its password; ``is_anonymous`` to send no
   credentials at all; ``project`` for resource names; ``key_path`` / ``keyfile_dict`` for a
   Google service account;
2. ``$TUNEYARD_API_ENDPOINT`` (with ``$TUNEYARD_TOKEN``);
3. ``http://127.0.0.1:8080``, where ``tuneyard serve`` listens by default.

An endpoint may contain ``{region}``, filled in per call: ``https://{region}-aiplatform.
googleapis.com`` talks to Vertex AI itself, with Google credentials (google-auth: a service
account key, or application default credentials) unless a token is given. Without a scheme,
Google hosts get ``https://`` and every other host ``http://``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from tuneyard.errors import FailedPrecondition, InvalidArgument, Unauthenticated

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
"""Where ``tuneyard serve`` listens by default."""
ENDPOINT_ENV = "TUNEYARD_API_ENDPOINT"
TOKEN_ENV = "TUNEYARD_TOKEN"
GOOGLE_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
_EXTRA_PREFIXES = ("", "extra__tuneyard__", "extra__google_cloud_platform__")


@dataclass(frozen=True)
class ConnectionSettings:
    """What an Airflow connection says about the endpoint (every field optional)."""

    endpoint: str | None = None
    token: str | None = None
    anonymous: bool = False
    project: str | None = None
    key_path: str | None = None
    keyfile_dict: dict[str, Any] | None = None
    source: str = "connection"


@dataclass(frozen=True)
class Endpoint:
    """A resolved endpoint: base URL, how to authenticate, and where it came from.

    Attributes:
        url: ``scheme://host[:port]``, without ``/v1``.
        token: a bearer token, or None.
        credentials: google-auth credentials, used when there is no token.
        project: the default project for resource names, or None.
        source: where the URL came from (for messages): a connection, the environment, the
            default.
    """

    url: str
    token: str | None = None
    credentials: Any = field(default=None, compare=False)
    project: str | None = None
    source: str = "default"

    @property
    def is_google(self) -> bool:
        """True for Google's own endpoints (``*.googleapis.com``)."""
        host = urllib.parse.urlsplit(self.url).hostname or ""
        return host == "googleapis.com" or host.endswith(".googleapis.com")


def _extra(extras: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        for prefix in _EXTRA_PREFIXES:
            value = extras.get(prefix + key)
            if value not in (None, ""):
                return value
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def settings_from_connection(connection: Any) -> ConnectionSettings:
    """Read an Airflow connection (anything with ``host``, ``port``, ``schema``, ``password``
    and ``extra_dejson``) into :class:`ConnectionSettings`."""
    extras = dict(getattr(connection, "extra_dejson", None) or {})
    endpoint = _extra(extras, "endpoint", "api_endpoint")
    host = getattr(connection, "host", None)
    if not endpoint and host:
        scheme = getattr(connection, "schema", None)
        port = getattr(connection, "port", None)
        endpoint = str(host)
        if "://" not in endpoint and scheme in ("http", "https"):
            endpoint = f"{scheme}://{endpoint}"
        if port and urllib.parse.urlsplit(_with_scheme(endpoint)).port is None:
            endpoint = f"{endpoint.rstrip('/')}:{port}"
    keyfile = _extra(extras, "keyfile_dict")
    if isinstance(keyfile, str):
        try:
            keyfile = json.loads(keyfile)
        except ValueError as error:
            raise InvalidArgument(f"keyfile_dict: not valid JSON ({error})") from None
    conn_id = getattr(connection, "conn_id", None)
    return ConnectionSettings(
        endpoint=str(endpoint) if endpoint else None,
        token=_extra(extras, "token") or getattr(connection, "password", None) or None,
        anonymous=_truthy(_extra(extras, "is_anonymous")),
        project=_extra(extras, "project", "project_id"),
        key_path=_extra(extras, "key_path"),
        keyfile_dict=keyfile if isinstance(keyfile, dict) else None,
        source=f"Airflow connection {conn_id!r}" if conn_id else "connection",
    )


def airflow_installed() -> bool:
    """Whether Apache Airflow is installed (not merely a folder named ``airflow`` on the path,
    such as ``examples/dags``, which Python would import as a namespace package)."""
    spec = importlib.util.find_spec("airflow")
    return spec is not None and spec.origin is not None


def airflow_connection(conn_id: str) -> Any | None:
    """The Airflow connection ``conn_id``; None when Airflow is not installed or it is absent."""
    if not conn_id or not airflow_installed():
        return None
    try:
        from airflow.sdk import BaseHook
    except ImportError:  # Airflow 2
        from airflow.hooks.base import BaseHook
    from airflow.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        logger.debug("no Airflow connection %r; using the environment", conn_id)
        return None


def _with_scheme(url: str) -> str:
    if "://" in url:
        return url
    host = urllib.parse.urlsplit(f"//{url}").hostname or ""
    google = host.endswith("googleapis.com")
    return f"{'https' if google else 'http'}://{url}"


def endpoint_url(template: str, region: str | None) -> str:
    """``template`` with its scheme and ``{region}`` filled in (Google's global endpoint when
    there is no region).

    Example:
        >>> endpoint_url("{region}-aiplatform.googleapis.com", "europe-west4")
        'https://europe-west4-aiplatform.googleapis.com'
    """
    url = template.strip()
    if "{region}" in url:
        if region and region != "global":
            url = url.replace("{region}", region)
        else:
            url = url.replace("{region}-", "").replace("{region}.", "").replace("{region}", "")
    url = _with_scheme(url).rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(f"endpoint {template!r} is not an http(s)://host[:port] URL")
    return url.removesuffix("/v1")


def google_credentials(settings: ConnectionSettings | None = None) -> Any:
    """Google credentials: a service account key from the connection, else application default
    credentials.

    Raises:
        FailedPrecondition: google-auth is not installed.
        Unauthenticated: no credentials could be found.
    """
    try:
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError
    except ImportError as error:
        raise FailedPrecondition(
            "talking to Vertex AI needs google-auth: pip install 'tuneyard[google]'"
        ) from error
    # google.oauth2's constructors are untyped.
    try:
        if settings and settings.key_path:
            from google.oauth2 import service_account

            return service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                settings.key_path, scopes=GOOGLE_SCOPES
            )
        if settings and settings.keyfile_dict:
            from google.oauth2 import service_account

            return service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                settings.keyfile_dict, scopes=GOOGLE_SCOPES
            )
        credentials, _ = google.auth.default(scopes=GOOGLE_SCOPES)
    except (DefaultCredentialsError, OSError, ValueError) as error:
        raise Unauthenticated(f"no Google credentials for Vertex AI: {error}") from None
    return credentials


def resolve_endpoint(
    region: str | None = None,
    *,
    settings: ConnectionSettings | None = None,
    credentials: Any = None,
) -> Endpoint:
    """The endpoint for ``region``: from ``settings`` (an Airflow connection), else the
    environment, else the default of ``tuneyard serve`` (see the module docstring).

    Args:
        region: fills ``{region}`` in the endpoint.
        settings: what the Airflow connection says, if there is one.
        credentials: google-auth credentials to use instead of finding some.

    Example:
        >>> resolve_endpoint("us-central1").url  # with no TUNEYARD_API_ENDPOINT set
        'http://127.0.0.1:8080'
    """
    settings = settings or ConnectionSettings(source="")
    template, source = settings.endpoint, settings.source
    if not template and os.environ.get(ENDPOINT_ENV):
        template, source = os.environ[ENDPOINT_ENV], f"${ENDPOINT_ENV}"
    if not template:
        template, source = DEFAULT_ENDPOINT, "the default endpoint of `tuneyard serve`"
    url = endpoint_url(template, region)
    token = None if settings.anonymous else settings.token or os.environ.get(TOKEN_ENV) or None
    endpoint = Endpoint(url=url, token=token, project=settings.project, source=source)
    if token or settings.anonymous:
        return endpoint
    if credentials is None and endpoint.is_google:
        credentials = google_credentials(settings)
    return Endpoint(url, None, credentials, settings.project, source)


__all__ = [
    "DEFAULT_ENDPOINT",
    "ENDPOINT_ENV",
    "TOKEN_ENV",
    "ConnectionSettings",
    "Endpoint",
    "airflow_connection",
    "airflow_installed",
    "endpoint_url",
    "google_credentials",
    "resolve_endpoint",
    "settings_from_connection",
]
