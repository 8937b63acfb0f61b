"""Process groups on this machine, found again by pid after the engine restarts (Linux).

A replica is identified by ``(pid, start)``: its pid and the clock tick since boot it started in
(field 22 of ``/proc/<pid>/stat`` counts from boot in ticks of ``SC_CLK_TCK``), so a pid the kernel
has handed to an unrelated process since is never mistaken for the replica, and never signalled.
``start`` is taken from ``CLOCK_BOOTTIME`` just before the fork rather than read from ``/proc``
(reading a just-started process's ``stat`` costs a fraction of a millisecond), so a process
matches when it started within :data:`START_SLACK_TICKS` after ``start``; a pid is only reused
after its process ended, and never within that second. Each replica leads its own process group
(``start_new_session=True``), and stopping a replica means stopping its whole group, so the
trainer's own children (data loaders, shells, ``sleep``) go with it. A program that starts a new
session of its own (daemonizes) leaves the group and is out of reach, as with any process-group
supervisor.

Children of this process are kept in a process-wide registry and reaped by whichever executor
polls next (no zombies, also when an executor object is dropped while its trials run).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

logger = logging.getLogger(__name__)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_SLACK_TICKS = CLOCK_TICKS
"""How much later than the recorded ``start`` a replica's process may have started (1 s)."""

KILL_WAIT_SECONDS = 10.0
"""How long to wait for SIGKILLed processes to disappear before giving up with a warning."""

_children: dict[int, tuple[subprocess.Popen[bytes], int]] = {}
_exit_codes: dict[tuple[int, int], int] = {}
_registry_lock = threading.Lock()


@dataclass(frozen=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` this module uses."""

    pid: int
    state: str
    pgid: int
    start: int

    @property
    def running(self) -> bool:
        """False for zombies and dead tasks: they hold a pid but run nothing."""
        return self.state not in ("Z", "X", "x")


def proc_stat(pid: int) -> ProcStat | None:
    """The state, process group and start time of ``pid``, or None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            data = file.read()
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = data[data.rindex(b")") + 2 :].split()
    return ProcStat(pid, fields[0].decode(), int(fields[2]), int(fields[19]))


def boot_id() -> str:
    """This boot's id: start times are only comparable within one boot."""
    with open("/proc/sys/kernel/random/boot_id") as file:
        return file.read().strip()


def started_as(stat: ProcStat, start: int) -> bool:
    """True when ``stat`` is of the process recorded as started at tick ``start``."""
    return 0 <= stat.start - start <= START_SLACK_TICKS


def exists(pid: int, start: int) -> bool:
    """True until the process ``(pid, start)`` has been reaped (a zombie exists: its parent has
    not collected its status yet)."""
    stat = proc_stat(pid)
    return stat is not None and started_as(stat, start)


def is_running(pid: int, start: int) -> bool:
    """True while the process ``(pid, start)`` exists and is not a zombie."""
    stat = proc_stat(pid)
    return stat is not None and started_as(stat, start) and stat.running


# -- children ----------------------------------------------------------------------------------


def spawn(
    argv: Sequence[str], *, cwd: str, env: Mapping[str, str], stdout: IO[bytes], stderr: IO[bytes]
) -> tuple[int, int]:
    """Start ``argv`` as the leader of a new session and process group; ``(pid, start)``."""
    before = time.clock_gettime(time.CLOCK_BOOTTIME)
    process = subprocess.Popen(
        list(argv),
        shell=False,
        start_new_session=True,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        close_fds=True,
    )
    start = int(before * CLOCK_TICKS)
    if time.clock_gettime(time.CLOCK_BOOTTIME) - before >= 0.9:  # a very slow fork: look it up
        stat = proc_stat(process.pid)  # still there: only reap() reaps it, even if it exited
        start = stat.start if stat is not None else start
    with _registry_lock:
        _children[process.pid] = (process, start)
    return process.pid, start


def reap() -> None:
    """Collect every child of this process that has exited, so none stays a zombie."""
    with _registry_lock:
        for pid, (process, start) in list(_children.items()):
            code = process.poll()
            if code is not None:
                del _children[pid]
                _exit_codes[(pid, start)] = code if code >= 0 else 128 - code


def child_exit_code(pid: int, start: int) -> int | None:
    """How ``(pid, start)`` ended, if it was a child of this process and has been reaped
    (``128 + N`` when signal ``N`` killed it)."""
    with _registry_lock:
        return _exit_codes.get((pid, start))


def forget(pids: Iterable[tuple[int, int]]) -> None:
    """Drop remembered exit codes of ended replicas."""
    with _registry_lock:
        for key in pids:
            _exit_codes.pop(key, None)


# -- groups ------------------------------------------------------------------------------------


def group_members(pgid: int, leader_start: int) -> list[int]:
    """Live processes of the group led (or once led) by ``(pgid, leader_start)``.

    A pgid is not reused while any process of the group lives, so once the leader's pid belongs to
    a process with another start time, the group is gone. Processes that started before the
    leader cannot be members either.
    """
    reap()
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return []  # the common case, one system call: nothing is left of the group
    leader = proc_stat(pgid)
    if leader is not None and not started_as(leader, leader_start):
        return []
    members = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = proc_stat(int(entry.name))
            if stat and stat.pgid == pgid and stat.running and stat.start >= leader_start:
                members.append(stat.pid)
    return members


def groups_with_env(name: str, value: str) -> list[tuple[int, int]]:
    """``(pgid, leader_start)`` of every process group with a process whose environment (as it
    was when the process started its program) sets ``name`` to ``value``; never this process's
    own group. Reads every process's ``/proc/<pid>/environ`` (those of other users are
    unreadable and skipped)."""
    needle = f"\0{name}={value}\0".encode()
    starts: dict[int, int] = {}
    own = os.getpgrp()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as file:
                environ = b"\0" + file.read()
        except OSError:
            continue
        stat = proc_stat(int(entry.name))
        if needle in environ and stat is not None and stat.running and stat.pgid != own:
            starts[stat.pgid] = min(stat.start, starts.get(stat.pgid, stat.start))
    groups = []
    for pgid, start in starts.items():
        leader = proc_stat(pgid)  # the leader started first, if it still exists
        groups.append((pgid, leader.start if leader and leader.start <= start else start))
    return groups


def signal_group(pgid: int, leader_start: int, signum: int) -> bool:
    """Send ``signum`` to the group if anything of it still runs; True if it was sent."""
    if not group_members(pgid, leader_start):
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
        return True
    return False


def _wait_gone(groups: Sequence[tuple[int, int]], seconds: float) -> list[tuple[int, int]]:
    deadline = time.monotonic() + seconds
    pause = 0.001
    left = [g for g in groups if group_members(*g)]
    while left and time.monotonic() < deadline:
        time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 2, 0.02)
        left = [g for g in left if group_members(*g)]
    return left


def stop_groups(groups: Sequence[tuple[int, int]], grace_seconds: float) -> bool:
    """SIGTERM each group, SIGKILL what is left after ``grace_seconds``, wait until none runs.

    Args:
        groups: ``(pgid, leader_start)`` of each group.
        grace_seconds: how long the groups may take to exit after SIGTERM.

    Returns:
        True when nothing of the groups runs any more (False only for processes stuck in the
        kernel that even SIGKILL has not ended within :data:`KILL_WAIT_SECONDS`).
    """
    signalled = [g for g in groups if signal_group(*g, signal.SIGTERM)]
    left = _wait_gone(signalled, grace_seconds)
    if not left:
        return True
    for group in left:
        logger.info("process group %d ignored SIGTERM for %.1fs: SIGKILL", group[0], grace_seconds)
        signal_group(*group, signal.SIGKILL)
    left = _wait_gone(left, KILL_WAIT_SECONDS)
    if left:
        logger.warning("process groups %s survived SIGKILL", [g[0] for g in left])
    return not left


class ExitWatcher:
    """Waits for any of a set of processes to exit, children or not (``pidfd_open``, Linux 5.3+).

    Each exit wakes :meth:`wait` once; the process stays known until :meth:`discard`.
    Where pidfds are unavailable it falls back to checking ``/proc`` every few milliseconds.
    """

    def __init__(self) -> None:
        self._fds: dict[int, int] = {}
        self._starts: dict[int, int] = {}
        self._fired: set[int] = set()
        self._pending = False
        self._pidfd = hasattr(os, "pidfd_open")

    def watch(self, pid: int, start: int) -> None:
        """Wake :meth:`wait` when ``(pid, start)`` exits (at once if it already has)."""
        if pid in self._starts:
            return
        self._starts[pid] = start
        if self._pidfd:
            try:
                self._fds[pid] = os.pidfd_open(pid)
            except ProcessLookupError:
                pass  # already gone: the next poll finds how it ended
            except OSError:  # ENOSYS on kernels before 5.3
                self._pidfd = False
        if not is_running(pid, start):  # after opening: the fd is the right one
            self._fired.add(pid)
            self._pending = True

    def running(self, pids: Sequence[int]) -> bool:
        """True when each of ``pids`` is watched through a pidfd and has not exited: one system
        call, no ``/proc`` reads. False whenever that cannot be told this way."""
        if not pids or any(pid not in self._fds or pid in self._fired for pid in pids):
            return False
        poller = select.poll()
        for pid in pids:
            poller.register(self._fds[pid], select.POLLIN)
        return not poller.poll(0)

    def discard(self, pid: int) -> None:
        """Stop watching ``pid``."""
        self._starts.pop(pid, None)
        self._fired.discard(pid)
        fd = self._fds.pop(pid, None)
        if fd is not None:
            os.close(fd)

    def wait(self, timeout: float, also: Sequence[int] = ()) -> None:
        """Block until a watched process exits (or exited since the last call), one of the
        file descriptors ``also`` becomes readable, or ``timeout`` passes."""
        reap()
        if self._pending:
            self._pending = False
            return
        waiting = {fd: pid for pid, fd in self._fds.items() if pid not in self._fired}
        if self._pidfd or not self._starts:
            poller = select.poll()
            for fd in (*waiting, *also):
                poller.register(fd, select.POLLIN)
            for fd, _ in poller.poll(max(timeout, 0.0) * 1000):
                if fd in waiting:
                    self._fired.add(waiting[fd])
        else:
            self._wait_by_proc(timeout, also)
        reap()

    def _wait_by_proc(self, timeout: float, also: Sequence[int]) -> None:
        deadline = time.monotonic() + timeout
        while True:
            ended = [
                p for p, s in self._starts.items() if p not in self._fired and not is_running(p, s)
            ]
            if ended:
                self._fired.update(ended)
                return
            left = deadline - time.monotonic()
            if left <= 0 or select.select(also, [], [], min(0.005, left))[0]:
                return

    def close(self) -> None:
        """Close every pidfd."""
        for pid in list(self._starts):
            self.discard(pid)
