"""The engine's side of the supervisor process (:mod:`tuneyard.runtime.supervisor`).

:class:`Spawner` starts the supervisor on first use (and again if it ever dies), sends it the
replicas to start, and collects the exits it reports. Its pipe is readable whenever an exit
arrives, so the executor's wait can sleep on it.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import select
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SUPERVISOR = str(Path(__file__).with_name("supervisor.py"))
REPLY_SECONDS = 60.0
"""How long to wait for the supervisor to answer a start request (it answers in milliseconds)."""


class SupervisorGone(OSError):
    """The supervisor process ended before it answered."""


class _Pipes:
    """The two pipe ends the engine holds; closed when dropped, which ends the supervisor's
    service (it then exits once its replicas have ended)."""

    def __init__(self, requests: int, messages: int, env: dict[str, str]) -> None:
        self.requests, self.messages, self.env = requests, messages, env
        self.environ = _environ_state()  # os.environ as the supervisor got it
        self.pid = 0
        self._finalizer = weakref.finalize(self, _close, (requests, messages))

    def close(self) -> None:
        self._finalizer()


def _close(fds: Iterable[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


class Spawner:
    """Starts processes through a supervisor that outlives the engine; thread-safe.

    A process started by :meth:`spawn` leads a new session and process group. Until its exit
    arrives (:meth:`drain`), :meth:`running` says True; then :meth:`exit_code` has its status
    (``128 + N`` when signal ``N`` ended it) until :meth:`forget`.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._pipes: _Pipes | None = None
        self._buffer = b""
        self._replies: collections.deque[dict[str, Any]] = collections.deque()
        self._live: set[tuple[int, int]] = set()
        self._exits: dict[tuple[int, int], int] = {}
        self._unseen: set[tuple[int, int]] = set()

    # -- starting ------------------------------------------------------------------------------

    def spawn(
        self,
        argv: Sequence[str],
        *,
        cwd: str,
        extra_env: Mapping[str, str],
        stdout: str,
        stderr: str,
        exits: str,
    ) -> tuple[int, int]:
        """Start ``argv`` in ``cwd`` with this process's environment and ``extra_env`` on top,
        output appended to ``stdout`` and ``stderr``; its ``(pid, start)``. Its status is
        appended to ``exits`` when it ends.

        Raises:
            OSError: it could not be started (no such program, not executable, no such cwd),
                or the supervisor could not be started.
        """
        with self._lock:
            for tries_left in (1, 0):
                pipes = self._ensure()
                base = pipes.env  # the supervisor's own environment: only changes are sent
                if pipes.environ is not None and _environ_state() == pipes.environ:
                    env, unset = dict(extra_env), []  # os.environ is as the supervisor got it
                else:
                    env = {**os.environ, **extra_env}
                    unset = [k for k in base if k not in env]
                request = {
                    "argv": list(argv),
                    "cwd": cwd,
                    "env": {k: v for k, v in env.items() if base.get(k) != v},
                    "unset": unset,
                    "stdout": stdout,
                    "stderr": stderr,
                    "exits": exits,
                }
                try:
                    _write_all(pipes.requests, (json.dumps(request) + "\n").encode())
                except BrokenPipeError:  # it had ended: nothing was started, start another
                    self._lost(pipes)
                    if not tries_left:
                        raise
                    continue
                # Not retried past this point: a supervisor that dies now may have started it.
                reply = self._reply(pipes)
                break
            if "error" in reply:
                raise OSError(str(reply["error"]))
            pid, start = (int(v) for v in reply["started"])
        return pid, start

    def _ensure(self) -> _Pipes:
        if self._pipes is not None:
            return self._pipes
        request_read, request_write = os.pipe()
        message_read, message_write = os.pipe()
        env = dict(os.environ)
        try:
            first = os.posix_spawn(
                sys.executable,
                [sys.executable, "-I", "-S", SUPERVISOR],
                env,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, request_read, 0),
                    (os.POSIX_SPAWN_DUP2, message_write, 1),
                    (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                ],
                setsid=True,
            )
            os.waitpid(first, 0)  # it forks the supervisor and exits at once
        except OSError:
            _close((request_write, message_read))
            raise
        finally:
            _close((request_read, message_write))
        os.set_blocking(message_read, False)
        self._pipes = _Pipes(request_write, message_read, env)
        self._buffer = b""
        return self._pipes

    def _reply(self, pipes: _Pipes) -> dict[str, Any]:
        deadline = time.monotonic() + REPLY_SECONDS
        while not self._replies:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SupervisorGone(f"the supervisor did not answer in {REPLY_SECONDS:.0f}s")
            select.select([pipes.messages], [], [], left)
            if not self._read(pipes) and self._pipes is None:
                raise SupervisorGone("the supervisor exited")
        return self._replies.popleft()

    # -- messages ------------------------------------------------------------------------------

    def _read(self, pipes: _Pipes) -> bool:
        """Read what the supervisor sent; True if anything arrived."""
        try:
            data = os.read(pipes.messages, 1 << 16)
        except BlockingIOError:
            return False
        if not data:
            self._lost(pipes)
            return False
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            if "exited" in message:
                pid, start, code = (int(v) for v in message["exited"])
                if (pid, start) in self._live:  # not forgotten meanwhile: someone will ask
                    self._live.discard((pid, start))
                    self._exits[(pid, start)] = code
                    self._unseen.add((pid, start))
            elif "started" in message:  # live before its exit, which may follow on this read
                self._live.add((int(message["started"][0]), int(message["started"][1])))
                self._replies.append(message)
            elif "ready" in message:
                pipes.pid = int(message["ready"])
            elif "fatal" in message:
                logger.error("the replicas' supervisor failed:\n%s", message["fatal"])
            else:
                self._replies.append(message)
        return True

    def _lost(self, pipes: _Pipes) -> None:
        """The supervisor ended: its replicas' exits will never arrive."""
        if self._live:
            logger.warning(
                "the replicas' supervisor (pid %d) ended while %d replicas ran; how they end "
                "will not be known",
                pipes.pid,
                len(self._live),
            )
        self._live.clear()
        pipes.close()
        self._pipes = None

    def drain(self) -> None:
        """Take in every exit the supervisor has reported so far (never blocks)."""
        with self._lock:
            pipes = self._pipes
            while pipes is not None and self._read(pipes):
                pass  # each read takes in one chunk; stop when the pipe is empty

    # -- queries -------------------------------------------------------------------------------

    @property
    def supervisor_pid(self) -> int | None:
        """The supervisor's pid, once it has started."""
        return self._pipes.pid if self._pipes is not None and self._pipes.pid else None

    def fileno(self) -> int | None:
        """The pipe that becomes readable when an exit arrives, if a supervisor runs."""
        return self._pipes.messages if self._pipes is not None else None

    def running(self, pid: int, start: int) -> bool:
        """True while ``(pid, start)`` was started here and its exit has not arrived."""
        return (pid, start) in self._live

    def exit_code(self, pid: int, start: int) -> int | None:
        """How ``(pid, start)`` ended, once its exit arrived (and until :meth:`forget`)."""
        with self._lock:
            self._unseen.discard((pid, start))
            return self._exits.get((pid, start))

    def has_unseen_exits(self) -> bool:
        """True when an exit arrived that :meth:`exit_code` has not been asked about."""
        return bool(self._unseen)

    def forget(self, keys: Iterable[tuple[int, int]]) -> None:
        """Drop what is known of these processes."""
        with self._lock:
            for key in keys:
                self._live.discard(key)
                self._exits.pop(key, None)
                self._unseen.discard(key)

    def close(self) -> None:
        """Close the pipes: the supervisor takes no more requests and exits once every process
        it started has ended."""
        with self._lock:
            if self._pipes is not None:
                self._pipes.close()
                self._pipes = None
            self._live.clear()


def _environ_state() -> dict[bytes, bytes] | None:
    """A copy of what ``os.environ`` holds, compared in one C call (decoding every variable
    costs a fifth of a millisecond per launch); None where the mapping is not CPython's."""
    data = getattr(os.environ, "_data", None)
    return dict(data) if isinstance(data, dict) else None


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]
