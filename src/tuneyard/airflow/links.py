"""Extra links on the operators' task pages: the job, and the location's job list, on the server.

Where the Google provider links to the Cloud console, these link to the tuneyard server the
connection points at. The task stores the URL in an XCom while it runs (it alone knows the
endpoint and the job id); the link reads it back, in the worker (Airflow 3) or the webserver
(Airflow 2).
"""

from __future__ import annotations

from typing import Any, ClassVar

from tuneyard.airflow._compat import BaseOperatorLink, Context, xcom_value


def resource_url(endpoint: str, path: str) -> str:
    """The URL of a v1 resource path on ``endpoint``, e.g. ``http://h:8080/v1/projects/p/...``."""
    return f"{endpoint.rstrip('/')}/v1/{path.lstrip('/')}"


class _StoredLink(BaseOperatorLink):
    """A link whose URL the task pushed to the XCom ``key``."""

    name: ClassVar[str] = ""
    key: ClassVar[str] = ""

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        """The stored URL, or ``""`` before the task stored one."""
        url = xcom_value(ti_key, self.key)
        return url if isinstance(url, str) else ""

    @classmethod
    def _store(cls, context: Context, url: str) -> None:
        context["ti"].xcom_push(key=cls.key, value=url)


class TuningJobLink(_StoredLink):
    """The hyperparameter tuning job's resource on the server (the provider's training link)."""

    name: ClassVar[str] = "Hyperparameter Tuning Job"
    key: ClassVar[str] = "tuneyard_hyperparameter_tuning_job"

    @classmethod
    def persist(
        cls, context: Context, endpoint: str, project_id: str, region: str, job_id: str
    ) -> None:
        """Store the URL of job ``job_id`` for this task's link."""
        path = f"projects/{project_id}/locations/{region}/hyperparameterTuningJobs/{job_id}"
        cls._store(context, resource_url(endpoint, path))


class TuningJobListLink(_StoredLink):
    """The location's hyperparameter tuning jobs on the server."""

    name: ClassVar[str] = "Hyperparameter Tuning Job List"
    key: ClassVar[str] = "tuneyard_hyperparameter_tuning_job_list"

    @classmethod
    def persist(cls, context: Context, endpoint: str, project_id: str, region: str) -> None:
        """Store the URL of the job list of ``project_id`` / ``region`` for this task's link."""
        path = f"projects/{project_id}/locations/{region}/hyperparameterTuningJobs"
        cls._store(context, resource_url(endpoint, path))
