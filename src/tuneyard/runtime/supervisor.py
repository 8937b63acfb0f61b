"""The supervisor: one small process per local executor that starts and reaps its replicas.

Replicas are children of the supervisor, not of the engine, so an engine that is killed does not
take their exit statuses with it. The supervisor runs this file with the interpreter's isolated
mode and no ``site`` (standard library only, started in a few milliseconds), in a session of its
own, detached from the engine (it is not the engine's child: nothing for the engine to reap, and
Ctrl-C in the engine's terminal does not reach it). It speaks JSON lines over two pipes:

- on its stdin, the engine's requests: ``{"argv", "cwd", "env", "unset", "stdout", "stderr",
  "exits"}``, where ``env`` and ``unset`` say how the replica's environment differs from the
  supervisor's own (the engine's when it started the supervisor). It starts ``argv`` (no shell;
  ``argv[0]`` a path, or looked up on the ``PATH`` of that environment) as the leader of a new
  session and process group in ``cwd``, stdin from ``/dev/null`` and output appended to the two
  files, and answers ``{"started": [pid, start]}`` (``start`` as in
  :mod:`tuneyard.runtime.processes`) or ``{"error": "..."}``, in request order;
- on its stdout, whenever a replica has ended and been reaped, ``{"exited": [pid, start,
  code]}`` (``128 + N`` when signal ``N`` ended it).

Before it reaps an ended replica it appends ``pid start code`` to the replica's ``exits`` file
(one per job), so an engine started later learns how replicas ended while no engine ran: a
replica whose process is gone has its line in that file, unless its supervisor was killed too.
Once the engine closes its end (it exited, was killed or closed the executor), the supervisor
stops taking requests and exits when its last replica has ended.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import sys
import time
import traceback
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
READ_SIZE = 1 << 16
MAX_OPEN_LOGS = 32


def _send(message: dict[str, Any]) -> None:
    """One JSON line to the engine; dropped once the engine has gone."""
    data = (json.dumps(message) + "\n").encode()
    try:
        while data:
            data = data[os.write(1, data) :]
    except BrokenPipeError:
        pass  # the engine has gone: the exits log still has the line


class _Supervisor:
    """The supervisor's state: its replicas and the exit logs it appends to."""

    def __init__(self) -> None:
        self.children: dict[int, tuple[int, str]] = {}  # pid -> (start, exits file)
        self.logs: dict[str, int] = {}
        self.environ = dict(os.environ)  # never changes here: decoded once

    def start(self, request: dict[str, Any]) -> dict[str, Any]:
        argv = [str(a) for a in request["argv"]]
        create = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, request["stdout"], create, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, request["stderr"], create, 0o644),
        ]
        env = {**self.environ, **request["env"]}
        for name in request["unset"]:
            env.pop(name, None)
        path = argv[0] if "/" in argv[0] else shutil.which(argv[0], path=env.get("PATH"))
        if path is None:
            return {"error": f"{argv[0]}: command not found (PATH={env.get('PATH', '')})"}
        before = time.clock_gettime(time.CLOCK_BOOTTIME)
        try:
            os.chdir(request["cwd"])  # inherited by the child; this process is single-threaded
            pid = os.posix_spawn(path, argv, env, file_actions=actions, setsid=True)
        except OSError as error:
            return {"error": f"{argv[0]}: {error.strerror or error}"}
        finally:
            os.chdir("/")
        self.children[pid] = (int(before * CLOCK_TICKS), request["exits"])
        return {"started": [pid, self.children[pid][0]]}

    def reap(self) -> None:
        """Log every ended replica, reap it, then report it (in that order: while its pid
        exists, a reader of the log waits for the line; once the engine has the message, the
        replica's process is gone, so stopping what is left of its group finds the group empty
        in one system call instead of a zombie to look past)."""
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid == 0:
                return
            pid = info.si_pid
            code = info.si_status if info.si_code == os.CLD_EXITED else 128 + info.si_status
            start, exits = self.children.pop(pid, (0, ""))
            if exits:
                self._log(exits, f"{pid} {start} {code}\n")
            os.waitpid(pid, 0)
            if exits:
                _send({"exited": [pid, start, code]})

    def _log(self, path: str, line: str) -> None:
        fd = self.logs.get(path)
        try:
            if fd is None:
                if len(self.logs) >= MAX_OPEN_LOGS:
                    os.close(self.logs.pop(next(iter(self.logs))))
                fd = self.logs[path] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.write(fd, line.encode())
        except OSError as error:  # the job folder was deleted: the engine got the message
            print(f"tuneyard supervisor: cannot log to {path}: {error}", file=sys.stderr)


def main() -> None:
    """Serve requests on stdin until it closes, then until the last replica has ended."""
    if os.fork():
        os._exit(0)  # the engine reaps this first process at once; the supervisor lives on
    os.closerange(3, 1 << 16)  # descriptors the engine inherited: not for it to hold open
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    supervisor = _Supervisor()
    _send({"ready": os.getpid()})
    try:
        _serve(supervisor, wake_read)
    except BaseException:
        _send({"fatal": traceback.format_exc()})
        raise


def _serve(supervisor: _Supervisor, wake_read: int) -> None:
    poller = select.poll()
    poller.register(0, select.POLLIN)
    poller.register(wake_read, select.POLLIN)
    buffer, serving = b"", True
    while serving or supervisor.children:
        supervisor.reap()
        if not serving and not supervisor.children:
            break
        for fd, _ in poller.poll(1000):
            if fd == wake_read:
                while True:
                    try:
                        if not os.read(wake_read, 512):
                            break
                    except BlockingIOError:
                        break
                continue
            data = os.read(0, READ_SIZE)
            if not data:
                serving = False
                poller.unregister(0)
                continue
            buffer += data
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    _send(supervisor.start(json.loads(line)))


if __name__ == "__main__":
    main()
