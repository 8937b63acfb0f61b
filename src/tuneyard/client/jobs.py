"""An SDK-like ``HyperparameterTuningJob`` object (``google.cloud.aiplatform``).

``HyperparameterTuningJob(...).run(...)`` creates the job and, with ``sync=True``, waits
until it has ended; with ``sync=False`` that happens in a background thread and the object can
be waited on (``wait()``, ``wait_for_resource_creation()``, ``wait_for_completion()``) or
cancelled meanwhile. ``state`` asks the server each time; ``trials`` is what the last answer
held. A FAILED or CANCELLED job makes the waits raise :class:`JobFailed` (a RuntimeError, as in
the SDK).

Every parameter reaches the job JSON: the custom job's labels and encryption key go onto the
tuning job (which is what carries them in Vertex's API), ``staging_bucket`` names the default
base output directory, and ``run``'s settings fill ``trialJobSpec``.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from tuneyard.client import hyperparameter_tuning as hpt
from tuneyard.client.custom_job import CustomJob, template_of
from tuneyard.client.resources import HyperparameterTuningJob as JobResource
from tuneyard.client.service import JobServiceClient
from tuneyard.errors import FieldViolation, InvalidArgument
from tuneyard.model import (
    CustomJobSpec,
    EncryptionSpec,
    JobState,
    SchedulingStrategy,
    StudySpec,
    Trial,
)
from tuneyard.model import HyperparameterTuningJob as JobModel

COMPLETE_STATES = frozenset(
    {
        JobState.JOB_STATE_SUCCEEDED,
        JobState.JOB_STATE_FAILED,
        JobState.JOB_STATE_CANCELLED,
        JobState.JOB_STATE_PAUSED,
    }
)
"""States in which waiting stops (PAUSED too, as in the SDK)."""
ERROR_STATES = frozenset({JobState.JOB_STATE_FAILED, JobState.JOB_STATE_CANCELLED})
DEFAULT_LOCATION = "us-central1"
POLL_INITIAL_SECONDS = 1.0
POLL_MAX_SECONDS = 5.0
"""Polling starts at 1 s and backs off to the SDK's fixed 5 s."""


class JobFailed(RuntimeError):
    """The job ended FAILED or CANCELLED; ``state`` and ``error`` say how."""

    def __init__(self, job: JobResource) -> None:
        error = job.error
        detail = f"code: {error.code} message: {error.message!r}" if error else "no error given"
        super().__init__(f"Job failed with:\n{detail}")
        self.state = job.state
        self.error = error
        self.job = job


def _merge(mine: Mapping[str, str], theirs: Mapping[str, str]) -> dict[str, str]:
    clashes = sorted(k for k in set(mine) & set(theirs) if mine[k] != theirs[k])
    if clashes:
        raise InvalidArgument(
            [
                FieldViolation(
                    f"labels[{k!r}]",
                    f"the tuning job says {mine[k]!r}, the custom job {theirs[k]!r}",
                )
                for k in clashes
            ]
        )
    return {**theirs, **mine}


class HyperparameterTuningJob:
    """A tuning job to create and follow (``aiplatform.HyperparameterTuningJob``).

    Args:
        display_name: the job's name, up to 128 characters.
        custom_job: the trial template (:class:`CustomJob`, or the SDK's).
        metric_spec: ``{metric_id: "minimize" | "maximize"}``.
        parameter_spec: ``{parameter_id: spec}`` with the classes of
            :mod:`tuneyard.hyperparameter_tuning` (or the SDK's).
        max_trial_count, parallel_trial_count, max_failed_trial_count: the counts.
        search_algorithm: None (Bayesian optimization), ``"grid"`` or ``"random"``.
        measurement_selection: ``"best"`` or ``"last"``.
        project, location: where the job lives (``location`` defaults to us-central1).
        labels, encryption_spec_key_name: the tuning job's own.
        client: the job service client to use (default: one for the resolved endpoint).

    Example:
        >>> job = HyperparameterTuningJob("demo", custom_job, {"accuracy": "maximize"},
        ...     {"lr": DoubleParameterSpec(1e-4, 0.1, "log")}, 4, 2, project="demo")
        ...     # doctest: +SKIP
        >>> job.run(sync=True); job.state.name  # doctest: +SKIP
        'JOB_STATE_SUCCEEDED'
    """

    def __init__(
        self,
        display_name: str,
        custom_job: Any,
        metric_spec: Mapping[str, str],
        parameter_spec: Mapping[str, Any],
        max_trial_count: int,
        parallel_trial_count: int,
        max_failed_trial_count: int = 0,
        search_algorithm: str | None = None,
        measurement_selection: str | None = "best",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        labels: Mapping[str, str] | None = None,
        encryption_spec_key_name: str | None = None,
        *,
        client: JobServiceClient | None = None,
    ) -> None:
        if not project:
            raise InvalidArgument([FieldViolation("project", "project is required")])
        self.project = project
        self.location = location or DEFAULT_LOCATION
        self.credentials = credentials
        self._client = client
        trial_spec, custom_labels, custom_key = template_of(custom_job)
        key = encryption_spec_key_name or custom_key
        if encryption_spec_key_name and custom_key and custom_key != encryption_spec_key_name:
            raise InvalidArgument(
                [
                    FieldViolation(
                        "encryption_spec_key_name",
                        "the tuning job and its custom job name different keys; a job carries one",
                    )
                ]
            )
        study = StudySpec(
            metrics=hpt.to_metric_specs(metric_spec),
            parameters=[hpt.to_parameter_spec(pid, s) for pid, s in parameter_spec.items()],
            algorithm=hpt.choice(hpt.SEARCH_ALGORITHMS, search_algorithm, "search_algorithm"),
            measurement_selection_type=hpt.choice(
                hpt.MEASUREMENT_SELECTIONS, measurement_selection, "measurement_selection"
            ),
        )
        self._request = JobModel(
            display_name=display_name,
            study_spec=study,
            max_trial_count=max_trial_count,
            parallel_trial_count=parallel_trial_count,
            max_failed_trial_count=max_failed_trial_count,
            trial_job_spec=trial_spec,
            labels=_merge(dict(labels or {}), custom_labels),
            encryption_spec=EncryptionSpec(kms_key_name=key) if key else None,
        )
        self._resource: JobResource | None = None
        self._future: concurrent.futures.Future[None] | None = None
        self._lock = threading.Lock()

    # -- running ---------------------------------------------------------------------------

    @property
    def client(self) -> JobServiceClient:
        """The job service client this job talks through."""
        if self._client is None:
            self._client = JobServiceClient(credentials=self.credentials)
        return self._client

    def run(
        self,
        service_account: str | None = None,
        network: str | None = None,
        timeout: float | None = None,
        restart_job_on_worker_restart: bool = False,
        enable_web_access: bool = False,
        tensorboard: str | None = None,
        sync: bool = True,
        create_request_timeout: float | None = None,
        disable_retries: bool = False,
        scheduling_strategy: Any = None,
        max_wait_duration: int | None = None,
    ) -> None:
        """Create the job; with ``sync`` wait until it has ended, else do that in the background.

        Args:
            service_account, network: set on ``trialJobSpec`` (recorded; see docs/hook.md).
            timeout: seconds each trial may run (``trialJobSpec.scheduling.timeout``).
            restart_job_on_worker_restart: restart a trial's replicas when one fails.
            enable_web_access: ``trialJobSpec.enableWebAccess`` (recorded).
            tensorboard: ``trialJobSpec.tensorboard``; trials write to AIP_TENSORBOARD_LOG_DIR.
            sync: wait here until the job has ended.
            create_request_timeout: seconds for the create call.
            disable_retries, scheduling_strategy, max_wait_duration: ``scheduling`` fields.

        Raises:
            JobFailed: with ``sync``, the job ended FAILED or CANCELLED.
            TuneyardError: the server refused the job.
        """
        body = self._with_run_settings(
            service_account, network, timeout, restart_job_on_worker_restart,
            enable_web_access, tensorboard, disable_retries, scheduling_strategy,
            max_wait_duration,
        )  # fmt: skip
        with self._lock:
            if self._future is not None or self._resource is not None:
                raise RuntimeError("this job has already been run")
            future: concurrent.futures.Future[None] = concurrent.futures.Future()
            self._future = future

        def work() -> None:
            future.set_running_or_notify_cancel()
            try:
                self._create(body, create_request_timeout)
                self._block_until_complete()
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(None)

        if sync:
            work()
            future.result()
        else:
            threading.Thread(target=work, name=f"tuneyard-job-{id(self):x}", daemon=True).start()

    def _with_run_settings(
        self,
        service_account: str | None,
        network: str | None,
        timeout: float | None,
        restart: bool,
        web_access: bool,
        tensorboard: str | None,
        disable_retries: bool,
        strategy: Any,
        max_wait: int | None,
    ) -> JobModel:
        spec = self._request.trial_spec
        scheduling: dict[str, Any] = {}
        if timeout:
            scheduling["timeout"] = timedelta(seconds=timeout)
        if restart:
            scheduling["restart_job_on_worker_restart"] = True
        if disable_retries:
            scheduling["disable_retries"] = True
        if strategy is not None:
            scheduling["strategy"] = SchedulingStrategy.parse(getattr(strategy, "value", strategy))
        if max_wait:
            scheduling["max_wait_duration"] = timedelta(seconds=max_wait)
        update: dict[str, Any] = {}
        if scheduling:
            merged = spec.scheduling.model_dump(by_alias=False) if spec.scheduling else {}
            update["scheduling"] = {**merged, **scheduling}
        for name, value in (
            ("service_account", service_account),
            ("network", network),
            ("tensorboard", tensorboard),
        ):
            if value:
                update[name] = value
        if web_access:
            update["enable_web_access"] = True
        trial_spec = CustomJobSpec.model_validate({**spec.model_dump(by_alias=False), **update})
        return self._request.model_copy(update={"trial_job_spec": trial_spec})

    def _create(self, body: JobModel, timeout: float | None) -> None:
        parent = JobServiceClient.common_location_path(self.project, self.location)
        created = self.client.create_hyperparameter_tuning_job(
            parent=parent, hyperparameter_tuning_job=body, timeout=timeout
        )
        with self._lock:
            self._resource = created

    def _sync(self) -> JobResource:
        name = self.resource_name
        job = self.client.get_hyperparameter_tuning_job(name=name)
        with self._lock:
            self._resource = job
        return job

    def _block_until_complete(self) -> None:
        delay = POLL_INITIAL_SECONDS
        while (job := self._sync()).state not in COMPLETE_STATES:
            time.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX_SECONDS)
        if job.state in ERROR_STATES:
            raise JobFailed(job)

    # -- waiting ---------------------------------------------------------------------------

    def wait(self) -> None:
        """Wait for ``run`` (also with ``sync=False``) to finish; raise what it raised."""
        if self._future is not None:
            self._future.result()

    def _wait_for_resource_creation(self) -> None:
        """Wait until the job exists on the server (its name is known).

        Raises:
            RuntimeError: ``run`` was never called.
            TuneyardError: creating the job failed.
        """
        while self._resource is None:
            future = self._future
            if future is None:
                raise RuntimeError(
                    f"{type(self).__name__} resource is not scheduled to be created: call run()"
                )
            if future.done():
                future.result()  # raises why creation failed
                if self._resource is None:
                    raise RuntimeError(f"{type(self).__name__} resource was not created")
            time.sleep(0.05)

    def wait_for_resource_creation(self) -> None:
        """Wait until the job exists on the server (see ``_wait_for_resource_creation``)."""
        self._wait_for_resource_creation()

    def wait_for_completion(self) -> None:
        """Poll until the job has ended.

        Raises:
            JobFailed: it ended FAILED or CANCELLED.
        """
        self._wait_for_resource_creation()
        self._block_until_complete()

    # -- the job ---------------------------------------------------------------------------

    def _created(self) -> JobResource:
        resource = self._resource
        if resource is None:
            failure = ""
            if self._future is not None and self._future.done() and self._future.exception():
                failure = f" Resource failed with: {self._future.exception()}"
            raise RuntimeError(f"{type(self).__name__} resource has not been created.{failure}")
        return resource

    @property
    def resource(self) -> JobResource:
        """The job as the server last returned it."""
        return self._created()

    @property
    def resource_name(self) -> str:
        """``projects/{p}/locations/{l}/hyperparameterTuningJobs/{id}``."""
        return self._created().name

    @property
    def name(self) -> str:
        """The job's id, the last part of its resource name."""
        return self._created().job_id

    @property
    def display_name(self) -> str:
        """The job's display name."""
        return self._request.display_name

    @property
    def state(self) -> JobState:
        """The job's state, asked from the server now."""
        return self._sync().state

    @property
    def trials(self) -> list[Trial]:
        """The trials as of the last answer from the server."""
        return list(self._created().trials)

    @property
    def error(self) -> Any:
        """The job's error (FAILED or CANCELLED jobs), as of the last answer."""
        return self._created().error

    def done(self) -> bool:
        """Whether the job exists and has ended (asks the server)."""
        if self._resource is None:
            return False
        return self.state in COMPLETE_STATES

    def to_dict(self) -> dict[str, Any]:
        """The job as Vertex JSON (camelCase, enum names), as the SDK's ``to_dict``."""
        resource = self._resource
        return (resource or self._request).to_json_dict()

    def cancel(self) -> None:
        """Ask the server to cancel the job (waiting for it to exist if ``run`` is creating it)."""
        if self._resource is None and self._future is not None:
            self._wait_for_resource_creation()
        self.client.cancel_hyperparameter_tuning_job(name=self.resource_name)

    def delete(self, sync: bool = True) -> None:
        """Delete the (ended) job; with ``sync`` wait for the deletion to finish."""
        operation = self.client.delete_hyperparameter_tuning_job(name=self.resource_name)
        if sync:
            operation.result()

    def __repr__(self) -> str:
        where = self._resource.name if self._resource else "not created"
        return f"<{type(self).__name__} {self.display_name!r} {where}>"


__all__ = ["COMPLETE_STATES", "CustomJob", "HyperparameterTuningJob", "JobFailed"]
