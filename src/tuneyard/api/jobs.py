"""JobService's HyperparameterTuningJob methods on Vertex's v1 REST paths.

Every job is scoped to the project and location of its path: a job of another project is
NOT_FOUND, as on Google. Bodies may use camelCase or snake_case, enum names or numbers, int64
as strings or numbers; responses use enum numbers when the query says
``$alt=json;enum-encoding=int`` (as Google's REST clients do) and names otherwise.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tuneyard.api.filter import compile_filter
from tuneyard.api.listing import (
    MAX_PAGE_SIZE,
    decode_page_token,
    encode_page_token,
    page_size,
    parse_read_mask,
    project,
)
from tuneyard.api.state import controller_of, enum_int, read_json
from tuneyard.errors import FailedPrecondition
from tuneyard.model import (
    HyperparameterTuningJob,
    Operation,
    format_timestamp,
    job_from_dict,
    job_name,
)

router = APIRouter(
    prefix="/v1/projects/{project}/locations/{location}/hyperparameterTuningJobs",
    tags=["hyperparameterTuningJobs"],
)

_DELETE_METADATA = "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata"
_EMPTY = "type.googleapis.com/google.protobuf.Empty"
# Jobs read from the store per query while a filtered list page fills up.
_SCAN_BATCH = 200


def _job_json(request: Request, job: HyperparameterTuningJob) -> dict[str, Any]:
    return job.to_json_dict(enum_int=enum_int(request))


_JOB_BODY = {
    "requestBody": {
        "required": True,
        "description": "The HyperparameterTuningJob as Vertex JSON",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post("", summary="CreateHyperparameterTuningJob", openapi_extra=_JOB_BODY)
async def create_job(request: Request, project: str, location: str) -> JSONResponse:
    """Create a job (QUEUED); output-only fields in the body are ignored, unknown ones refused.

    The body is read as JSON whatever its Content-Type says, as Google's front ends do.
    """
    body = await read_json(request)
    job = job_from_dict(body)
    controller = controller_of(request)
    created, _ = await run_in_threadpool(controller.submit, job, project=project, location=location)
    return JSONResponse(_job_json(request, created))


@router.get("/{job_id}", summary="GetHyperparameterTuningJob")
def get_job(request: Request, project: str, location: str, job_id: str) -> JSONResponse:
    """The job with its trials."""
    job = controller_of(request).store.get_job(job_name(project, location, job_id))
    return JSONResponse(_job_json(request, job))


@router.get("", summary="ListHyperparameterTuningJobs")
def list_jobs(
    request: Request,
    project: str,
    location: str,
    filter_text: Annotated[str, Query(alias="filter", description="AIP-160 filter")] = "",
    requested_size: Annotated[
        int | None,
        Query(alias="pageSize", description=f"default 50, at most {MAX_PAGE_SIZE}"),
    ] = None,
    page_token: Annotated[str, Query(alias="pageToken")] = "",
    read_mask: Annotated[str, Query(alias="readMask", description="comma-separated paths")] = "",
) -> JSONResponse:
    """Jobs by ascending id, without their trials; ``nextPageToken`` when more may follow."""
    matches = compile_filter(filter_text)
    size = page_size(requested_size)
    cursor = decode_page_token(page_token)
    mask = parse_read_mask(read_mask)
    store = controller_of(request).store
    found: list[HyperparameterTuningJob] = []
    more = True
    while more and len(found) < size:
        batch = store.list_jobs(project, location, after_id=cursor, limit=_SCAN_BATCH)
        more = len(batch) == _SCAN_BATCH
        for job in batch:
            cursor = int(job.job_id)
            if matches(job):
                found.append(job)
                if len(found) == size:
                    # Stopped mid-batch: whatever follows may match.
                    more = more or job is not batch[-1]
                    break
    result: dict[str, Any] = {
        "hyperparameterTuningJobs": [project_job(request, job, mask) for job in found]
    }
    if more and found:
        result["nextPageToken"] = encode_page_token(int(found[-1].job_id))
    return JSONResponse(result)


def project_job(
    request: Request, job: HyperparameterTuningJob, mask: list[list[str]] | None
) -> dict[str, Any]:
    """A listed job's JSON, cut down to the read mask."""
    return project(_job_json(request, job), mask)


@router.post("/{job_id}:cancel", summary="CancelHyperparameterTuningJob")
def cancel_job(request: Request, project: str, location: str, job_id: str) -> JSONResponse:
    """Ask for the job to be cancelled: CANCELLING now, CANCELLED once its trials stopped."""
    controller_of(request).cancel(job_name(project, location, job_id))
    return JSONResponse({})


@router.delete("/{job_id}", summary="DeleteHyperparameterTuningJob")
def delete_job(request: Request, project: str, location: str, job_id: str) -> JSONResponse:
    """Delete an ended job; the answer is a done long-running operation."""
    store = controller_of(request).store
    name = job_name(project, location, job_id)
    job = store.get_job(name, with_trials=False)
    if not job.state.ended:
        raise FailedPrecondition(
            f"job {name} is in state {job.state.name}; only an ended job can be deleted: "
            "cancel it first"
        )
    started = format_timestamp(datetime.now(timezone.utc))
    store.delete_job(name)
    metadata = {
        "@type": _DELETE_METADATA,
        "genericMetadata": {
            "createTime": started,
            "updateTime": format_timestamp(datetime.now(timezone.utc)),
        },
    }
    operation = store.create_operation(
        f"projects/{project}/locations/{location}",
        Operation(done=True, metadata=metadata, response={"@type": _EMPTY}),
    )
    return JSONResponse(operation.to_json_dict(enum_int=enum_int(request)))
