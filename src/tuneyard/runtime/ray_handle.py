"""The Ray executor's trial handle: plain JSON, enough for any engine process to find the trial.

A handle names the trial's Ray actors (one per replica, see :mod:`tuneyard.runtime.ray_replica`)
by their (random) actor names in the executor's namespace; Ray keeps detached named actors for as
long as they live, so an engine that was restarted looks them up by name and carries on. It also
keeps the launch itself (the job, trial id and parameters as JSON), which a restart of the replicas
(``restart_job_on_worker_restart``) and a re-attach before the replicas started need, and the
engine-side folder where the logs of ended attempts are kept::

    {"executor": "ray", "version": 1, "trial": "projects/p/.../hyperparameterTuningJobs/7/trials/3",
     "namespace": "tuneyard", "attempt": 0, "restart_on_failure": false, "started": true,
     "log_dir": "/home/me/.tuneyard/jobs/p/us-central1/7/trials/3",
     "launch": {"job": {...}, "trial_id": "3", "parameters": {"x": 0.5}},
     "replicas": [{"name": "workerpool0-0", "actor": "tuneyard-8c0f...",
                   "resources": {"CPU": 4.0}, "node_id": "8f3...", "node_ip": "10.0.0.12",
                   "hostname": "gpu-box-2", "port": 41371, "pid": 5121}]}

``node_*``, ``port`` and ``pid`` are filled in once the replicas have started (``started``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tuneyard.errors import InvalidArgument
from tuneyard.runtime.base import TrialHandle

HANDLE_KIND = "ray"
HANDLE_VERSION = 1


@dataclass(frozen=True)
class RayReplica:
    """One replica of a handle: its actor and, once started, where it runs."""

    name: str
    actor: str
    resources: dict[str, float]
    node_id: str = ""
    node_ip: str = ""
    hostname: str = ""
    port: int = 0
    pid: int = 0

    @property
    def pool(self) -> int:
        """The replica's worker pool index (``workerpool<pool>-<index>``)."""
        return int(self.name.removeprefix("workerpool").partition("-")[0])

    @property
    def address(self) -> str:
        """``node_ip:port``, its address in ``CLUSTER_SPEC``."""
        return f"{self.node_ip}:{self.port}"


@dataclass(frozen=True)
class RayHandle:
    """The typed form of a Ray executor's :data:`TrialHandle`; see the module docstring."""

    trial: str
    namespace: str
    attempt: int
    restart_on_failure: bool
    started: bool
    log_dir: str
    launch: dict[str, Any]
    replicas: tuple[RayReplica, ...] = field(default_factory=tuple)

    @property
    def log_path(self) -> Path:
        """The engine-side folder of the trial's collected logs."""
        return Path(self.log_dir)

    def with_replicas(self, replicas: list[RayReplica], **changes: Any) -> RayHandle:
        """A copy with other replicas (and other fields changed)."""
        return replace(self, replicas=tuple(replicas), **changes)

    def to_json(self) -> TrialHandle:
        """The handle as a JSON-serializable dict."""
        return {
            "executor": HANDLE_KIND,
            "version": HANDLE_VERSION,
            "trial": self.trial,
            "namespace": self.namespace,
            "attempt": self.attempt,
            "restart_on_failure": self.restart_on_failure,
            "started": self.started,
            "log_dir": self.log_dir,
            "launch": self.launch,
            "replicas": [dict(vars(r)) for r in self.replicas],
        }

    @classmethod
    def from_json(cls, handle: TrialHandle) -> RayHandle:
        """Parse a handle from :meth:`to_json`.

        Raises:
            InvalidArgument: not a handle of the Ray executor, or malformed.
        """
        if handle.get("executor") != HANDLE_KIND or handle.get("version") != HANDLE_VERSION:
            raise InvalidArgument(
                f"not a Ray executor handle (executor={handle.get('executor')!r}, "
                f"version={handle.get('version')!r})"
            )
        try:
            data = {k: v for k, v in handle.items() if k not in ("executor", "version")}
            replicas = tuple(RayReplica(**item) for item in data.pop("replicas"))
            return cls(replicas=replicas, **data)
        except (KeyError, TypeError) as error:
            raise InvalidArgument(f"malformed Ray executor handle: {error}") from error
