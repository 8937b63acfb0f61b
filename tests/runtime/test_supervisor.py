"""The supervisor process with real processes: starting, exit statuses, its exits log, its life."""

from __future__ import annotations

import os
import select
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runtime.conftest import running, wait_for
from tuneyard.runtime.spawner import Spawner


@pytest.fixture
def spawner() -> Iterator[Spawner]:
    spawner = Spawner()
    yield spawner
    spawner.close()


def exit_of(spawner: Spawner, pid: int, start: int) -> int:
    """Wait for the exit of ``(pid, start)`` to arrive; its status."""
    codes: list[int] = []

    def arrived() -> bool:
        spawner.drain()
        code = spawner.exit_code(pid, start)
        codes.extend([] if code is None else [code])
        return bool(codes)

    wait_for(arrived)
    return codes[0]


def quiet(spawner: Spawner, argv: list[str], exits: Path, cwd: str = "/") -> tuple[int, int]:
    """Start ``argv`` with this process's environment and no output."""
    return spawner.spawn(
        argv, cwd=cwd, extra_env={}, stdout=os.devnull, stderr=os.devnull, exits=str(exits)
    )


def stat_fields(pid: int) -> list[bytes]:
    data = Path(f"/proc/{pid}/stat").read_bytes()
    return data[data.rindex(b")") + 2 :].split()


def test_a_process_runs_in_its_own_session_with_its_env_cwd_and_output(
    spawner: Spawner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TY_KEPT", "before")
    monkeypatch.setenv("TY_DROPPED", "dropped")
    script = (
        "import os, sys; print(os.getcwd(), os.getpgrp() == os.getpid() == os.getsid(0), "
        "os.environ.get('TY_KEPT'), os.environ.get('TY_DROPPED'), os.environ['TY_SET']); "
        "print('to stderr', file=sys.stderr); sys.exit(3)"
    )
    (tmp_path / "out").write_text("earlier\n")

    def start(value: str) -> tuple[int, int]:
        return spawner.spawn(
            [sys.executable, "-c", script],
            cwd=str(tmp_path),
            extra_env={"TY_SET": value},
            stdout=str(tmp_path / "out"),
            stderr=str(tmp_path / "err"),
            exits=str(tmp_path / "exits.log"),
        )

    first = start("one")  # the supervisor starts with this environment
    assert exit_of(spawner, *first) == 3
    monkeypatch.setenv("TY_KEPT", "after")  # the engine's environment changes afterwards
    monkeypatch.delenv("TY_DROPPED")
    second = start("two")
    assert exit_of(spawner, *second) == 3
    assert (tmp_path / "out").read_text() == (
        f"earlier\n{tmp_path} True before dropped one\n{tmp_path} True after None two\n"
    )
    assert (tmp_path / "err").read_text() == "to stderr\n" * 2
    assert (tmp_path / "exits.log").read_text() == "".join(
        f"{p} {s} 3\n" for p, s in (first, second)
    )
    assert not spawner.running(*second)


def test_death_by_a_signal_is_128_plus_its_number(spawner: Spawner, tmp_path: Path) -> None:
    log = tmp_path / "exits.log"
    pid, start = quiet(spawner, ["/bin/sleep", "30"], log)
    assert spawner.running(pid, start) and running(pid)
    os.killpg(pid, signal.SIGTERM)
    assert exit_of(spawner, pid, start) == 128 + signal.SIGTERM
    assert log.read_text() == f"{pid} {start} {128 + signal.SIGTERM}\n"


def test_a_process_that_exits_at_once_is_never_left_running(
    spawner: Spawner, tmp_path: Path
) -> None:
    # Its start and its exit often arrive in one read: the exit must still win.
    for _ in range(150):
        pid, start = quiet(spawner, ["/bin/true"], tmp_path / "exits.log")
        assert exit_of(spawner, pid, start) == 0
        assert not spawner.running(pid, start)
        spawner.forget([(pid, start)])


def test_what_cannot_start_is_an_error_naming_it(spawner: Spawner, tmp_path: Path) -> None:
    exits = tmp_path / "exits.log"
    with pytest.raises(OSError, match="no-such-program-xyz: command not found"):
        quiet(spawner, ["no-such-program-xyz"], exits)
    with pytest.raises(OSError, match="No such file or directory"):
        quiet(spawner, ["/bin/true"], exits, cwd=str(tmp_path / "missing"))
    pid, start = quiet(spawner, ["true"], exits)  # found on PATH
    assert exit_of(spawner, pid, start) == 0


def test_the_supervisor_outlives_the_engine_s_pipes_until_its_processes_end(
    tmp_path: Path,
) -> None:
    spawner = Spawner()
    log = tmp_path / "exits.log"
    pid, start = quiet(spawner, ["/bin/sleep", "30"], log)
    supervisor = int(stat_fields(pid)[1])  # the process's parent
    assert supervisor == spawner.supervisor_pid and supervisor != os.getpid()
    assert int(stat_fields(supervisor)[1]) != os.getpid()  # not this process's child either
    spawner.close()  # as when the engine dies
    assert running(supervisor) and running(pid)
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: not running(supervisor))  # it recorded the exit, then left
    assert log.read_text() == f"{pid} {start} {128 + signal.SIGKILL}\n"


def test_a_killed_supervisor_is_replaced(spawner: Spawner, tmp_path: Path) -> None:
    exits = tmp_path / "exits.log"
    pid, start = quiet(spawner, ["/bin/sleep", "30"], exits)
    first = spawner.supervisor_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: not running(first))
    wait_for(lambda: (spawner.drain(), spawner.supervisor_pid is None)[1])
    assert not spawner.running(pid, start)  # its exit can no longer arrive
    os.killpg(pid, signal.SIGKILL)
    other, other_start = quiet(spawner, ["/bin/true"], exits)
    assert spawner.supervisor_pid not in (None, first)
    assert exit_of(spawner, other, other_start) == 0


def test_a_start_after_the_supervisor_died_unnoticed_uses_a_new_one(
    spawner: Spawner, tmp_path: Path
) -> None:
    exits = tmp_path / "exits.log"
    quiet(spawner, ["/bin/true"], exits)
    first = spawner.supervisor_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: not running(first))
    pid, start = quiet(spawner, ["/bin/true"], exits)  # no drain first: the request pipe broke
    assert spawner.supervisor_pid not in (None, first)
    assert exit_of(spawner, pid, start) == 0


def test_the_exit_of_a_forgotten_process_is_not_waited_for(
    spawner: Spawner, tmp_path: Path
) -> None:
    pid, start = quiet(spawner, ["/bin/sleep", "30"], tmp_path / "exits.log")
    spawner.forget([(pid, start)])  # as when a trial's end was handled before its exit arrived
    os.killpg(pid, signal.SIGKILL)
    log = tmp_path / "exits.log"
    wait_for(lambda: log.exists() and f"{pid} {start}" in log.read_text())
    wait_for(lambda: (spawner.drain(), not (spawner.fileno() and select_readable(spawner)))[1])
    assert spawner.exit_code(pid, start) is None and not spawner.has_unseen_exits()


def select_readable(spawner: Spawner) -> bool:
    fd = spawner.fileno()
    return fd is not None and bool(select.select([fd], [], [], 0)[0])
