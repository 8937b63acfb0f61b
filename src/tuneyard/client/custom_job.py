"""``CustomJob``: the trial template of a tuning job, as ``aiplatform.CustomJob`` builds it.

Nothing is sent for it: a tuning job copies its spec into ``trialJobSpec`` and, unlike the SDK,
also its labels and encryption key (which the tuning job then carries).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from tuneyard.client.service import message_dict
from tuneyard.model import CustomJobSpec, WorkerPoolSpec, parse_resource


def _worker_pool_spec(spec: Any, index: int) -> WorkerPoolSpec:
    if isinstance(spec, WorkerPoolSpec):
        return spec
    return parse_resource(WorkerPoolSpec, message_dict(spec), prefix=f"worker_pool_specs[{index}]")


class CustomJob:
    """The trial template: worker pools and where outputs go (``aiplatform.CustomJob``).

    Args:
        display_name: the custom job's name (the tuning job has its own).
        worker_pool_specs: dicts (camelCase or snake_case), ``WorkerPoolSpec`` messages, or
            :class:`tuneyard.model.WorkerPoolSpec` values.
        base_output_dir: ``gs://...`` (or an absolute local path) for outputs; each trial
            writes under ``<base_output_dir>/<trial id>/``.
        staging_bucket: when there is no ``base_output_dir``, outputs go to
            ``<staging_bucket>/aiplatform-custom-job-<timestamp>`` (as in the SDK).
        labels, encryption_spec_key_name: carried onto the tuning job.
        persistent_resource_id: recorded in the trial job spec.
    """

    def __init__(
        self,
        display_name: str,
        worker_pool_specs: Sequence[Any],
        base_output_dir: str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        labels: Mapping[str, str] | None = None,
        encryption_spec_key_name: str | None = None,
        staging_bucket: str | None = None,
        persistent_resource_id: str | None = None,
    ) -> None:
        if not base_output_dir and staging_bucket:
            bucket = (
                staging_bucket
                if "://" in staging_bucket or staging_bucket.startswith("/")
                else f"gs://{staging_bucket}"
            )
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d-%H-%M-%S-%f")[:-3]
            base_output_dir = f"{bucket.rstrip('/')}/aiplatform-custom-job-{stamp}"
        pools = [_worker_pool_spec(spec, i) for i, spec in enumerate(worker_pool_specs)]
        spec: dict[str, Any] = {"worker_pool_specs": pools}
        if base_output_dir:
            spec["base_output_directory"] = {"output_uri_prefix": base_output_dir}
        if persistent_resource_id:
            spec["persistent_resource_id"] = persistent_resource_id
        self.job_spec = CustomJobSpec.model_validate(spec)
        self.display_name = display_name
        self.project = project
        self.location = location
        self.credentials = credentials
        self.labels = dict(labels or {})
        self.encryption_spec_key_name = encryption_spec_key_name
        self.staging_bucket = staging_bucket

    def to_dict(self) -> dict[str, Any]:
        """The custom job as Vertex JSON (camelCase)."""
        data: dict[str, Any] = {
            "displayName": self.display_name,
            "jobSpec": self.job_spec.to_json_dict(),
        }
        if self.labels:
            data["labels"] = self.labels
        if self.encryption_spec_key_name:
            data["encryptionSpec"] = {"kmsKeyName": self.encryption_spec_key_name}
        return data


def template_of(custom_job: Any) -> tuple[CustomJobSpec, dict[str, str], str | None]:
    """The trial spec, labels and key of a CustomJob here or the SDK's."""
    if isinstance(custom_job, CustomJob):
        return custom_job.job_spec, custom_job.labels, custom_job.encryption_spec_key_name
    spec = parse_resource(CustomJobSpec, message_dict(custom_job.job_spec), prefix="custom_job")
    labels = dict(getattr(custom_job, "labels", None) or {})
    encryption = getattr(custom_job, "encryption_spec", None)
    return spec, labels, getattr(encryption, "kms_key_name", None) or None


__all__ = ["CustomJob", "template_of"]
