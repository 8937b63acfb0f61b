"""The local executor: every replica of a trial is a process group on this machine.

Replicas are started by the executor's supervisor (:mod:`tuneyard.runtime.supervisor`), a small
process that outlives the engine: the replica runs the user's argv directly (never through a
shell; its first word is resolved on ``PATH`` beforehand) as the leader of its own session and
process group, and the supervisor records how it ended, in a message to the engine and in the
job's exits log. So an engine that was restarted (and never was the replicas' parent) still
learns how each replica ended. Signals sent to the process group reach the trainer itself.

Exit codes are ``0``-``255`` for a normal exit, ``128 + N`` when signal ``N`` ended the process
(SIGKILL gives 137). A replica whose supervisor was killed too, or that ended while the machine
rebooted, has no recorded status: it is reported as vanished (exit code None).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from tuneyard.errors import FailedPrecondition, TuneyardError
from tuneyard.runtime import contract, processes
from tuneyard.runtime.base import Executor, TrialHandle, TrialLaunch, TrialProgress
from tuneyard.runtime.outcome import ReplicaState, decide, read_all_reports, replica_state
from tuneyard.runtime.planning import TRIAL_DIR_VARIABLE, output_base, plan_trial
from tuneyard.runtime.spares import Spares
from tuneyard.runtime.spawner import Spawner
from tuneyard.runtime.trialdir import (
    TRIAL_FILE,
    LocalHandle,
    ReplicaPlan,
    ReplicaRecord,
    exits_path,
    job_dir,
    load_trial,
    save_trial,
    tail,
    trial_dir,
)

logger = logging.getLogger(__name__)

#: A trial polled again this soon while none of its replicas exited is not read again: an
#: engine polls every running trial whenever any trial ends, which can be many times a second.
#: A replica's exit is seen at once (its supervisor's message). Kept short: cloudml-hypertune
#: keeps only the last 100 reports in the file, so a trial that reports fast must be read often
#: (at 0.5 s a trial reporting every 10 ms lost reports on a loaded machine).
REREAD_SECONDS = 0.05


RECORD_SECONDS = 5.0
"""How long a stop waits for the supervisor to record the exits of the replicas it stopped."""


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
    - ``wait`` returns within about a millisecond of any replica exiting (the supervisor's
      message for replicas started here, pidfds for those of an earlier engine).

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
        self._spawner = Spawner()
        self._watcher = processes.ExitWatcher()  # replicas this executor did not start
        self._boot_id = processes.boot_id()
        self._read_at: dict[str, float] = {}  # trial folder -> when it was last read, running
        self._spares = Spares()
        self._outputs: dict[str, tuple[str, ...]] = {}  # trial folder -> its AIP_*_DIR folders

    # -- launch --------------------------------------------------------------------------------

    def launch(self, launch: TrialLaunch) -> TrialHandle:
        """Start every replica of the trial; see the class docstring."""
        job = launch.job
        job_folder = job_dir(job.name)
        folder = trial_dir(job_folder, launch.trial_id)
        if folder.exists():
            self._clear_stale_launch(folder)
        plans = plan_trial(launch, folder, job_folder, spares=self._spares)
        for plan in plans:
            self._spares.take_file(job_folder, plan.stdout)
            self._spares.take_file(job_folder, plan.stderr)
        dirs = contract.output_dirs(output_base(job, job_folder), launch.trial_id)
        scheduling = job.trial_spec.scheduling
        handle = LocalHandle(
            trial_dir=str(folder),
            boot_id=self._boot_id,
            attempt=0,
            restart_on_failure=bool(scheduling and scheduling.restart_job_on_worker_restart),
            replicas=self._start(folder, plans),
        )
        # A trial that just started has nothing to read yet: its first read waits like a reread.
        self._read_at[handle.trial_dir] = time.monotonic()
        self._outputs[handle.trial_dir] = (dirs.model, dirs.checkpoints, dirs.logs)
        return self._record(handle, plans)

    def _start(self, folder: Path, plans: Sequence[ReplicaPlan]) -> tuple[ReplicaRecord, ...]:
        records: list[ReplicaRecord] = []
        exits = exits_path(folder)
        for plan in plans:
            try:
                pid, start = self._spawner.spawn(
                    plan.argv,
                    cwd=plan.cwd,
                    extra_env=plan.env,
                    stdout=plan.stdout,
                    stderr=plan.stderr,
                    exits=exits,
                )
            except OSError as error:
                processes.stop_groups([r.group for r in records], 0.0)
                raise FailedPrecondition(f"could not start {plan.name}: {error}") from error
            records.append(
                ReplicaRecord(plan.name, pid, start, exits, plan.metrics, plan.stdout, plan.stderr)
            )
        return tuple(records)

    def _record(self, handle: LocalHandle, plans: list[ReplicaPlan]) -> TrialHandle:
        data = handle.to_json()
        if handle.restart_on_failure:  # a restart reads the plan, and may outrun the database
            save_trial(handle.path, plans, data)
        return data

    def _clear_stale_launch(self, folder: Path) -> None:
        """Stop what an earlier launch of this trial left running (the engine died between
        launching and storing the handle): every process group with a process that has the
        trial folder in its environment. Then forget the launch's files."""
        groups = processes.groups_with_env(TRIAL_DIR_VARIABLE, str(folder))
        try:  # a restartable trial's last handle; also a launch by a version before the marker
            old = LocalHandle.from_json(load_trial(folder)[1])
        except FileNotFoundError:
            pass  # not restartable, or never launched: the environment scan found what runs
        except (OSError, ValueError, TuneyardError) as error:  # never block a launch
            logger.warning("ignoring the unreadable %s: %s", folder / TRIAL_FILE, error)
        else:
            if old.boot_id == self._boot_id:
                groups.extend(r.group for r in old.replicas)
        if groups:
            processes.stop_groups(groups, self.stop_grace_seconds)
        (folder / TRIAL_FILE).unlink(missing_ok=True)
        # A relaunch starts afresh; model/, checkpoints/ and logs/ are the trial's output: kept.
        for path in folder.glob("workerpool*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.suffix == ".metrics" or ".status." in path.name:  # (.status: version 1)
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
        self._spawner.drain()
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
        self._recycle(local)
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
        every replica of ``handle`` still runs: started here with no exit reported yet, or a
        watched process of this boot (then nothing can have ended)."""
        read_at = self._read_at.get(handle.get("trial_dir", ""))
        if read_at is None or time.monotonic() - read_at > REREAD_SECONDS:
            return False
        if handle.get("boot_id") != self._boot_id:
            return False
        replicas = handle.get("replicas")
        if not isinstance(replicas, list) or not all(isinstance(r, dict) for r in replicas):
            return False
        self._spawner.drain()
        keys = [(r.get("pid", 0), r.get("start", 0)) for r in replicas]
        others = [pid for pid, start in keys if not self._spawner.running(pid, start)]
        return not others or self._watcher.running(others)

    def _state(self, local: LocalHandle, record: ReplicaRecord) -> ReplicaState:
        same_boot = local.boot_id == self._boot_id
        code = self._spawner.exit_code(record.pid, record.start)
        state = replica_state(record, same_boot=same_boot, exit_code=code)
        if not state.running:
            self._watcher.discard(record.pid)
        elif not self._spawner.running(record.pid, record.start):
            self._watcher.watch(record.pid, record.start)  # re-attach after an engine restart
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
        replicas = self._start(local.path, plans)
        restarted = LocalHandle(local.trial_dir, self._boot_id, attempt, True, replicas)
        return self._record(restarted, plans)

    def _stop(self, local: LocalHandle, grace_seconds: float) -> None:
        """Stop every replica's process group and wait until its supervisor has recorded how
        it ended; pids of an earlier boot name nothing of ours."""
        if local.boot_id != self._boot_id:
            return
        processes.stop_groups([r.group for r in local.replicas], grace_seconds)
        deadline = time.monotonic() + RECORD_SECONDS
        for record in local.replicas:  # an ended replica is a zombie until its status is logged
            while processes.exists(*record.group) and time.monotonic() < deadline:
                self._spawner.drain()
                if self._spawner.exit_code(*record.group) is not None:
                    break
                time.sleep(0.002)

    def _recycle(self, local: LocalHandle) -> None:
        """Offer what the ended trial leaves empty to the job's next trials (see
        :mod:`tuneyard.runtime.spares`): its output folders (when launched here), each
        replica's working directory and log files."""
        folders = [path.rstrip("/") for path in self._outputs.pop(local.trial_dir, ())]
        folders += (f"{local.trial_dir}/{record.name}" for record in local.replicas)
        files = [path for record in local.replicas for path in (record.stdout, record.stderr)]
        self._spares.give(local.path.parent.parent, folders, files)

    def _forget(self, local: LocalHandle) -> None:
        self._read_at.pop(local.trial_dir, None)
        for record in local.replicas:
            self._watcher.discard(record.pid)
        self._spawner.forget(r.group for r in local.replicas)

    # -- cancel, logs, wait --------------------------------------------------------------------

    def cancel(self, handle: TrialHandle, grace_seconds: float = 10.0) -> None:
        """SIGTERM every replica's process group, SIGKILL after ``grace_seconds``; returns when
        nothing of the trial runs. Later polls report the trial as cancelled."""
        local = self._latest(LocalHandle.from_json(handle))
        with contextlib.suppress(OSError):  # the folder may be gone; the processes still go
            (local.path / "cancelled").touch()
        self._stop(local, grace_seconds)
        self._forget(local)
        self._recycle(local)

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
        self._spawner.drain()
        if self._spawner.has_unseen_exits():
            return
        fd = self._spawner.fileno()
        self._watcher.wait(timeout, () if fd is None else (fd,))
        self._spawner.drain()

    @property
    def supervisor_pid(self) -> int | None:
        """The pid of this executor's supervisor process while it runs (for diagnostics)."""
        return self._spawner.supervisor_pid

    def close(self) -> None:
        """Close the pidfds and the supervisor's pipes; the trials keep running (the supervisor
        stays until they end) and can be polled by another executor."""
        self._watcher.close()
        self._spawner.close()
