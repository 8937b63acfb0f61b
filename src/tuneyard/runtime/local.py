"""The local executor: every replica of a trial is a process group on this machine.

Each replica runs under a one-line ``/bin/sh`` wrapper (about a millisecond) that writes the
command's exit status to a file when it ends::

    /bin/sh -c 'trap : TERM INT; f=$1; shift; "$@"; s=$?; echo "$s" > "$f"; exit "$s"' \
        sh STATUS_FILE ARGV...

The user's argv is passed as positional arguments and never parsed by a shell; its first word is
resolved on ``PATH`` beforehand, so it is executed, never taken for a shell builtin. Because the
status is in a file, an engine that was restarted (and is no longer the replicas' parent) still
learns how each replica ended. The wrapper catches SIGTERM and SIGINT without acting on them, so a
signal sent to the process group ends the trainer and the wrapper still records its status; the
trainer itself starts with default signal handlers. Like any shell, the wrapper notes a trainer
ended by a signal on stderr (``Terminated``, ``Killed``), which then ends the replica's log.

Exit codes are the shell's: ``0``-``255`` for a normal exit, ``128 + N`` when signal ``N`` ended
the command (SIGKILL gives 137). A replica whose wrapper was killed too, or that ended while the
machine rebooted, has no recorded status: it is reported as vanished (exit code None).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from tuneyard.errors import FailedPrecondition, TuneyardError
from tuneyard.runtime import processes
from tuneyard.runtime.base import Executor, TrialHandle, TrialLaunch, TrialProgress
from tuneyard.runtime.outcome import ReplicaState, decide, read_all_reports, replica_state
from tuneyard.runtime.planning import plan_trial
from tuneyard.runtime.trialdir import (
    TRIAL_FILE,
    LocalHandle,
    ReplicaPlan,
    ReplicaRecord,
    job_dir,
    load_trial,
    save_trial,
    status_path,
    tail,
    trial_dir,
)

logger = logging.getLogger(__name__)

WRAPPER = 'trap : TERM INT; f=$1; shift; "$@"; s=$?; echo "$s" > "$f"; exit "$s"'

#: A trial polled again this soon while none of its replicas exited is not read again: an
#: engine polls every running trial whenever any trial ends, which can be many times a second.
#: A replica's exit is seen at once (its pidfd). Kept short: cloudml-hypertune keeps only the
#: last 100 reports in the file, so a trial that reports fast must be read often (at 0.5 s a
#: trial reporting every 10 ms lost reports on a loaded machine).
REREAD_SECONDS = 0.05


class LocalExecutor(Executor):
    """Runs each replica of each trial as its own process group on this machine.

    - ``launch`` starts every replica (working directory ``<trial folder>/<replica>/``, output
      appended to ``<replica>.stdout`` and ``.stderr`` in the trial folder, see
      :mod:`tuneyard.runtime.trialdir`) and returns without waiting. It raises
      ``InvalidArgument`` for an unusable spec (a path outside its bucket, nothing to run) and
      ``FailedPrecondition`` when a python package cannot be installed or a replica not started.
    - ``poll`` reads every replica's metric file, reaps exited children, and ends the trial when
      the primary replica (``workerpool0-0``) has exited (``exit_code`` its status), or as soon
      as any replica failed (``exit_code`` that replica's status, None if it vanished;
      ``message`` like ``workerpool1-0 exited with status 1: <its last stderr lines>``). The
      other replicas are then stopped (parameter servers never exit on their own), so once
      ``done`` nothing of the trial runs. ``extra`` has each replica's status and the restart
      count. With ``scheduling.restart_job_on_worker_restart`` a failed replica (the primary
      too) restarts all replicas instead, at most ``max_restarts`` times, and the new handle is
      in ``TrialProgress.handle``; the failure after the last restart ends the trial. A trial
      whose replicas all still run is read at most every :data:`REREAD_SECONDS`.
    - ``cancel`` sends SIGTERM to every replica's process group, SIGKILL after the grace period,
      and returns once nothing of the trial runs.
    - ``wait`` returns within about a millisecond of any replica exiting (pidfds).

    Args:
        stop_grace_seconds: how long replicas that are stopped because the trial ended (or is
            restarted) get between SIGTERM and SIGKILL.
        max_restarts: how often ``restart_job_on_worker_restart`` restarts one trial.

    Example:
        >>> executor = LocalExecutor()
        >>> handle = executor.launch(TrialLaunch(job, "1", {"lr": 0.01}))  # doctest: +SKIP
        >>> executor.wait(0.1); executor.poll(handle, since=0.0).done  # doctest: +SKIP
        False
    """

    def __init__(self, *, stop_grace_seconds: float = 5.0, max_restarts: int = 3) -> None:
        self.stop_grace_seconds = stop_grace_seconds
        self.max_restarts = max_restarts
        self._watcher = processes.ExitWatcher()
        self._boot_id = processes.boot_id()
        self._read_at: dict[str, float] = {}  # trial folder -> when it was last read, running

    # -- launch --------------------------------------------------------------------------------

    def launch(self, launch: TrialLaunch) -> TrialHandle:
        """Start every replica of the trial; see the class docstring."""
        job = launch.job
        job_folder = job_dir(job.name)
        folder = trial_dir(job_folder, launch.trial_id)
        if folder.exists():
            self._clear_stale_launch(folder)
        plans = plan_trial(launch, folder, job_folder)
        scheduling = job.trial_spec.scheduling
        handle = LocalHandle(
            trial_dir=str(folder),
            boot_id=self._boot_id,
            attempt=0,
            restart_on_failure=bool(scheduling and scheduling.restart_job_on_worker_restart),
            replicas=self._start(folder, plans, attempt=0),
        )
        # A trial that just started has nothing to read yet: its first read waits like a reread.
        self._read_at[handle.trial_dir] = time.monotonic()
        return self._record(handle, plans)

    def _start(
        self, folder: Path, plans: Sequence[ReplicaPlan], attempt: int
    ) -> tuple[ReplicaRecord, ...]:
        records: list[ReplicaRecord] = []
        try:
            for plan in plans:
                status = status_path(folder, plan.name, attempt)
                with open(plan.stdout, "ab") as out, open(plan.stderr, "ab") as err:
                    pid, start = processes.spawn(
                        ["/bin/sh", "-c", WRAPPER, "sh", status, *plan.argv],
                        cwd=plan.cwd,
                        env={**os.environ, **plan.env},
                        stdout=out,
                        stderr=err,
                    )
                records.append(
                    ReplicaRecord(
                        plan.name, pid, start, status, plan.metrics, plan.stdout, plan.stderr
                    )
                )
                self._watcher.watch(pid, start, child=True)
        except OSError as error:
            processes.stop_groups([r.group for r in records], 0.0)
            raise FailedPrecondition(f"could not start {plan.name}: {error}") from error
        return tuple(records)

    def _record(self, handle: LocalHandle, plans: list[ReplicaPlan]) -> TrialHandle:
        data = handle.to_json()
        save_trial(handle.path, plans, data)
        return data

    def _clear_stale_launch(self, folder: Path) -> None:
        """Stop what an earlier launch of this trial left running (the engine died between
        launching and storing the handle), and forget its files."""
        try:
            old = LocalHandle.from_json(load_trial(folder)[1])
        except FileNotFoundError:
            pass  # never launched before: nothing to stop
        except (OSError, ValueError, TuneyardError) as error:  # never block a launch
            logger.warning("ignoring the unreadable %s: %s", folder / TRIAL_FILE, error)
        else:
            self._stop(old, self.stop_grace_seconds)
        # A relaunch starts afresh; model/, checkpoints/ and logs/ are the trial's output: kept.
        for path in folder.glob("workerpool*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.suffix == ".metrics" or ".status." in path.name:
                path.unlink(missing_ok=True)
        (folder / "cancelled").unlink(missing_ok=True)

    # -- poll ----------------------------------------------------------------------------------

    def poll(self, handle: TrialHandle, since: float) -> TrialProgress:
        """New reports after ``since`` and, once the trial ended, how; see the class docstring."""
        if self._read_recently(handle):
            return TrialProgress()
        given = LocalHandle.from_json(handle)
        local = self._latest(given)
        newer = local.to_json() if local is not given else None
        processes.reap()
        states = [self._state(local, r) for r in local.replicas]
        cancelled = (local.path / "cancelled").exists()
        verdict = decide(local, states, cancelled=cancelled, max_restarts=self.max_restarts)
        if verdict is None:
            reports, lost = read_all_reports(local, since, final=False)
            self._read_at[local.trial_dir] = time.monotonic()
            return TrialProgress(reports=reports, lost_reports=lost, handle=newer)
        self._stop(local, self.stop_grace_seconds)
        reports, lost = read_all_reports(local, since, final=True)
        message = verdict.message
        if verdict.restart:
            try:
                restarted = self._restart(local, verdict.message)
            except (OSError, ValueError, TuneyardError) as error:
                message = f"{message}\n(the replicas could not be restarted: {error})"
            else:
                extra = {"restarts": local.attempt + 1, "restart_reason": verdict.message}
                return TrialProgress(reports, lost_reports=lost, handle=restarted, extra=extra)
        self._forget(local)
        extra = {"replicas": {s.name: s.exit_code for s in states}, "restarts": local.attempt}
        return TrialProgress(
            reports,
            done=True,
            exit_code=verdict.exit_code,
            message=message,
            lost_reports=lost,
            extra=extra,
        )

    def _read_recently(self, handle: TrialHandle) -> bool:
        """True when this trial was read (or launched) here less than REREAD_SECONDS ago and
        every replica of ``handle`` is a watched process of this boot that still runs (then
        nothing can have ended)."""
        read_at = self._read_at.get(handle.get("trial_dir", ""))
        if read_at is None or time.monotonic() - read_at > REREAD_SECONDS:
            return False
        if handle.get("boot_id") != self._boot_id:
            return False
        replicas = handle.get("replicas")
        if not isinstance(replicas, list) or not all(isinstance(r, dict) for r in replicas):
            return False
        return self._watcher.running([r.get("pid", 0) for r in replicas])

    def _state(self, local: LocalHandle, record: ReplicaRecord) -> ReplicaState:
        same_boot = local.boot_id == self._boot_id
        state = replica_state(record, same_boot=same_boot)
        if state.running:
            self._watcher.watch(record.pid, record.start)  # re-attach after an engine restart
        else:
            self._watcher.discard(record.pid)
        return state

    def _latest(self, local: LocalHandle) -> LocalHandle:
        """The newest attempt of a restartable trial: the engine may have died after a restart,
        before it stored the new handle, and then polls with the one before."""
        if not local.restart_on_failure:
            return local
        try:
            latest = LocalHandle.from_json(load_trial(local.path)[1])
        except (OSError, ValueError, TuneyardError):
            return local
        return latest if latest.attempt > local.attempt else local

    def _restart(self, local: LocalHandle, reason: str) -> TrialHandle:
        attempt = local.attempt + 1
        plans = load_trial(local.path)[0]
        note = (
            f"\n---- tuneyard: {reason}\n"
            f"---- tuneyard: restarting every replica (restart {attempt} of {self.max_restarts})\n"
        )
        for plan in plans:
            Path(plan.metrics).unlink(missing_ok=True)  # read already; the new run starts afresh
            with open(plan.stderr, "a") as err:
                err.write(note)
        logger.info("%s: %s; restart %d", local.trial_dir, reason.splitlines()[0], attempt)
        self._forget(local)
        replicas = self._start(local.path, plans, attempt)
        restarted = LocalHandle(local.trial_dir, self._boot_id, attempt, True, replicas)
        return self._record(restarted, plans)

    def _stop(self, local: LocalHandle, grace_seconds: float) -> None:
        """Stop every replica's process group; pids of an earlier boot name nothing of ours."""
        if local.boot_id == self._boot_id:
            processes.stop_groups([r.group for r in local.replicas], grace_seconds)

    def _forget(self, local: LocalHandle) -> None:
        self._read_at.pop(local.trial_dir, None)
        for record in local.replicas:
            self._watcher.discard(record.pid)
        processes.forget(r.group for r in local.replicas)

    # -- cancel, logs, wait --------------------------------------------------------------------

    def cancel(self, handle: TrialHandle, grace_seconds: float = 10.0) -> None:
        """SIGTERM every replica's process group, SIGKILL after ``grace_seconds``; returns when
        nothing of the trial runs. Later polls report the trial as cancelled."""
        local = self._latest(LocalHandle.from_json(handle))
        with contextlib.suppress(OSError):  # the folder may be gone; the processes still go
            (local.path / "cancelled").touch()
        self._stop(local, grace_seconds)
        self._forget(local)

    def read_logs(self, handle: TrialHandle, max_bytes: int = 65536) -> dict[str, str]:
        """Each replica's stdout tail followed by its stderr tail, ``max_bytes`` in all."""
        logs: dict[str, str] = {}
        for record in LocalHandle.from_json(handle).replicas:
            err = tail(record.stderr, max_bytes)
            out = tail(record.stdout, max_bytes - len(err.encode()))
            separator = "\n" if out and err and not out.endswith("\n") else ""
            logs[record.name] = out + separator + err
        return logs

    def wait(self, timeout: float) -> None:
        """Block until a replica launched or polled here exits, or ``timeout`` seconds pass."""
        self._watcher.wait(timeout)

    def close(self) -> None:
        """Close the pidfds; the trials keep running and can be polled by another executor."""
        self._watcher.close()
