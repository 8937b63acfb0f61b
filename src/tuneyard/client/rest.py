"""A small REST transport for Vertex AI's v1 API: one place that sends requests and reads errors.

It speaks JSON over HTTP with the standard library (no third-party HTTP package), to a tuneyard
server or to Google's regional endpoints. Each call:

- sends ``Authorization: Bearer <token>`` when the endpoint has a token, or lets google-auth
  credentials add their own headers (refreshing them when they expire);
- adds the caller's ``metadata`` pairs as headers, and the routing header Google's clients send;
- gives up after ``timeout`` seconds per attempt (:class:`~tuneyard.errors.DeadlineExceeded`);
- retries UNAVAILABLE (a 503, or a server that cannot be reached) as its :class:`Retry` says;
- turns Google's JSON error body ``{"error": {"code", "message", "status", "details"}}`` into the
  :mod:`tuneyard.errors` exception of that status, carrying the server's message.
"""

from __future__ import annotations

import enum
import http.client
import importlib.metadata
import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tuneyard import errors
from tuneyard.errors import Code, FieldViolation, TuneyardError

try:
    _VERSION = importlib.metadata.version("tuneyard")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
    _VERSION = "0"
USER_AGENT = f"tuneyard/{_VERSION}"
logger = logging.getLogger(__name__)
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_CLASS_FOR_CODE: dict[Code, type[TuneyardError]] = {
    Code.INVALID_ARGUMENT: errors.InvalidArgument,
    Code.FAILED_PRECONDITION: errors.FailedPrecondition,
    Code.NOT_FOUND: errors.NotFound,
    Code.ALREADY_EXISTS: errors.AlreadyExists,
    Code.ABORTED: errors.Aborted,
    Code.UNAUTHENTICATED: errors.Unauthenticated,
    Code.PERMISSION_DENIED: errors.PermissionDenied,
    Code.DEADLINE_EXCEEDED: errors.DeadlineExceeded,
    Code.UNIMPLEMENTED: errors.Unimplemented,
    Code.UNAVAILABLE: errors.Unavailable,
    Code.INTERNAL: errors.Internal,
}
_CODE_FOR_HTTP = {
    400: Code.INVALID_ARGUMENT,
    401: Code.UNAUTHENTICATED,
    403: Code.PERMISSION_DENIED,
    404: Code.NOT_FOUND,
    409: Code.ABORTED,
    429: Code.RESOURCE_EXHAUSTED,
    499: Code.CANCELLED,
    501: Code.UNIMPLEMENTED,
    503: Code.UNAVAILABLE,
    504: Code.DEADLINE_EXCEEDED,
}


class _Default(enum.Enum):
    DEFAULT = "DEFAULT"


DEFAULT = _Default.DEFAULT
"""``retry=DEFAULT``: the method's default retry (:class:`Retry`'s defaults)."""


@dataclass(frozen=True)
class Retry:
    """Retry calls that fail with UNAVAILABLE, waiting longer each time.

    Args:
        initial: seconds before the first retry.
        maximum: the longest wait between two attempts.
        multiplier: how much each wait grows.
        timeout: seconds after the first attempt when no further retry starts.

    Example:
        >>> list(itertools.islice(Retry(initial=1, maximum=3).delays(), 4))  # doctest: +SKIP
        [1, 2, 3, 3]
    """

    initial: float = 1.0
    maximum: float = 10.0
    multiplier: float = 2.0
    timeout: float = 60.0

    def delays(self) -> Iterator[float]:
        """The waits before each retry, for ever (the caller stops at ``timeout``)."""
        delay = self.initial
        while True:
            yield min(delay, self.maximum)
            delay *= self.multiplier


def retry_policy(retry: Any) -> Retry | None:
    """The :class:`Retry` that ``retry`` stands for.

    ``DEFAULT`` (ours, or ``google.api_core.gapic_v1.method.DEFAULT``) is ``Retry()``; ``None``
    means no retry; a ``google.api_core.retry.Retry`` lends its timing (initial, maximum,
    multiplier, timeout), while what is retried stays UNAVAILABLE.

    Raises:
        InvalidArgument: ``retry`` is none of these.
    """
    if retry is None:
        return None
    if retry is DEFAULT or type(retry).__name__ == "_MethodDefault":
        return Retry()
    if isinstance(retry, Retry):
        return retry
    if all(hasattr(retry, a) for a in ("_initial", "_maximum", "_multiplier")):
        timeout = getattr(retry, "_timeout", None) or getattr(retry, "_deadline", None) or 60.0
        return Retry(retry._initial, retry._maximum, retry._multiplier, float(timeout))
    raise errors.InvalidArgument(
        [FieldViolation("retry", f"expected DEFAULT, None or a Retry, got {retry!r}")]
    )


def error_from_status(code: int | str, message: str, http_status: int = 0) -> TuneyardError:
    """The :mod:`tuneyard.errors` exception for a ``google.rpc`` code (number or name)."""
    rpc_code: Code | None = None
    if isinstance(code, str) and code in Code.__members__:
        rpc_code = Code[code]
    elif isinstance(code, int) and code in Code._value2member_map_:
        rpc_code = Code(code)
    if rpc_code is None:
        rpc_code = _CODE_FOR_HTTP.get(
            http_status, Code.UNKNOWN if http_status < 500 else Code.INTERNAL
        )
    cls = _CLASS_FOR_CODE.get(rpc_code)
    if cls is None:
        error = TuneyardError(message)
        error.code = rpc_code
        return error
    return cls(message)


def error_from_response(http_status: int, raw: bytes, request: str) -> TuneyardError:
    """The exception for an HTTP error answer: Google's JSON error body, or its text."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        body = None
    detail = body.get("error") if isinstance(body, dict) else None
    if not isinstance(detail, dict):
        text = raw.decode("utf-8", "replace").strip()[:500] or http.client.responses.get(
            http_status, "error"
        )
        return error_from_status("", f"{request}: HTTP {http_status}: {text}", http_status)
    message = str(detail.get("message") or f"HTTP {http_status}")
    error = error_from_status(str(detail.get("status") or ""), message, http_status)
    if isinstance(error, errors.InvalidArgument):
        violations = [
            FieldViolation(str(v.get("field", "")), str(v.get("description", "")))
            for d in detail.get("details") or []
            if isinstance(d, dict) and d.get("@type") == _BAD_REQUEST
            for v in d.get("fieldViolations") or []
            if isinstance(v, dict)
        ]
        if violations:
            error.violations = violations
        # Keep the server's own words, whatever the violations say.
        error.message = message
        error.args = (message,)
    return error


class RestTransport:
    """Sends Vertex v1 REST calls to one base URL.

    Args:
        base_url: ``http(s)://host[:port]``; paths are appended after ``/v1/``.
        token: sent as ``Authorization: Bearer <token>``.
        credentials: google-auth credentials, asked to add their headers (and refreshed) before
            each request; used when there is no ``token``.

    Example:
        >>> transport = RestTransport("http://127.0.0.1:8080")
        >>> transport.call("GET", "projects/p/locations/us-central1/hyperparameterTuningJobs")
        ... # doctest: +SKIP
        {'hyperparameterTuningJobs': []}
    """

    def __init__(self, base_url: str, *, token: str | None = None, credentials: Any = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.credentials = credentials
        self._auth_request: Any = None
        # Loopback never goes through a proxy; elsewhere the environment's proxies apply.
        host = urllib.parse.urlsplit(self.base_url).hostname or ""
        handlers = [urllib.request.ProxyHandler({})] if _is_loopback(host) else []
        self._opener = urllib.request.build_opener(*handlers)

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int] | None = None,
        body: Any = None,
        retry: Any = DEFAULT,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str]] = (),
        routing: str = "",
    ) -> dict[str, Any]:
        """Send one call (retrying UNAVAILABLE); return the decoded JSON answer.

        Args:
            method: ``GET``, ``POST`` or ``DELETE``.
            path: the resource path after ``/v1/`` (``projects/p/locations/l/...``).
            query: query parameters; ``None`` values are left out.
            body: JSON-able request body (POST).
            retry: see :func:`retry_policy`.
            timeout: seconds per attempt; None waits as long as it takes.
            metadata: extra ``(header, value)`` pairs.
            routing: the ``x-goog-request-params`` value (``name=...`` or ``parent=...``).

        Raises:
            TuneyardError: the server's error, or Unavailable / DeadlineExceeded.
        """
        policy = retry_policy(retry)
        delays = policy.delays() if policy else iter(())
        started = time.monotonic()
        while True:
            try:
                return self._send(method, path, query, body, timeout, metadata, routing)
            except errors.Unavailable:
                delay = next(delays, None)
                if policy is None or delay is None:
                    raise
                if time.monotonic() - started + delay > policy.timeout:
                    raise
                logger.warning("%s %s: UNAVAILABLE; retrying in %.1f s", method, path, delay)
                time.sleep(delay)

    def _headers(
        self, method: str, url: str, metadata: Sequence[tuple[str, str]], routing: str
    ) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "x-goog-api-client": USER_AGENT,
        }
        if routing:
            headers["x-goog-request-params"] = routing
        for key, value in metadata:
            headers[str(key)] = str(value)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.credentials is not None:
            self.credentials.before_request(self._google_request(), method, url, headers)
        return headers

    def _google_request(self) -> Any:
        if self._auth_request is None:
            try:
                from google.auth.transport.requests import Request
            except ImportError as error:
                raise errors.FailedPrecondition(
                    "Google credentials need google-auth with its requests transport: "
                    "pip install 'tuneyard[google]'"
                ) from error
            self._auth_request = Request()
        return self._auth_request

    def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str | int] | None,
        body: Any,
        timeout: float | None,
        metadata: Sequence[tuple[str, str]],
        routing: str,
    ) -> dict[str, Any]:
        url = f"{self.base_url}/v1/{path.lstrip('/')}"
        params = {k: str(v) for k, v in (query or {}).items() if v is not None and v != ""}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        request_line = f"{method} {url}"
        data = json.dumps(body).encode() if body is not None else None
        try:
            headers = self._headers(method, url, metadata, routing)
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            with self._opener.open(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise error_from_response(error.code, error.read(), request_line) from None
        except TimeoutError:
            raise errors.DeadlineExceeded(
                f"{request_line}: no answer within the timeout of {timeout} s"
            ) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, (TimeoutError, socket.timeout)):
                raise errors.DeadlineExceeded(
                    f"{request_line}: no answer within the timeout of {timeout} s"
                ) from None
            raise self._unreachable(request_line, error.reason) from None
        except (ConnectionError, http.client.HTTPException) as error:
            raise self._unreachable(request_line, error) from None
        if not raw.strip():
            return {}
        try:
            answer = json.loads(raw)
        except ValueError:
            raise errors.Internal(
                f"{request_line}: the answer is not JSON: {raw[:200]!r}"
            ) from None
        if not isinstance(answer, dict):
            raise errors.Internal(f"{request_line}: expected a JSON object, got {answer!r}")
        return answer

    def _unreachable(self, request_line: str, reason: object) -> errors.Unavailable:
        return errors.Unavailable(
            f"{request_line}: cannot reach {self.base_url} ({reason}); is the server running? "
            "(start one with `tuneyard serve`, or set TUNEYARD_API_ENDPOINT)"
        )


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


__all__ = [
    "DEFAULT",
    "RestTransport",
    "Retry",
    "error_from_response",
    "error_from_status",
    "retry_policy",
]
