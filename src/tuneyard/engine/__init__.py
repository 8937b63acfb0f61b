"""The engine: the controller that runs tuning jobs, and its failure policy."""

from __future__ import annotations

from tuneyard.engine.controller import Controller, JobSnapshot
from tuneyard.engine.policy import failure_limit, should_fail

__all__ = ["Controller", "JobSnapshot", "failure_limit", "should_fail"]
