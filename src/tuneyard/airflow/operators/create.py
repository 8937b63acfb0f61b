"""``CreateHyperparameterTuningJobOperator``: create a tuning job, wait for it, cancel it on kill.

The Google provider's operator of that name, speaking to tuneyard: same parameters, template
fields and XCom results. It waits in the worker, or (``deferrable=True``) hands the wait to
:class:`~tuneyard.airflow.triggers.CreateHyperparameterTuningJobTrigger` in the triggerer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tuneyard.airflow._compat import (
    AirflowException,
    BaseOperator,
    Context,
    default_deferrable,
)
from tuneyard.airflow.hooks import HyperparameterTuningJobHook
from tuneyard.airflow.links import TuningJobLink
from tuneyard.airflow.triggers import CreateHyperparameterTuningJobTrigger

__all__ = ["JOB_ID_XCOM_KEY", "CreateHyperparameterTuningJobOperator"]

JOB_ID_XCOM_KEY = "hyperparameter_tuning_job_id"


class CreateHyperparameterTuningJobOperator(BaseOperator):
    """Create a hyperparameter tuning job and wait until it ends; return the job as a dict.

    Parameters as in the Google provider; each reaches the job (see the hook's
    ``create_hyperparameter_tuning_job`` for what the Google-only ones mean locally).

    With ``deferrable=True`` the worker slot is freed once the job exists: the wait moves to
    :class:`~tuneyard.airflow.triggers.CreateHyperparameterTuningJobTrigger`, which polls every
    ``poll_interval`` seconds, and :meth:`execute_complete` returns the job (or raises when it
    failed or was cancelled).

    Example:
        >>> from tuneyard import hyperparameter_tuning as hpt
        >>> tune = CreateHyperparameterTuningJobOperator(
        ...     task_id="tune", project_id="demo", region="us-central1", display_name="digits",
        ...     metric_spec={"accuracy": "maximize"},
        ...     parameter_spec={"learning_rate": hpt.DoubleParameterSpec(1e-4, 1e-1, "log")},
        ...     max_trial_count=4, parallel_trial_count=2, worker_pool_specs=[...],
        ...     gcp_conn_id="tuneyard_default", deferrable=True)
    """

    template_fields: Sequence[str] = (
        "region",
        "project_id",
        "impersonation_chain",
        "display_name",
        "gcp_conn_id",
    )
    operator_extra_links = (TuningJobLink(),)

    def __init__(
        self,
        *,
        project_id: str,
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
        gcp_conn_id: str = "google_cloud_default",
        impersonation_chain: str | Sequence[str] | None = None,
        deferrable: bool = default_deferrable(),
        poll_interval: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_id = project_id
        self.region = region
        self.display_name = display_name
        self.metric_spec = metric_spec
        self.parameter_spec = parameter_spec
        self.max_trial_count = max_trial_count
        self.parallel_trial_count = parallel_trial_count
        self.worker_pool_specs = worker_pool_specs
        self.base_output_dir = base_output_dir
        self.custom_job_labels = custom_job_labels
        self.custom_job_encryption_spec_key_name = custom_job_encryption_spec_key_name
        self.staging_bucket = staging_bucket
        self.max_failed_trial_count = max_failed_trial_count
        self.search_algorithm = search_algorithm
        self.measurement_selection = measurement_selection
        self.hyperparameter_tuning_job_labels = hyperparameter_tuning_job_labels
        self.hyperparameter_tuning_job_encryption_spec_key_name = (
            hyperparameter_tuning_job_encryption_spec_key_name
        )
        self.service_account = service_account
        self.network = network
        self.timeout = timeout
        self.restart_job_on_worker_restart = restart_job_on_worker_restart
        self.enable_web_access = enable_web_access
        self.tensorboard = tensorboard
        self.gcp_conn_id = gcp_conn_id
        self.impersonation_chain = impersonation_chain
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.hook: HyperparameterTuningJobHook | None = None

    def execute(self, context: Context) -> dict[str, Any] | None:
        """Create the job, push its id, then wait here or defer to the trigger."""
        self.log.info("Creating Hyperparameter Tuning job %s", self.display_name)
        self.hook = HyperparameterTuningJobHook(
            gcp_conn_id=self.gcp_conn_id, impersonation_chain=self.impersonation_chain
        )
        job = self.hook.create_hyperparameter_tuning_job(
            project_id=self.project_id,
            region=self.region,
            display_name=self.display_name,
            metric_spec=self.metric_spec,
            parameter_spec=self.parameter_spec,
            max_trial_count=self.max_trial_count,
            parallel_trial_count=self.parallel_trial_count,
            worker_pool_specs=self.worker_pool_specs,
            base_output_dir=self.base_output_dir,
            custom_job_labels=self.custom_job_labels,
            custom_job_encryption_spec_key_name=self.custom_job_encryption_spec_key_name,
            staging_bucket=self.staging_bucket,
            max_failed_trial_count=self.max_failed_trial_count,
            search_algorithm=self.search_algorithm,
            measurement_selection=self.measurement_selection,
            hyperparameter_tuning_job_labels=self.hyperparameter_tuning_job_labels,
            hyperparameter_tuning_job_encryption_spec_key_name=(
                self.hyperparameter_tuning_job_encryption_spec_key_name
            ),
            service_account=self.service_account,
            network=self.network,
            timeout=self.timeout,
            restart_job_on_worker_restart=self.restart_job_on_worker_restart,
            enable_web_access=self.enable_web_access,
            tensorboard=self.tensorboard,
            sync=False,
            wait_job_completed=False,
        )
        job.wait_for_resource_creation()
        job_id: str = job.name
        self.log.info("Hyperparameter Tuning job was created. Job id: %s", job_id)
        context["ti"].xcom_push(key=JOB_ID_XCOM_KEY, value=job_id)
        endpoint = self.hook.get_endpoint(self.region).url
        TuningJobLink.persist(context, endpoint, self.project_id, self.region, job_id)

        if self.deferrable:
            self.defer(
                trigger=CreateHyperparameterTuningJobTrigger(
                    conn_id=self.gcp_conn_id,
                    project_id=self.project_id,
                    location=self.region,
                    job_id=job_id,
                    poll_interval=self.poll_interval,
                    impersonation_chain=self.impersonation_chain,
                ),
                method_name="execute_complete",
            )
        job.wait_for_completion()
        return dict(job.to_dict())

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired: the job's dict, or ``AirflowException`` if it failed."""
        if event["status"] == "error":
            raise AirflowException(event["message"])
        self.log.info(event["message"])
        job: dict[str, Any] = event["job"]
        return job

    def on_kill(self) -> None:
        """Cancel the job this task created (a killed task leaves no job running behind it)."""
        if self.hook is not None:
            self.hook.cancel_hyperparameter_tuning_job()
