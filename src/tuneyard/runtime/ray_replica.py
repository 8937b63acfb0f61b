"""One replica on a Ray node: the actor that starts it, reads its reports and logs, and stops it.

The Ray executor (:mod:`tuneyard.runtime.ray`) creates one :class:`ReplicaActor` per replica, as a
named, detached Ray actor holding the replica's resources. Everything that touches files or
processes happens here, on the node the actor was placed on, so the engine needs no file system in
common with the nodes:

- ``start`` plans the replica with the same code as the local executor
  (:func:`tuneyard.runtime.planning.plan_trial`, the trial contract), in the trial folder under the
  *node's* ``$TUNEYARD_HOME`` (the variable as ``ray start`` saw it, else ``~/.tuneyard``), and
  starts it as its own process group, with stdout and stderr in files beside it;
- ``poll`` reads the replica's ``cloudml-hypertune`` metric file with
  :func:`tuneyard.runtime.metrics.read_reports` and says whether the process has exited; the actor
  is the process's parent, so it learns the exit status from the kernel;
- ``logs`` returns the tails of stdout and stderr; ``stop`` sends SIGTERM to the process group,
  SIGKILL after the grace period, and returns once nothing of it runs.

The actor is detached, so it outlives the engine that created it: a restarted engine finds it by
name and carries on. If the actor's own process dies (its node's raylet died, the node was lost,
someone ``ray.kill``-ed it), a watchdog started beside the replica ends the replica's process group
(SIGTERM, SIGKILL two seconds later): it is a ``/bin/sh`` blocked reading a pipe whose only
writer is the actor, so the kernel wakes it when the actor dies, however it died. When the replica
is stopped normally the actor writes a line to the pipe and the watchdog exits without acting.

Starting a Ray actor costs a worker process (about a second of CPU), so the executor reuses an
actor for the next replica asking for the same resources (``reset``). An actor that has no
replica for :data:`IDLE_EXIT_SECONDS` (never started because its engine died, or left idle by
one) exits by itself, so resources are never held for good by an engine that went away.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tuneyard.model import job_from_dict
from tuneyard.runtime import processes
from tuneyard.runtime.base import TrialLaunch
from tuneyard.runtime.metrics import read_reports
from tuneyard.runtime.outcome import HOLD_BACK_SECONDS, ReplicaState, failure_message
from tuneyard.runtime.planning import plan_trial
from tuneyard.runtime.trialdir import ReplicaRecord, job_dir, tail, trial_dir

WATCHDOG = 'read _ || { kill -TERM "-$1"; sleep 2; kill -KILL "-$1"; } 2>/dev/null'
"""Ends the replica's process group when the pipe on stdin closes without a line (the actor
died); exits quietly when the actor writes a line (the replica was stopped normally)."""
IDLE_EXIT_SECONDS = 1800.0


def launch_from_json(data: dict[str, Any]) -> TrialLaunch:
    """The :class:`TrialLaunch` sent as JSON (``job``, ``trial_id``, ``parameters``)."""
    job = job_from_dict(data["job"], drop_output_only=False)
    return TrialLaunch(job, str(data["trial_id"]), dict(data["parameters"]))


class ReplicaActor:
    """The Ray actor of one replica; see the module docstring. Methods may run concurrently
    (``wait_exit`` blocks one of the actor's threads); state changes are under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._where: dict[str, Any] | None = None
        self._record: ReplicaRecord | None = None
        self._watchdog: tuple[subprocess.Popen[bytes], int] | None = None
        self._exit_code: int | None = None
        self._idle_since: float | None = time.monotonic()
        threading.Thread(target=self._exit_when_idle, name="idle-exit", daemon=True).start()

    def _exit_when_idle(self) -> None:
        while True:
            time.sleep(min(IDLE_EXIT_SECONDS / 10, 30.0))
            idle_since = self._idle_since
            if idle_since is not None and time.monotonic() - idle_since > IDLE_EXIT_SECONDS:
                os._exit(0)  # Ray then reports the actor dead, and releases its resources

    def reset(self) -> None:
        """Forget the stopped replica, to run another one (``where`` picks a new port)."""
        with self._lock:
            if self._record is not None:
                processes.stop_groups([self._record.group], 0.0)
                self._disarm()
                processes.forget([self._record.group])
            self._record, self._where, self._exit_code = None, None, None
            self._idle_since = time.monotonic()

    def where(self) -> dict[str, Any]:
        """The node this actor runs on and a free port there for the replica's ``CLUSTER_SPEC``
        address (the same answer every time)."""
        import ray

        with self._lock:
            if self._where is None:
                ip: str = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
                with socket.socket() as probe:
                    probe.bind((ip, 0))
                    port = probe.getsockname()[1]
                self._where = {
                    "node_id": ray.get_runtime_context().get_node_id(),
                    "node_ip": ip,
                    "hostname": socket.gethostname(),
                    "port": port,
                }
            return dict(self._where)

    def start(
        self, launch: dict[str, Any], name: str, addresses: dict[int, list[str]], attempt: int
    ) -> dict[str, Any]:
        """Plan and start replica ``name`` of ``launch``; its pid and trial folder on this node.

        Raises:
            InvalidArgument: the spec cannot run (see :func:`plan_trial`).
            FailedPrecondition: a package could not be installed or the process not started.
        """
        with self._lock:
            if self._record is not None:  # a retried call: already started
                return {"pid": self._record.pid, "folder": str(Path(self._record.stdout).parent)}
            trial = launch_from_json(launch)
            folder = trial_dir(job_dir(trial.job.name), trial.trial_id)
            addresses = {int(pool): list(a) for pool, a in addresses.items()}
            job_folder = job_dir(trial.job.name)
            plan = plan_trial(trial, folder, job_folder, addresses=addresses, only=name)[0]
            Path(plan.metrics).unlink(missing_ok=True)  # an earlier attempt's reports were read
            with open(plan.stdout, "ab") as out, open(plan.stderr, "ab") as err:
                if attempt:
                    err.write(f"---- tuneyard: attempt {attempt + 1} of this replica\n".encode())
                    err.flush()
                pid, start = processes.spawn(
                    plan.argv, cwd=plan.cwd, env={**os.environ, **plan.env}, stdout=out, stderr=err
                )
            self._record = ReplicaRecord(
                name, pid, start, "", plan.metrics, plan.stdout, plan.stderr
            )
            self._idle_since = None
            self._watchdog = self._arm(pid)
            return {"pid": pid, "folder": str(folder)}

    @staticmethod
    def _arm(pgid: int) -> tuple[subprocess.Popen[bytes], int]:
        read_end, write_end = os.pipe()
        try:
            watchdog = subprocess.Popen(
                ["/bin/sh", "-c", WATCHDOG, "sh", str(pgid)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # not in the replica's group: stopping it spares this
            )
        finally:
            os.close(read_end)
        return watchdog, write_end

    def _disarm(self) -> None:
        if self._watchdog is None:
            return
        watchdog, write_end = self._watchdog
        self._watchdog = None
        with contextlib.suppress(OSError):
            os.write(write_end, b"stopped\n")
        os.close(write_end)
        with contextlib.suppress(subprocess.TimeoutExpired):
            watchdog.wait(5)

    def _exited(self) -> int | None:
        """The replica's exit status once its process has ended (``128 + N`` for signal N)."""
        record = self._record
        if record is None:
            return None
        if self._exit_code is None:
            processes.reap()
            self._exit_code = processes.child_exit_code(record.pid, record.start)
        return self._exit_code

    def poll(self, since: float, hold_back: bool, restarts: int) -> dict[str, Any]:
        """Reports newer than ``since`` and, once the replica exited, its status and (when it
        failed) a message with the tail of its stderr.

        ``hold_back`` keeps reports of the last :data:`HOLD_BACK_SECONDS` for the next poll
        while the replica runs (several replicas, one ``since``: see :mod:`outcome`).
        """
        record = self._record
        if record is None:
            return {"started": False, "running": False, "exit_code": None, "reports": []}
        code = self._exited()  # before reading: a final read then holds every report
        found, lost = read_reports(record.metrics, since)
        if code is None and hold_back:
            found = [r for r in found if r.timestamp <= time.time() - HOLD_BACK_SECONDS]
        message = ""
        if code not in (None, 0):
            state = ReplicaState(record.name, record.pid, False, code)
            message = failure_message(state, record, restarts=restarts)
        return {
            "started": True,
            "running": code is None,
            "exit_code": code,
            "message": message,
            "lost": lost,
            "reports": [[r.timestamp, r.step, r.metrics] for r in found],
        }

    def wait_exit(self, timeout: float) -> bool:
        """Block until the replica's process exits or ``timeout`` passes; True if it exited."""
        record = self._record
        if record is None or self._exited() is not None:
            return True
        try:
            fd = os.pidfd_open(record.pid)
        except OSError:  # gone already (reaped), or no pidfds: poll /proc
            deadline = time.monotonic() + timeout
            while processes.is_running(record.pid, record.start):
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)
            return True
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
            return bool(ready)
        finally:
            os.close(fd)

    def logs(self, max_bytes: int) -> dict[str, str]:
        """The tails of the replica's stdout and stderr, ``max_bytes`` each."""
        record = self._record
        if record is None:
            return {"stdout": "", "stderr": ""}
        return {"stdout": tail(record.stdout, max_bytes), "stderr": tail(record.stderr, max_bytes)}

    def stop(self, grace_seconds: float) -> int | None:
        """SIGTERM the replica's process group, SIGKILL after ``grace_seconds``; return once
        nothing of it runs, with its exit status (None if it was never started)."""
        with self._lock:
            record = self._record
            if record is None:
                return None
            processes.stop_groups([record.group], grace_seconds)
            self._disarm()
            return self._exited()
