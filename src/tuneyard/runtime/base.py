"""The executor seam: how a trial's worker pools run, report, end and are cancelled."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tuneyard.model import HyperparameterTuningJob, ParameterValue

TrialHandle = dict[str, Any]
"""What an executor needs to find a launched trial again, also after the engine restarts.
JSON-serializable; the engine stores it with the trial."""


@dataclass(frozen=True)
class MetricReport:
    """One line cloudml-hypertune wrote: ``{metric_id: value}`` at ``step``, at ``timestamp``."""

    timestamp: float
    step: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class TrialProgress:
    """What happened to a launched trial since the last poll.

    ``reports`` are the reports newer than the ``since`` timestamp given to ``poll``, oldest
    first. ``done`` is True once the trial has ended; then ``exit_code`` is the primary
    replica's status (0 for success) and ``message`` says what went wrong, with the tail of
    stderr, when it failed. ``lost_reports`` counts reports that were overwritten before they
    could be read (never silently dropped).
    """

    reports: Sequence[MetricReport] = ()
    done: bool = False
    exit_code: int | None = None
    message: str = ""
    lost_reports: int = 0
    handle: TrialHandle | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialLaunch:
    """Everything needed to run one trial."""

    job: HyperparameterTuningJob
    trial_id: str
    parameters: dict[str, ParameterValue]


class Executor(abc.ABC):
    """Runs trials somewhere (this machine, a Ray cluster).

    Contract:
        - ``launch`` starts every replica of every non-empty worker pool per the trial contract
          (``runtime/contract.py``) and returns a handle; it does not wait for the trial.
        - ``poll`` never blocks for long; it reads new metric reports where the trial runs (no
          file system shared with the engine is assumed) and says whether the trial ended. It
          applies ``restart_job_on_worker_restart`` itself and may return an updated handle.
        - ``cancel`` stops a trial: SIGTERM (or the executor's equivalent), then after
          ``grace_seconds`` SIGKILL; when it returns no replica of the trial is left running.
        - Handles survive a restart of the engine: ``poll`` on a handle from an earlier
          process re-attaches to the trial if it still runs, or reports how it ended.
        - ``wait`` blocks until some launched trial may have changed, or ``timeout`` passes.
        - Methods are called from one engine thread; they raise ``Unavailable`` when the place
          trials run cannot be reached.
    """

    @abc.abstractmethod
    def launch(self, launch: TrialLaunch) -> TrialHandle:
        """Start the trial's replicas and return its handle."""

    @abc.abstractmethod
    def poll(self, handle: TrialHandle, since: float) -> TrialProgress:
        """New reports after timestamp ``since``, and whether the trial has ended."""

    @abc.abstractmethod
    def cancel(self, handle: TrialHandle, grace_seconds: float = 10.0) -> None:
        """Stop every replica of the trial."""

    @abc.abstractmethod
    def read_logs(self, handle: TrialHandle, max_bytes: int = 65536) -> dict[str, str]:
        """The tail of each replica's output, keyed ``workerpool0-0``, ``workerpool1-0``, ...
        (stdout and stderr interleaved as written, or stdout then stderr)."""

    @abc.abstractmethod
    def wait(self, timeout: float) -> None:
        """Block until a launched trial may have changed, or ``timeout`` seconds pass."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources held by the executor (not the trials)."""
