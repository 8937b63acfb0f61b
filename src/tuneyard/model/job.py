"""HyperparameterTuningJob, google.rpc.Status and long-running Operation."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from tuneyard.model._base import Int32, Timestamp, VertexModel
from tuneyard.model.custom_job import CustomJobSpec
from tuneyard.model.enums import JobState
from tuneyard.model.study import StudySpec, Trial


class Status(VertexModel):
    """``google.rpc.Status``: a code, a message and typed details."""

    code: Int32 = 0
    message: str = ""
    details: list[dict[str, Any]] = Field(default_factory=list)


class EncryptionSpec(VertexModel):
    """Customer-managed encryption key (recorded)."""

    kms_key_name: str = ""


class HyperparameterTuningJob(VertexModel):
    """A tuning job: the study to run, the trial template, the counts, and its trials."""

    name: str = ""
    display_name: str = ""
    study_spec: StudySpec | None = None
    max_trial_count: Int32 = 0
    parallel_trial_count: Int32 = 0
    max_failed_trial_count: Int32 = 0
    trial_job_spec: CustomJobSpec | None = None
    trials: list[Trial] = Field(default_factory=list)
    state: JobState = JobState.JOB_STATE_UNSPECIFIED
    create_time: Timestamp | None = None
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None
    update_time: Timestamp | None = None
    error: Status | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    encryption_spec: EncryptionSpec | None = None
    satisfies_pzs: bool = False
    satisfies_pzi: bool = False

    @property
    def job_id(self) -> str:
        """The last segment of the resource name (``""`` before creation)."""
        return self.name.rpartition("/")[2]

    @property
    def study(self) -> StudySpec:
        """The study spec (validated jobs always have one)."""
        if self.study_spec is None:
            raise ValueError("job has no studySpec")
        return self.study_spec

    @property
    def trial_spec(self) -> CustomJobSpec:
        """The trial job spec (validated jobs always have one)."""
        if self.trial_job_spec is None:
            raise ValueError("job has no trialJobSpec")
        return self.trial_job_spec


OUTPUT_ONLY_JOB_FIELDS = frozenset(
    {
        "name",
        "trials",
        "state",
        "create_time",
        "start_time",
        "end_time",
        "update_time",
        "error",
        "satisfies_pzs",
        "satisfies_pzi",
    }
)

_JOB_NAME = re.compile(
    r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/hyperparameterTuningJobs/(?P<job_id>[\w-]+)$"
)


def job_name(project: str, location: str, job_id: str) -> str:
    """``projects/{project}/locations/{location}/hyperparameterTuningJobs/{job_id}``."""
    return f"projects/{project}/locations/{location}/hyperparameterTuningJobs/{job_id}"


def parse_job_name(name: str) -> tuple[str, str, str]:
    """Split a job resource name into ``(project, location, job_id)``; ValueError if malformed."""
    match = _JOB_NAME.match(name)
    if not match:
        raise ValueError(
            f"{name!r} is not a job name of the form "
            "projects/{project}/locations/{location}/hyperparameterTuningJobs/{id}"
        )
    return match["project"], match["location"], match["job_id"]


class Operation(VertexModel):
    """``google.longrunning.Operation``."""

    name: str = ""
    metadata: dict[str, Any] | None = None
    done: bool = False
    error: Status | None = None
    response: dict[str, Any] | None = None
