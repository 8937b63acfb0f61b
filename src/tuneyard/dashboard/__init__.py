"""The web dashboard ``tuneyard serve`` serves at ``/``: jobs, trials, plots and logs, live."""

from __future__ import annotations

from tuneyard.dashboard.mount import STATIC_PREFIX, mount_dashboard
from tuneyard.dashboard.progress import job_progress

__all__ = ["STATIC_PREFIX", "job_progress", "mount_dashboard"]
