"""Read-only endpoints for what Vertex's v1 API does not serve, under ``/tuneyard/v1/``.

The dashboard reads jobs through the Vertex API (list with AIP-160 filters, get, cancel,
delete); these fill the gaps:

- ``GET /tuneyard/v1/locations``: the project/location pairs that hold jobs (Vertex has no call
  that lists projects), newest first;
- ``GET /tuneyard/v1/projects/{p}/locations/{l}/hyperparameterTuningJobs:batchGetProgress
  ?ids=1,2``: each job's trial counts, failed trials and best trials
  (:func:`~tuneyard.dashboard.progress.job_progress`); ids of jobs that no longer exist are
  left out;
- ``GET /tuneyard/v1/projects/{p}/locations/{l}/hyperparameterTuningJobs/{id}/trials/{t}/logs
  ?maxBytes=N``: the tail of each replica's output (stdout, then stderr).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from tuneyard.api.state import controller_of
from tuneyard.dashboard.progress import job_progress
from tuneyard.errors import FieldViolation, InvalidArgument, NotFound
from tuneyard.model import job_name

router = APIRouter(prefix="/tuneyard/v1", tags=["dashboard"])

#: Jobs one ``batchGetProgress`` call may ask about.
MAX_PROGRESS_IDS = 200
#: Default and largest ``maxBytes`` of a log tail.
DEFAULT_LOG_BYTES = 32768
MAX_LOG_BYTES = 1 << 20
_SCAN_BATCH = 1000


@router.get("/locations", summary="List the project/location pairs that hold jobs")
def list_locations(request: Request) -> JSONResponse:
    """``{"locations": [{"name", "project", "location", "jobCount"}]}``, newest job first."""
    store = controller_of(request).store
    counts: dict[tuple[str, str], list[int]] = {}  # (project, location) -> [count, newest id]
    after: int | None = None
    while True:
        batch = store.list_jobs(after_id=after, limit=_SCAN_BATCH)
        for job in batch:
            _, project, _, location, *_ = job.name.split("/")
            entry = counts.setdefault((project, location), [0, 0])
            entry[0] += 1
            entry[1] = max(entry[1], int(job.job_id))
        if len(batch) < _SCAN_BATCH:
            break
        after = int(batch[-1].job_id)
    ordered = sorted(counts.items(), key=lambda item: -item[1][1])
    return JSONResponse(
        {
            "locations": [
                {
                    "name": f"projects/{project}/locations/{location}",
                    "project": project,
                    "location": location,
                    "jobCount": count,
                }
                for (project, location), (count, _) in ordered
            ]
        }
    )


def _job_ids(ids: str) -> list[str]:
    found = [part.strip() for part in ids.split(",") if part.strip()]
    if len(found) > MAX_PROGRESS_IDS:
        raise InvalidArgument(
            [FieldViolation("ids", f"{len(found)} ids; at most {MAX_PROGRESS_IDS} per call")]
        )
    for job_id in found:
        if not job_id.isdigit():
            raise InvalidArgument([FieldViolation("ids", f"{job_id!r} is not a numeric job id")])
    return found


@router.get(
    "/projects/{project}/locations/{location}/hyperparameterTuningJobs:batchGetProgress",
    summary="Trial counts and best trials of several jobs",
)
def batch_get_progress(
    request: Request,
    project: str,
    location: str,
    ids: Annotated[str, Query(description="comma-separated job ids")] = "",
) -> JSONResponse:
    """``{"progress": [job_progress(...), ...]}`` in the order of ``ids``."""
    store = controller_of(request).store
    progress: list[dict[str, Any]] = []
    for job_id in _job_ids(ids):
        name = job_name(project, location, job_id)
        try:
            job = store.get_job(name, with_trials=False)
            records = store.trial_records(name)
        except NotFound:
            continue  # deleted since the page listed it
        progress.append(job_progress(job, records))
    return JSONResponse({"progress": progress})


@router.get(
    "/projects/{project}/locations/{location}/hyperparameterTuningJobs/{job_id}/trials/"
    "{trial_id}/logs",
    summary="The tail of each replica's output of a trial",
)
def trial_logs(
    request: Request,
    project: str,
    location: str,
    job_id: str,
    trial_id: str,
    max_bytes: Annotated[
        int, Query(alias="maxBytes", ge=1, le=MAX_LOG_BYTES, description="per replica")
    ] = DEFAULT_LOG_BYTES,
) -> JSONResponse:
    """``{"replicas": [{"replica": "workerpool0-0", "text": "..."}]}``; empty before the
    trial's replicas start.

    Raises:
        NotFound: no such job, or the job has no such trial.
    """
    controller = controller_of(request)
    name = job_name(project, location, job_id)
    records = {r.trial.id: r for r in controller.store.trial_records(name)}
    record = records.get(trial_id)
    if record is None:
        raise NotFound(f"job {name} has no trial {trial_id!r}")
    handle = record.runtime.get("handle")
    logs = {} if handle is None else controller.executor.read_logs(handle, max_bytes)
    replicas = [{"replica": replica, "text": text} for replica, text in logs.items()]
    return JSONResponse({"replicas": replicas})
