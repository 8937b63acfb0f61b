"""The trigger a deferred ``CreateHyperparameterTuningJobOperator`` waits on.

It runs in Airflow's triggerer (or inline under ``dag.test()``), next to hundreds of other
triggers on one event loop, so it must never block: each poll is the hook's synchronous GET run
in a worker thread (``asyncio.to_thread``), and the wait between polls is ``asyncio.sleep``.
The hook resolves its endpoint from the Airflow connection there too, so the triggerer needs no
configuration of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from tuneyard.airflow._compat import BaseTrigger, TriggerEvent
from tuneyard.airflow.hooks import HyperparameterTuningJobHook

ENDED_STATES = frozenset(
    {"JOB_STATE_CANCELLED", "JOB_STATE_FAILED", "JOB_STATE_PAUSED", "JOB_STATE_SUCCEEDED"}
)
"""States in which the provider's trigger stops waiting (PAUSED counts, as there)."""

SUCCESS_STATES = frozenset({"JOB_STATE_PAUSED", "JOB_STATE_SUCCEEDED"})


class CreateHyperparameterTuningJobTrigger(BaseTrigger):
    """Poll a hyperparameter tuning job until it ends, then fire one event.

    The event, as the Google provider's trigger sends it::

        {"status": "success" | "error",
         "message": "Hyperparameter Tuning Job <id> completed with status JOB_STATE_...",
         "job": <the job's to_dict()>}

    ``status`` is ``success`` for SUCCEEDED and PAUSED; any error while polling (the server is
    unreachable, the job was deleted) ends the wait with ``{"status": "error", "message": ...}``.

    Args:
        conn_id: The Airflow connection of the tuneyard (or Vertex AI) endpoint.
        project_id: The job's project.
        location: The job's region.
        job_id: The job's numeric id (the last part of its resource name).
        poll_interval: Seconds between two polls.
        impersonation_chain: Kept for the provider's signature; passed to the hook.

    Example:
        >>> trigger = CreateHyperparameterTuningJobTrigger(
        ...     conn_id="tuneyard_default", project_id="demo", location="us-central1",
        ...     job_id="1", poll_interval=5)
        >>> trigger.serialize()[0]
        'tuneyard.airflow.triggers.CreateHyperparameterTuningJobTrigger'
    """

    def __init__(
        self,
        conn_id: str,
        project_id: str,
        location: str,
        job_id: str,
        poll_interval: float = 10,
        impersonation_chain: str | Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.project_id = project_id
        self.location = location
        self.job_id = job_id
        self.poll_interval = poll_interval
        self.impersonation_chain = impersonation_chain
        self._hook: HyperparameterTuningJobHook | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The class path and the keyword arguments that rebuild this trigger."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "project_id": self.project_id,
                "location": self.location,
                "job_id": self.job_id,
                "poll_interval": self.poll_interval,
                "impersonation_chain": self.impersonation_chain,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll every ``poll_interval`` seconds; yield one event when the job has ended."""
        try:
            while True:
                state, job = await asyncio.to_thread(self._poll)
                if state in ENDED_STATES:
                    break
                self.log.info(
                    "Hyperparameter Tuning Job %s is %s; next poll in %s s",
                    self.job_id,
                    state,
                    self.poll_interval,
                )
                await asyncio.sleep(self.poll_interval)
        except Exception as error:  # every failure ends the wait as an error event
            yield TriggerEvent({"status": "error", "message": str(error)})
            return
        yield TriggerEvent(
            {
                "status": "success" if state in SUCCESS_STATES else "error",
                "message": f"Hyperparameter Tuning Job {self.job_id} completed with status {state}",
                "job": job,
            }
        )

    def _poll(self) -> tuple[str, dict[str, Any]]:
        """One GET of the job (blocking: runs in a worker thread): its state name and dict."""
        if self._hook is None:  # built here: reading the connection blocks too
            self._hook = HyperparameterTuningJobHook(
                gcp_conn_id=self.conn_id, impersonation_chain=self.impersonation_chain
            )
        job = self._hook.get_hyperparameter_tuning_job(
            project_id=self.project_id,
            region=self.location,
            hyperparameter_tuning_job=self.job_id,
        )
        return str(job.state.name), dict(job.to_dict())
