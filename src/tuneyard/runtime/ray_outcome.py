"""How a Ray trial is doing: what each replica's actor answered, and the trial's verdict.

The rules are the local executor's (:mod:`tuneyard.runtime.outcome`): the trial ends when the
primary replica (``workerpool0-0``) exits, with its status; it fails as soon as any replica fails
while the primary runs; with ``restart_job_on_worker_restart`` a failure restarts every replica
instead, until the restart budget is spent. One thing is new on a cluster: a replica is *lost*
when its actor died (its node died, or the actor was killed), and that counts as a failure with
no exit status. An actor that does not answer for a moment (``ActorUnavailableError``, a timeout)
is taken to be still running: Ray says whether it comes back or is dead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tuneyard.runtime.base import MetricReport
from tuneyard.runtime.outcome import Verdict


@dataclass(frozen=True)
class ReplicaSeen:
    """One replica as its actor described it in a poll (or as its failure to answer says)."""

    name: str
    running: bool
    exit_code: int | None = None
    message: str = ""
    lost: bool = False
    reports: list[MetricReport] = field(default_factory=list)
    lost_reports: int = 0

    @property
    def failed(self) -> bool:
        """True once it ended with a non-zero status or was lost."""
        return not self.running and (self.lost or self.exit_code != 0)

    @classmethod
    def from_actor(cls, name: str, answer: dict[str, Any]) -> ReplicaSeen:
        """What :meth:`ReplicaActor.poll <tuneyard.runtime.ray_replica.ReplicaActor.poll>`
        returned."""
        reports = [MetricReport(float(t), int(s), dict(m)) for t, s, m in answer["reports"]]
        return cls(
            name,
            running=bool(answer["running"]),
            exit_code=answer["exit_code"],
            message=answer.get("message", ""),
            reports=reports,
            lost_reports=int(answer.get("lost", 0)),
        )


def lost_message(name: str, node_ip: str, reason: str, *, restarts: int = 0) -> str:
    """``workerpool1-0 was lost with its Ray node 10.0.0.3 (<Ray's reason>)``."""
    where = f"its Ray node {node_ip}" if node_ip else "its Ray actor"
    head = f"{name} was lost with {where}"
    if restarts:
        head += f" after {restarts} restart{'s' if restarts > 1 else ''}"
    reason = reason.strip().splitlines()[0][:300] if reason.strip() else ""
    return f"{head} ({reason})" if reason else head


def decide(seen: Sequence[ReplicaSeen], *, can_restart: bool) -> Verdict | None:
    """None while the trial runs; else how it ended, or that it must restart."""
    primary = seen[0]
    if not primary.running and not primary.failed:
        return Verdict(0)
    failed = primary if primary.failed else next((s for s in seen[1:] if s.failed), None)
    if failed is None:
        return None
    return Verdict(failed.exit_code, failed.message, restart=can_restart)


def merge_reports(seen: Sequence[ReplicaSeen]) -> tuple[list[MetricReport], int]:
    """Every replica's new reports, oldest first, and how many may have been lost."""
    reports = sorted((r for s in seen for r in s.reports), key=lambda r: r.timestamp)
    return reports, sum(s.lost_reports for s in seen)
