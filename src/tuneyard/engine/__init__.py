"""The engine: the controller that runs tuning jobs, its failure policy, and job leases."""

from __future__ import annotations

from tuneyard.engine.controller import Controller, JobSnapshot
from tuneyard.engine.leases import JobLeases
from tuneyard.engine.policy import failure_limit, should_fail

__all__ = ["Controller", "JobLeases", "JobSnapshot", "failure_limit", "should_fail"]
