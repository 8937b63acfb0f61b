"""``google.longrunning.Operations.GetOperation`` on the ``/v1/`` and ``/ui/`` paths.

Google's Python REST client polls operations at ``/ui/{name}`` (the first HTTP binding wins),
other clients at ``/v1/{name}``; both serve location-scoped and job-scoped names.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tuneyard.api.state import controller_of, enum_int

router = APIRouter(tags=["operations"])


def _answer(request: Request, name: str) -> JSONResponse:
    operation = controller_of(request).store.get_operation(name)
    return JSONResponse(operation.to_json_dict(enum_int=enum_int(request)))


for _prefix in ("v1", "ui"):

    @router.get(
        f"/{_prefix}/projects/{{project}}/locations/{{location}}/operations/{{operation_id}}",
        summary="GetOperation",
        include_in_schema=_prefix == "v1",
    )
    def get_operation(
        request: Request, project: str, location: str, operation_id: str
    ) -> JSONResponse:
        """A location-scoped operation, e.g. a job's deletion."""
        return _answer(
            request, f"projects/{project}/locations/{location}/operations/{operation_id}"
        )

    @router.get(
        f"/{_prefix}/projects/{{project}}/locations/{{location}}/hyperparameterTuningJobs/"
        "{job_id}/operations/{operation_id}",
        summary="GetOperation (job-scoped)",
        include_in_schema=_prefix == "v1",
    )
    def get_job_operation(
        request: Request, project: str, location: str, job_id: str, operation_id: str
    ) -> JSONResponse:
        """An operation that belongs to one job."""
        parent = f"projects/{project}/locations/{location}/hyperparameterTuningJobs/{job_id}"
        return _answer(request, f"{parent}/operations/{operation_id}")
