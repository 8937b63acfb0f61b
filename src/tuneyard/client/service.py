"""A job service client with the method names of ``aiplatform_v1.JobServiceClient``, over REST.

Each method takes a ``request`` (a dict, or an object with the request's fields) or the same
fields as keyword arguments, plus ``retry=DEFAULT, timeout=None, metadata=()``: ``retry``
retries UNAVAILABLE (see :func:`tuneyard.client.rest.retry_policy`), ``timeout`` bounds each
HTTP attempt in seconds, ``metadata`` pairs are sent as headers. Errors are
:mod:`tuneyard.errors` exceptions carrying the server's message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tuneyard.client import resources
from tuneyard.client.endpoint import Endpoint, resolve_endpoint
from tuneyard.client.rest import DEFAULT, RestTransport
from tuneyard.client.results import ListHyperparameterTuningJobsPager, Operation
from tuneyard.errors import FieldViolation, InvalidArgument
from tuneyard.model import HyperparameterTuningJob as JobModel
from tuneyard.model import Operation as OperationModel
from tuneyard.model import VertexModel, job_from_dict

_JOB_PATH = re.compile(
    r"^projects/(?P<project>.+?)/locations/(?P<location>.+?)"
    r"/hyperparameterTuningJobs/(?P<hyperparameter_tuning_job>.+?)$"
)
Metadata = Sequence[tuple[str, str]]


def message_dict(message: Any) -> dict[str, Any]:
    """A request or resource given as a dict, a tuneyard model value, or a protobuf /
    proto-plus message, as a dict (snake_case or camelCase keys)."""
    if isinstance(message, Mapping):
        return dict(message)
    if isinstance(message, VertexModel):
        return message.to_json_dict()
    pb = getattr(type(message), "pb", None)
    if callable(pb) and hasattr(message, "_pb"):  # proto-plus
        message = pb(message)
    if hasattr(message, "DESCRIPTOR"):  # protobuf
        from google.protobuf import json_format  # type: ignore[import-untyped]

        data: dict[str, Any] = json_format.MessageToDict(message)
        return data
    raise InvalidArgument(f"expected a dict or a message, got {type(message).__name__}")


def _request_fields(
    request: Any, names: tuple[str, ...], flattened: dict[str, Any]
) -> dict[str, Any]:
    given = {k: v for k, v in flattened.items() if v is not None}
    if request is None:
        return given
    if given:
        raise InvalidArgument(
            "if the `request` argument is set, none of the individual field arguments "
            f"({', '.join(sorted(given))}) may be set"
        )
    if isinstance(request, Mapping):
        data = dict(request)
    else:
        data = {n: getattr(request, n) for n in names if hasattr(request, n)}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise InvalidArgument(
            [FieldViolation(f"request.{k}", f"unknown field; expected {names}") for k in unknown]
        )
    return {k: v for k, v in data.items() if v is not None}


def _required(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise InvalidArgument([FieldViolation(name, f"{name} is required")])
    return str(value)


def _read_mask(mask: Any) -> str | None:
    if mask is None or mask == "":
        return None
    if isinstance(mask, str):
        return mask
    paths = getattr(mask, "paths", mask)
    return ",".join(str(p) for p in paths)


class JobServiceClient:
    """``aiplatform_v1.JobServiceClient``'s hyperparameter tuning job methods, over REST.

    Args:
        endpoint: an :class:`~tuneyard.client.endpoint.Endpoint`, a base URL, or None for
            :func:`~tuneyard.client.endpoint.resolve_endpoint`'s answer.
        credentials: google-auth credentials (for Vertex AI), used when the endpoint has none.

    Example:
        >>> client = JobServiceClient("http://127.0.0.1:8080")
        >>> name = client.hyperparameter_tuning_job_path("my-proj", "us-central1", "1")
        >>> client.get_hyperparameter_tuning_job(name=name).state.name  # doctest: +SKIP
        'JOB_STATE_SUCCEEDED'
    """

    def __init__(self, endpoint: Endpoint | str | None = None, *, credentials: Any = None) -> None:
        if endpoint is None:
            endpoint = resolve_endpoint(credentials=credentials)
        elif isinstance(endpoint, str):
            endpoint = Endpoint(url=endpoint.rstrip("/"), source="argument")
        self.endpoint = endpoint
        self.transport = RestTransport(
            endpoint.url, token=endpoint.token, credentials=credentials or endpoint.credentials
        )

    @staticmethod
    def hyperparameter_tuning_job_path(
        project: str, location: str, hyperparameter_tuning_job: str
    ) -> str:
        """``projects/{project}/locations/{location}/hyperparameterTuningJobs/{id}``."""
        return (
            f"projects/{project}/locations/{location}"
            f"/hyperparameterTuningJobs/{hyperparameter_tuning_job}"
        )

    @staticmethod
    def parse_hyperparameter_tuning_job_path(path: str) -> dict[str, str]:
        """The ``project``, ``location`` and ``hyperparameter_tuning_job`` of a job name."""
        match = _JOB_PATH.match(path)
        return match.groupdict() if match else {}

    @staticmethod
    def common_location_path(project: str, location: str) -> str:
        """``projects/{project}/locations/{location}``."""
        return f"projects/{project}/locations/{location}"

    def create_hyperparameter_tuning_job(
        self,
        request: Any = None,
        *,
        parent: str | None = None,
        hyperparameter_tuning_job: Any = None,
        retry: Any = DEFAULT,
        timeout: float | None = None,
        metadata: Metadata = (),
    ) -> resources.HyperparameterTuningJob:
        """Create a job under ``parent``; return it as stored (with its name and state).

        ``hyperparameter_tuning_job`` may be Vertex JSON (camelCase or snake_case), a
        :class:`tuneyard.model.HyperparameterTuningJob`, or an aiplatform_v1 message.
        """
        fields = _request_fields(
            request,
            ("parent", "hyperparameter_tuning_job"),
            {"parent": parent, "hyperparameter_tuning_job": hyperparameter_tuning_job},
        )
        parent = _required(fields, "parent")
        job = fields.get("hyperparameter_tuning_job")
        if job is None:
            raise InvalidArgument([FieldViolation("hyperparameter_tuning_job", "is required")])
        if not isinstance(job, JobModel):
            job = job_from_dict(message_dict(job))
        answer = self.transport.call(
            "POST",
            f"{parent}/hyperparameterTuningJobs",
            body=job.to_json_dict(),
            retry=retry,
            timeout=timeout,
            metadata=metadata,
            routing=f"parent={parent}",
        )
        return resources.read_job(answer, "CreateHyperparameterTuningJob")

    def get_hyperparameter_tuning_job(
        self,
        request: Any = None,
        *,
        name: str | None = None,
        retry: Any = DEFAULT,
        timeout: float | None = None,
        metadata: Metadata = (),
    ) -> resources.HyperparameterTuningJob:
        """The job ``name``, with its trials."""
        name = _required(_request_fields(request, ("name",), {"name": name}), "name")
        answer = self.transport.call(
            "GET", name, retry=retry, timeout=timeout, metadata=metadata, routing=f"name={name}"
        )
        return resources.read_job(answer, "GetHyperparameterTuningJob")

    def list_hyperparameter_tuning_jobs(
        self,
        request: Any = None,
        *,
        parent: str | None = None,
        retry: Any = DEFAULT,
        timeout: float | None = None,
        metadata: Metadata = (),
    ) -> ListHyperparameterTuningJobsPager:
        """The jobs under ``parent`` (without trials), as a pager over every page.

        The request's fields: ``parent``, ``filter`` (AIP-160), ``page_size``, ``page_token``,
        ``read_mask`` (comma-separated paths, a list, or a FieldMask).
        """
        names = ("parent", "filter", "page_size", "page_token", "read_mask")
        fields = _request_fields(request, names, {"parent": parent})
        parent = _required(fields, "parent")
        query: dict[str, Any] = {
            "filter": fields.get("filter"),
            "pageSize": fields.get("page_size"),
            "readMask": _read_mask(fields.get("read_mask")),
        }

        def fetch(token: str) -> resources.ListHyperparameterTuningJobsResponse:
            answer = self.transport.call(
                "GET",
                f"{parent}/hyperparameterTuningJobs",
                query={**query, "pageToken": token},
                retry=retry,
                timeout=timeout,
                metadata=metadata,
                routing=f"parent={parent}",
            )
            return resources.read_list(answer)

        return ListHyperparameterTuningJobsPager(fetch, fetch(fields.get("page_token") or ""))

    def cancel_hyperparameter_tuning_job(
        self,
        request: Any = None,
        *,
        name: str | None = None,
        retry: Any = DEFAULT,
        timeout: float | None = None,
        metadata: Metadata = (),
    ) -> None:
        """Ask for the job to be cancelled (it goes CANCELLING, then CANCELLED)."""
        name = _required(_request_fields(request, ("name",), {"name": name}), "name")
        self.transport.call(
            "POST",
            f"{name}:cancel",
            body={},
            retry=retry,
            timeout=timeout,
            metadata=metadata,
            routing=f"name={name}",
        )

    def delete_hyperparameter_tuning_job(
        self,
        request: Any = None,
        *,
        name: str | None = None,
        retry: Any = DEFAULT,
        timeout: float | None = None,
        metadata: Metadata = (),
    ) -> Operation:
        """Delete an ended job; return the long-running operation (``.result()`` waits)."""
        name = _required(_request_fields(request, ("name",), {"name": name}), "name")
        answer = self.transport.call(
            "DELETE",
            name,
            retry=retry,
            timeout=timeout,
            metadata=metadata,
            routing=f"name={name}",
        )
        return Operation(resources.read_operation(answer), self.get_operation)

    def get_operation(
        self,
        name: str,
        *,
        retry: Any = DEFAULT,
        timeout: float | None = None,
        metadata: Metadata = (),
    ) -> OperationModel:
        """The long-running operation ``name`` as the server has it now."""
        answer = self.transport.call(
            "GET", name, retry=retry, timeout=timeout, metadata=metadata, routing=f"name={name}"
        )
        return resources.read_operation(answer)


__all__ = ["JobServiceClient", "ListHyperparameterTuningJobsPager", "Operation", "message_dict"]
