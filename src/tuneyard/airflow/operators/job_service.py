"""Get, list and delete hyperparameter tuning jobs: the Google provider's operators, on tuneyard.

Each returns what the hook's call returns, as dicts (XCom ``return_value``). A job that does not
exist is logged, not raised, by get and delete, as in the provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tuneyard.airflow._compat import BaseOperator, Context
from tuneyard.airflow.hooks import HyperparameterTuningJobHook
from tuneyard.airflow.links import TuningJobLink, TuningJobListLink
from tuneyard.client import DEFAULT
from tuneyard.errors import NotFound

__all__ = [
    "DeleteHyperparameterTuningJobOperator",
    "GetHyperparameterTuningJobOperator",
    "ListHyperparameterTuningJobOperator",
]


class _JobServiceOperator(BaseOperator):
    """What the get / list / delete operators share: location, call options, connection."""

    def __init__(
        self,
        *,
        region: str,
        project_id: str,
        retry: Any = DEFAULT,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str]] = (),
        gcp_conn_id: str = "google_cloud_default",
        impersonation_chain: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.region = region
        self.project_id = project_id
        self.retry = retry
        self.timeout = timeout
        self.metadata = metadata
        self.gcp_conn_id = gcp_conn_id
        self.impersonation_chain = impersonation_chain

    def _hook(self) -> HyperparameterTuningJobHook:
        return HyperparameterTuningJobHook(
            gcp_conn_id=self.gcp_conn_id, impersonation_chain=self.impersonation_chain
        )

    def _call_options(self) -> dict[str, Any]:
        return {"retry": self.retry, "timeout": self.timeout, "metadata": self.metadata}


class GetHyperparameterTuningJobOperator(_JobServiceOperator):
    """Get a hyperparameter tuning job; return it as a dict (``None``, logged, if not found).

    Example:
        >>> GetHyperparameterTuningJobOperator(
        ...     task_id="get", project_id="demo", region="us-central1",
        ...     hyperparameter_tuning_job_id=(
        ...         "{{ ti.xcom_pull(task_ids='tune', key='hyperparameter_tuning_job_id') }}"),
        ...     gcp_conn_id="tuneyard_default")
    """

    template_fields: Sequence[str] = (
        "region",
        "project_id",
        "hyperparameter_tuning_job_id",
        "impersonation_chain",
        "gcp_conn_id",
    )
    operator_extra_links = (TuningJobLink(),)

    def __init__(self, *, hyperparameter_tuning_job_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hyperparameter_tuning_job_id = hyperparameter_tuning_job_id

    def execute(self, context: Context) -> dict[str, Any] | None:
        """GET the job."""
        hook, job_id = self._hook(), self.hyperparameter_tuning_job_id
        try:
            self.log.info("Get hyperparameter tuning job: %s", job_id)
            job = hook.get_hyperparameter_tuning_job(
                project_id=self.project_id,
                region=self.region,
                hyperparameter_tuning_job=job_id,
                **self._call_options(),
            )
        except NotFound:
            self.log.info("The Hyperparameter Tuning Job %s does not exist.", job_id)
            return None
        endpoint = hook.get_endpoint(self.region).url
        TuningJobLink.persist(context, endpoint, self.project_id, self.region, job_id)
        self.log.info("Hyperparameter tuning job was gotten.")
        return dict(job.to_dict())


class DeleteHyperparameterTuningJobOperator(_JobServiceOperator):
    """Delete a hyperparameter tuning job and wait for the operation (not found: logged only).

    Example:
        >>> DeleteHyperparameterTuningJobOperator(
        ...     task_id="delete", project_id="demo", region="us-central1",
        ...     hyperparameter_tuning_job_id="4431052537453756416", gcp_conn_id="tuneyard_default")
    """

    template_fields: Sequence[str] = (
        "region",
        "project_id",
        "hyperparameter_tuning_job_id",
        "impersonation_chain",
        "gcp_conn_id",
    )

    def __init__(self, *, hyperparameter_tuning_job_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hyperparameter_tuning_job_id = hyperparameter_tuning_job_id

    def execute(self, context: Context) -> None:
        """DELETE the job, then wait for its long-running operation."""
        hook, job_id = self._hook(), self.hyperparameter_tuning_job_id
        try:
            self.log.info("Deleting Hyperparameter Tuning job: %s", job_id)
            operation = hook.delete_hyperparameter_tuning_job(
                project_id=self.project_id,
                region=self.region,
                hyperparameter_tuning_job=job_id,
                **self._call_options(),
            )
            hook.wait_for_operation(timeout=self.timeout, operation=operation)
            self.log.info("Hyperparameter Tuning job was deleted.")
        except NotFound:
            self.log.info("The Hyperparameter Tuning Job %s does not exist.", job_id)


class ListHyperparameterTuningJobOperator(_JobServiceOperator):
    """List the location's hyperparameter tuning jobs, every page; return them as dicts.

    Example:
        >>> ListHyperparameterTuningJobOperator(
        ...     task_id="list", project_id="demo", region="us-central1",
        ...     filter='state="JOB_STATE_SUCCEEDED"', gcp_conn_id="tuneyard_default")
    """

    template_fields: Sequence[str] = (
        "region",
        "project_id",
        "impersonation_chain",
        "gcp_conn_id",
    )
    operator_extra_links = (TuningJobListLink(),)

    def __init__(
        self,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        filter: str | None = None,
        read_mask: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size
        self.page_token = page_token
        self.filter = filter
        self.read_mask = read_mask

    def execute(self, context: Context) -> list[dict[str, Any]]:
        """List the jobs."""
        hook = self._hook()
        pager = hook.list_hyperparameter_tuning_jobs(
            project_id=self.project_id,
            region=self.region,
            page_size=self.page_size,
            page_token=self.page_token,
            filter=self.filter,
            read_mask=self.read_mask,
            **self._call_options(),
        )
        endpoint = hook.get_endpoint(self.region).url
        TuningJobListLink.persist(context, endpoint, self.project_id, self.region)
        return [dict(job.to_dict()) for job in pager]
