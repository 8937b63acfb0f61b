"""``HyperparameterTuningJobHook``: the interface of Airflow's Google provider hook, over REST.

The constructor, method names, parameters, defaults and return types are those of
``airflow.providers.google.cloud.hooks.vertex_ai.hyperparameter_tuning_job`` (the version with
``delegate_to``), so code written for it runs unchanged against a tuneyard server, or, with a
Google endpoint and credentials, against Vertex AI itself. Airflow is not needed: without it
the endpoint comes from ``$TUNEYARD_API_ENDPOINT`` or the default of ``tuneyard serve`` (see
:mod:`tuneyard.client.endpoint`). Under Airflow, errors are also ``AirflowException`` s.

``delegate_to`` and ``impersonation_chain`` are kept on the hook (``self.delegate_to``,
``self.impersonation_chain``); they choose a Google identity and have no meaning for a tuneyard
server.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from tuneyard import errors
from tuneyard.client.endpoint import (
    ConnectionSettings,
    Endpoint,
    airflow_connection,
    airflow_installed,
    resolve_endpoint,
    settings_from_connection,
)
from tuneyard.client.jobs import CustomJob, HyperparameterTuningJob
from tuneyard.client.resources import HyperparameterTuningJob as JobResource
from tuneyard.client.rest import DEFAULT
from tuneyard.client.service import JobServiceClient, ListHyperparameterTuningJobsPager, Operation
from tuneyard.errors import FieldViolation, InvalidArgument

F = TypeVar("F", bound=Callable[..., Any])
_AIRFLOW_VARIANTS: dict[type[errors.TuneyardError], type[errors.TuneyardError]] = {}


def _airflow_variant(error: errors.TuneyardError) -> BaseException:
    """``error`` re-classed to also be an ``AirflowException`` (so both kinds of except work)."""
    from airflow.exceptions import AirflowException

    converted = isinstance(error, AirflowException)  # by an inner call already
    if converted:
        return error
    cls = type(error)
    variant = _AIRFLOW_VARIANTS.get(cls)
    if variant is None:
        variant = cast(
            "type[errors.TuneyardError]",
            type(cls.__name__, (cls, AirflowException), {"__module__": cls.__module__}),
        )
        _AIRFLOW_VARIANTS[cls] = variant
    error.__class__ = variant
    return error


def _airflow_errors(method: F) -> F:
    """Under Airflow, let the method's tuneyard errors be AirflowExceptions too."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except errors.TuneyardError as error:
            if not airflow_installed():
                raise
            raise _airflow_variant(error) from error.__cause__

    return cast(F, wrapper)


class HyperparameterTuningJobHook:
    """Hook for Vertex AI hyperparameter tuning jobs, served by tuneyard or by Google.

    Args:
        gcp_conn_id: the Airflow connection with the endpoint and token (when Airflow is
            installed and the connection exists).
        delegate_to: kept for the provider's signature; no local meaning.
        impersonation_chain: kept for the provider's signature; no local meaning.

    Example:
        >>> hook = HyperparameterTuningJobHook()
        >>> job = hook.create_hyperparameter_tuning_job(
        ...     project_id="demo", region="us-central1", display_name="digits",
        ...     metric_spec={"accuracy": "maximize"},
        ...     parameter_spec={"lr": DoubleParameterSpec(min=1e-4, max=0.1, scale="log")},
        ...     max_trial_count=2, parallel_trial_count=2,
        ...     worker_pool_specs=[{"machine_spec": {"machine_type": "n1-standard-4"},
        ...                         "replica_count": 1,
        ...                         "container_spec": {"image_uri": "python:3.11",
        ...                                            "command": ["python", "train.py"]}}])
        ...     # doctest: +SKIP
        >>> job.state.name  # doctest: +SKIP
        'JOB_STATE_SUCCEEDED'
    """

    def __init__(
        self,
        gcp_conn_id: str = "google_cloud_default",
        delegate_to: str | None = None,
        impersonation_chain: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()  # an Airflow subclass's BaseHook comes next in the MRO
        self.gcp_conn_id = gcp_conn_id
        self.delegate_to = delegate_to
        self.impersonation_chain = impersonation_chain
        self.extra_options = kwargs
        self._hyperparameter_tuning_job: HyperparameterTuningJob | None = None
        self._settings: ConnectionSettings | None = None
        self._settings_read = False
        self._endpoints: dict[str | None, Endpoint] = {}

    # -- where to call -----------------------------------------------------------------------

    def connection_settings(self) -> ConnectionSettings | None:
        """What the Airflow connection ``gcp_conn_id`` says (None without Airflow or without
        that connection). Subclasses may read the connection their own way."""
        if not self._settings_read:
            connection = airflow_connection(self.gcp_conn_id)
            self._settings = settings_from_connection(connection) if connection else None
            self._settings_read = True
        return self._settings

    def get_endpoint(self, region: str | None = None) -> Endpoint:
        """The endpoint calls for ``region`` go to (see :mod:`tuneyard.client.endpoint`)."""
        endpoint = self._endpoints.get(region)
        if endpoint is None:  # found once: Google credentials refresh themselves
            endpoint = resolve_endpoint(region, settings=self.connection_settings())
            self._endpoints[region] = endpoint
        return endpoint

    def _get_api_endpoint(self, region: str | None = None) -> str | None:
        """The base URL for ``region`` (the provider returns the regional Google host)."""
        return self.get_endpoint(region).url

    def get_credentials(self) -> Any:
        """The google-auth credentials calls carry (None for a token or no credentials)."""
        return self.get_endpoint().credentials

    @property
    def project_id(self) -> str | None:
        """The connection's default project (its ``project`` extra), or None."""
        settings = self.connection_settings()
        return settings.project if settings else None

    def _project(self, project_id: str | None) -> str:
        project = project_id or self.project_id
        if not project:
            raise InvalidArgument(
                [
                    FieldViolation(
                        "project_id",
                        "pass project_id, or set the 'project' extra of "
                        f"the connection {self.gcp_conn_id!r}",
                    )
                ]
            )
        return project

    @_airflow_errors
    def get_job_service_client(self, region: str | None = None) -> JobServiceClient:
        """A job service client (``aiplatform_v1.JobServiceClient``'s methods) for ``region``."""
        return JobServiceClient(self.get_endpoint(region))

    # -- SDK-like objects --------------------------------------------------------------------

    @_airflow_errors
    def get_hyperparameter_tuning_job_object(
        self,
        display_name: str,
        custom_job: CustomJob,
        metric_spec: dict[str, str],
        parameter_spec: dict[str, Any],
        max_trial_count: int,
        parallel_trial_count: int,
        max_failed_trial_count: int = 0,
        search_algorithm: str | None = None,
        measurement_selection: str | None = "best",
        project: str | None = None,
        location: str | None = None,
        labels: dict[str, str] | None = None,
        encryption_spec_key_name: str | None = None,
    ) -> HyperparameterTuningJob:
        """A :class:`~tuneyard.client.jobs.HyperparameterTuningJob`, not yet created."""
        return HyperparameterTuningJob(
            display_name=display_name,
            custom_job=custom_job,
            metric_spec=metric_spec,
            parameter_spec=parameter_spec,
            max_trial_count=max_trial_count,
            parallel_trial_count=parallel_trial_count,
            max_failed_trial_count=max_failed_trial_count,
            search_algorithm=search_algorithm,
            measurement_selection=measurement_selection,
            project=self._project(project),
            location=location,
            labels=labels,
            encryption_spec_key_name=encryption_spec_key_name,
            client=self.get_job_service_client(location),
        )

    @_airflow_errors
    def get_custom_job_object(
        self,
        display_name: str,
        worker_pool_specs: list[dict[str, Any]] | list[Any],
        base_output_dir: str | None = None,
        project: str | None = None,
        location: str | None = None,
        labels: dict[str, str] | None = None,
        encryption_spec_key_name: str | None = None,
        staging_bucket: str | None = None,
    ) -> CustomJob:
        """A :class:`~tuneyard.client.jobs.CustomJob`: the template of every trial."""
        return CustomJob(
            display_name=display_name,
            worker_pool_specs=worker_pool_specs,
            base_output_dir=base_output_dir,
            project=project,
            location=location,
            labels=labels,
            encryption_spec_key_name=encryption_spec_key_name,
            staging_bucket=staging_bucket,
        )

    @staticmethod
    def extract_hyperparameter_tuning_job_id(obj: dict[str, Any]) -> str:
        """The job id: the last part of ``obj["name"]``."""
        return str(obj["name"]).rpartition("/")[-1]

    @_airflow_errors
    def cancel_hyperparameter_tuning_job(self) -> None:
        """Cancel the job this hook created, if any."""
        if self._hyperparameter_tuning_job:
            self._hyperparameter_tuning_job.cancel()

    @_airflow_errors
    def create_hyperparameter_tuning_job(
        self,
        *,
        project_id: str | None = None,
        region: str,
        display_name: str,
        metric_spec: dict[str, str],
        parameter_spec: dict[str, Any],
        max_trial_count: int,
        parallel_trial_count: int,
        worker_pool_specs: list[dict[str, Any]] | list[Any],
        base_output_dir: str | None = None,
        custom_job_labels: dict[str, str] | None = None,
        custom_job_encryption_spec_key_name: str | None = None,
        staging_bucket: str | None = None,
        max_failed_trial_count: int = 0,
        search_algorithm: str | None = None,
        measurement_selection: str | None = "best",
        hyperparameter_tuning_job_labels: dict[str, str] | None = None,
        hyperparameter_tuning_job_encryption_spec_key_name: str | None = None,
        service_account: str | None = None,
        network: str | None = None,
        timeout: int | None = None,
        restart_job_on_worker_restart: bool = False,
        enable_web_access: bool = False,
        tensorboard: str | None = None,
        sync: bool = True,
        wait_job_completed: bool = True,
    ) -> HyperparameterTuningJob:
        """Create a tuning job and (with ``sync`` and ``wait_job_completed``) wait for its end.

        Keyword arguments only, as in the provider. Every parameter reaches the job: see
        docs/hook.md for what the Google-only ones mean locally. ``timeout`` is each trial's
        limit in seconds. With ``sync=False`` this returns once the job exists; the returned
        object can then be waited on (``wait()``, ``wait_for_completion()``) or cancelled.

        Raises:
            JobFailed: the job ended FAILED or CANCELLED (when waiting for it).
            TuneyardError: the server refused the job; the message names the field.
        """
        project = self._project(project_id)
        custom_job = self.get_custom_job_object(
            project=project,
            location=region,
            display_name=display_name,
            worker_pool_specs=worker_pool_specs,
            base_output_dir=base_output_dir,
            labels=custom_job_labels,
            encryption_spec_key_name=custom_job_encryption_spec_key_name,
            staging_bucket=staging_bucket,
        )
        self._hyperparameter_tuning_job = self.get_hyperparameter_tuning_job_object(
            project=project,
            location=region,
            display_name=display_name,
            custom_job=custom_job,
            metric_spec=metric_spec,
            parameter_spec=parameter_spec,
            max_trial_count=max_trial_count,
            parallel_trial_count=parallel_trial_count,
            max_failed_trial_count=max_failed_trial_count,
            search_algorithm=search_algorithm,
            measurement_selection=measurement_selection,
            labels=hyperparameter_tuning_job_labels,
            encryption_spec_key_name=hyperparameter_tuning_job_encryption_spec_key_name,
        )
        self._hyperparameter_tuning_job.run(
            service_account=service_account,
            network=network,
            timeout=timeout,
            restart_job_on_worker_restart=restart_job_on_worker_restart,
            enable_web_access=enable_web_access,
            tensorboard=tensorboard,
            sync=sync,
        )
        if wait_job_completed:
            self._hyperparameter_tuning_job.wait()
        else:
            self._hyperparameter_tuning_job._wait_for_resource_creation()
        return self._hyperparameter_tuning_job

    # -- the job service ---------------------------------------------------------------------

    @_airflow_errors
    def get_hyperparameter_tuning_job(
        self,
        *,
        project_id: str | None = None,
        region: str,
        hyperparameter_tuning_job: str,
        retry: Any = DEFAULT,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> JobResource:
        """The job with id ``hyperparameter_tuning_job``, with its trials."""
        client = self.get_job_service_client(region)
        name = client.hyperparameter_tuning_job_path(
            self._project(project_id), region, hyperparameter_tuning_job
        )
        return client.get_hyperparameter_tuning_job(
            request={"name": name}, retry=retry, timeout=timeout, metadata=metadata
        )

    @_airflow_errors
    def list_hyperparameter_tuning_jobs(
        self,
        *,
        project_id: str | None = None,
        region: str,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        read_mask: str | None = None,
        retry: Any = DEFAULT,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> ListHyperparameterTuningJobsPager:
        """The jobs of a location (without trials): a pager that walks every page."""
        client = self.get_job_service_client(region)
        parent = client.common_location_path(self._project(project_id), region)
        return client.list_hyperparameter_tuning_jobs(
            request={
                "parent": parent,
                "filter": filter,
                "page_size": page_size,
                "page_token": page_token,
                "read_mask": read_mask,
            },
            retry=retry,
            timeout=timeout,
            metadata=metadata,
        )

    @_airflow_errors
    def delete_hyperparameter_tuning_job(
        self,
        *,
        project_id: str | None = None,
        region: str,
        hyperparameter_tuning_job: str,
        retry: Any = DEFAULT,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> Operation:
        """Delete an ended job; return the long-running operation."""
        client = self.get_job_service_client(region)
        name = client.hyperparameter_tuning_job_path(
            self._project(project_id), region, hyperparameter_tuning_job
        )
        return client.delete_hyperparameter_tuning_job(
            request={"name": name}, retry=retry, timeout=timeout, metadata=metadata
        )

    @staticmethod
    @_airflow_errors
    def wait_for_operation_result(
        operation: Operation,
        timeout: float | None = None,
        polling: Any = None,
        retry: Any = None,
    ) -> Any:
        """The operation's result once it has finished.

        Raises:
            DeadlineExceeded: not finished within ``timeout`` seconds.
            TuneyardError: it finished with an error.
        """
        return operation.result(timeout=timeout, polling=polling, retry=retry)

    def wait_for_operation(self, operation: Operation, timeout: float | None = None) -> Any:
        """Wait for ``operation`` (see :meth:`wait_for_operation_result`); return its result."""
        return self.wait_for_operation_result(operation=operation, timeout=timeout)


__all__ = ["HyperparameterTuningJobHook"]
