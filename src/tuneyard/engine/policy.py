"""When a job fails because of failed trials.

With ``maxFailedTrialCount`` N > 0 the job fails once N trials have failed. With 0, Vertex
leaves the choice to the service; tuneyard's rule is deterministic and documented here:

* the job fails at once if trial 1 fails before any trial has succeeded (the training code is
  most likely broken for every set of hyperparameters), or
* once failed trials reach ``max(1, ceil(maxTrialCount / 2))``.

A failed trial is one whose training code exited non-zero, was killed, or overran
``scheduling.timeout``. A trial that exits 0 without reporting the metric is INFEASIBLE but not
failed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tuneyard.model import TrialState
from tuneyard.store.base import TrialRecord


def failure_limit(max_trial_count: int, max_failed_trial_count: int) -> int:
    """How many failed trials fail the job."""
    if max_failed_trial_count > 0:
        return max_failed_trial_count
    return max(1, math.ceil(max_trial_count / 2))


def should_fail(
    records: Sequence[TrialRecord], max_trial_count: int, max_failed_trial_count: int
) -> bool:
    """True when the failed trials among ``records`` fail the job."""
    failed = [r for r in records if r.failed]
    if not failed:
        return False
    if len(failed) >= failure_limit(max_trial_count, max_failed_trial_count):
        return True
    if max_failed_trial_count == 0:
        first_failed = any(r.trial.id == "1" for r in failed)
        any_succeeded = any(r.trial.state == TrialState.SUCCEEDED for r in records)
        return first_failed and not any_succeeded
    return False
