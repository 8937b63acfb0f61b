"""How a local trial is doing: each replica's state, the trial's verdict, and its new reports.

A replica's status comes from its supervisor (:mod:`tuneyard.runtime.supervisor`): as a message
to the engine that started it, and as a line of the job's exits log, written before the replica
is reaped. So while the process ``(pid, start)`` exists (a zombie too) it counts as running;
once it is gone its line is in the log, unless its supervisor was killed as well: then the
replica *vanished* and its status is unknown. After a reboot only the log counts.

The verdict follows Vertex: the trial ends when the primary replica (``workerpool0-0``) exits, with
its status (a worker that fails only after the primary exited 0 does not undo that: stopping the
cluster makes workers fail); it fails as soon as any replica fails while the primary runs. With
``restart_job_on_worker_restart`` a failure restarts all replicas instead, until the restart budget
is spent.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass

from tuneyard.runtime import metrics, processes
from tuneyard.runtime.base import MetricReport
from tuneyard.runtime.trialdir import LocalHandle, ReplicaRecord, last_lines, read_exit

HOLD_BACK_SECONDS = 0.25
"""Reports this recent wait for the next poll while the trial runs (never once it ended).

cloudml-hypertune writes one line per metric, so metrics reported together at one step arrive
as consecutive lines, which become one measurement only if they are read in one poll: a poll
between the lines of one step would store that step twice, each with half its metrics. And with
several replicas, each writing its own file while the engine keeps one ``since`` timestamp per
trial, two workers reporting together could land in the wrong order across two files read one
after the other, and the older report would fall behind ``since`` and be skipped. A short delay
closes both windows."""


@dataclass(frozen=True)
class ReplicaState:
    """What is known about one replica right now."""

    name: str
    pid: int
    running: bool
    exit_code: int | None = None  # None while running, and when it vanished
    vanished: bool = False
    same_boot: bool = True

    @property
    def failed(self) -> bool:
        """True once it ended with a non-zero status or vanished."""
        return not self.running and (self.vanished or self.exit_code != 0)


def replica_state(
    record: ReplicaRecord, *, same_boot: bool, exit_code: int | None = None
) -> ReplicaState:
    """The state of one replica; ``exit_code`` is its status when the engine already has it."""
    if exit_code is None and same_boot and processes.exists(record.pid, record.start):
        return ReplicaState(record.name, record.pid, True, same_boot=same_boot)
    if exit_code is None:
        exit_code = read_exit(record.exits, record.pid, record.start)
    if exit_code is not None:
        return ReplicaState(record.name, record.pid, False, exit_code, same_boot=same_boot)
    return ReplicaState(record.name, record.pid, False, None, vanished=True, same_boot=same_boot)


@dataclass(frozen=True)
class Verdict:
    """The trial ended (or must restart): with which exit code and why."""

    exit_code: int | None
    message: str = ""
    restart: bool = False


def decide(
    local: LocalHandle, states: Sequence[ReplicaState], *, cancelled: bool, max_restarts: int
) -> Verdict | None:
    """None while the trial runs; else how it ended, or that it must restart."""
    primary = states[0]
    if cancelled:
        return Verdict(primary.exit_code, "the trial was cancelled")
    if not primary.running and not primary.failed:
        return Verdict(0)
    failed = primary if primary.failed else next((s for s in states[1:] if s.failed), None)
    if failed is None:
        return None
    records = {r.name: r for r in local.replicas}
    restart = local.restart_on_failure and local.attempt < max_restarts
    message = failure_message(
        failed, records[failed.name], restarts=0 if restart else local.attempt
    )
    return Verdict(failed.exit_code, message, restart=restart)


def failure_message(state: ReplicaState, record: ReplicaRecord, *, restarts: int = 0) -> str:
    """``workerpool1-0 exited with status 1: <the last lines of its stderr>`` and the like."""
    code = state.exit_code
    if state.vanished and not state.same_boot:
        head = f"{state.name} (pid {state.pid}) was lost when the machine restarted"
    elif state.vanished or code is None:
        head = (
            f"{state.name} (pid {state.pid}) vanished: it ended while neither the engine nor its "
            "supervisor watched it, and its exit status was not recorded"
        )
    elif code > 128 and _signal_name(code - 128):
        head = f"{state.name} was killed by {_signal_name(code - 128)} (exit status {code})"
    else:
        head = f"{state.name} exited with status {code}"
    if restarts:
        head += f" after {restarts} restart{'s' if restarts > 1 else ''}"
    output = last_lines(record.stderr) or last_lines(record.stdout)
    return f"{head}: {output}" if output else head


def _signal_name(number: int) -> str:
    try:
        return f"signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return ""


def read_all_reports(
    local: LocalHandle, since: float, *, final: bool
) -> tuple[list[MetricReport], int]:
    """Reports newer than ``since`` from every replica's metric file, oldest first, and how many
    may have been lost; ``final`` once no replica writes any more (nothing is held back)."""
    started = time.time()
    reports: list[MetricReport] = []
    lost = 0
    for path in dict.fromkeys(r.metrics for r in local.replicas):  # a shared file is read once
        found, missed = metrics.read_reports(path, since)
        reports.extend(found)
        lost += missed
    if not final:
        reports = [r for r in reports if r.timestamp <= started - HOLD_BACK_SECONDS]
    reports.sort(key=lambda report: report.timestamp)
    return reports, lost
