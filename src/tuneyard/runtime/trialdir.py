"""Where a local trial keeps its files, and the handle that finds them again after a restart.

One folder per trial holds everything, flat, because on this machine every file or folder created
costs a fraction of a millisecond and a trial must start fast::

    $TUNEYARD_HOME/jobs/<project>/<location>/<job_id>/
      exits.log                       ``pid start status`` of each ended replica of the job,
                                      appended by the supervisor (:mod:`.supervisor`)
      trials/<trial_id>/
        trial.json                    with ``restartJobOnWorkerRestart`` only: the launch plan
                                      (each replica's command and contract environment, read
                                      again to restart the replicas) and the latest handle (0600)
        workerpool0-0/                the replica's working directory
        workerpool0-0.stdout          its output, appended across restarts
        workerpool0-0.stderr
        workerpool0-0.metrics         its CLOUD_ML_HP_METRIC_FILE
        cancelled                     present once the trial was cancelled
        model/ checkpoints/ logs/     AIP_*_DIR, when the job has no baseOutputDirectory
                                      (the base is then the ``trials`` folder)

Once a trial has ended, those of its folders and log files that are empty may be moved into a
later trial of the job, as that trial's own (:mod:`.spares`).

The handle (:class:`LocalHandle`, JSON) holds the trial folder, the boot it was launched in, the
attempt number and, per replica, the pid and start time of its process group leader and the
paths above, so any later process can tell whether the replicas still run and how they ended.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneyard import config
from tuneyard.errors import InvalidArgument
from tuneyard.model import parse_job_name
from tuneyard.runtime.base import TrialHandle

HANDLE_KIND = "local"
HANDLE_VERSION = 2
"""Version 1 (until 0.1) named the exits file ``status``: a file per replica holding only its
status, written by a shell wrapper; such handles are still read."""
EXITS_FILE = "exits.log"


def job_dir(job_name: str) -> Path:
    """``$TUNEYARD_HOME/jobs/<project>/<location>/<job_id>``."""
    try:
        parts = parse_job_name(job_name)
    except ValueError as error:
        raise InvalidArgument(str(error)) from error
    if any(part in (".", "..") for part in parts):
        raise InvalidArgument(f"{job_name!r}: '.' and '..' are not valid name segments")
    return config.home().joinpath("jobs", *parts)


def trial_dir(job_folder: Path, trial_id: str) -> Path:
    """``<job folder>/trials/<trial_id>``."""
    if not trial_id or not trial_id.replace("-", "").replace("_", "").isalnum():
        raise InvalidArgument(f"trial id {trial_id!r} is not a valid folder name")
    return job_folder / "trials" / trial_id


@dataclass(frozen=True)
class ReplicaPlan:
    """How to start one replica: kept in ``trial.json`` so a restart runs the same thing."""

    name: str
    argv: list[str]
    env: dict[str, str]  # the contract's variables; the engine's environment is added at start
    cwd: str
    metrics: str
    stdout: str
    stderr: str


TRIAL_FILE = "trial.json"


def save_trial(folder: Path, plans: list[ReplicaPlan], handle: TrialHandle) -> None:
    """Write ``trial.json``, readable by the owner only (a pool's env may hold secrets)."""
    data = {"plan": [vars(plan) for plan in plans], "handle": handle}
    fd = os.open(folder / TRIAL_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w") as file:
        file.write(json.dumps(data))


def load_trial(folder: Path) -> tuple[list[ReplicaPlan], TrialHandle]:
    """Read ``trial.json``: the plan and the latest handle.

    Raises:
        OSError: no such file.
        ValueError: not what :func:`save_trial` writes.
    """
    data = json.loads((folder / TRIAL_FILE).read_text())
    try:
        return [ReplicaPlan(**item) for item in data["plan"]], dict(data["handle"])
    except (KeyError, TypeError) as error:
        raise ValueError(f"malformed {folder / TRIAL_FILE}: {error}") from error


def exits_path(trial_folder: Path) -> str:
    """The job's exits log, where the supervisor records how each replica ended."""
    return str(trial_folder.parent.parent / EXITS_FILE)


def read_exit(path: str, pid: int, start: int) -> int | None:
    """The status recorded in the exits log ``path`` for ``(pid, start)``, if any (a version 1
    status file holds the one replica's status alone)."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:
        return None
    fields = data.split()
    if len(fields) == 1 and fields[0].isdigit():
        return int(fields[0])
    key = b"%d %d " % (pid, start)
    code = None
    for line in data.splitlines():
        if line.startswith(key) and line[len(key) :].isdigit():
            code = int(line[len(key) :])
    return code


@dataclass(frozen=True)
class ReplicaRecord:
    """One launched replica in a handle."""

    name: str
    pid: int
    start: int  # clock ticks since boot, from /proc/<pid>/stat: guards against pid reuse
    exits: str  # the exits log (exits_path)
    metrics: str
    stdout: str
    stderr: str

    @property
    def group(self) -> tuple[int, int]:
        """``(pgid, leader_start)``: the replica leads its own process group."""
        return self.pid, self.start


@dataclass(frozen=True)
class LocalHandle:
    """The typed form of a local executor's :data:`TrialHandle`."""

    trial_dir: str
    boot_id: str
    attempt: int
    restart_on_failure: bool
    replicas: tuple[ReplicaRecord, ...] = field(default_factory=tuple)

    @property
    def path(self) -> Path:
        """The trial folder."""
        return Path(self.trial_dir)

    def to_json(self) -> TrialHandle:
        """The handle as a JSON-serializable dict."""
        return {
            "executor": HANDLE_KIND,
            "version": HANDLE_VERSION,
            "trial_dir": self.trial_dir,
            "boot_id": self.boot_id,
            "attempt": self.attempt,
            "restart_on_failure": self.restart_on_failure,
            "replicas": [dict(vars(r)) for r in self.replicas],
        }

    @classmethod
    def from_json(cls, handle: TrialHandle) -> LocalHandle:
        """Parse a handle from :meth:`to_json`.

        Raises:
            InvalidArgument: not a handle of the local executor, or malformed.
        """
        version = handle.get("version")
        if handle.get("executor") != HANDLE_KIND or version not in (1, HANDLE_VERSION):
            raise InvalidArgument(
                f"not a local executor handle (executor={handle.get('executor')!r}, "
                f"version={handle.get('version')!r})"
            )
        try:
            data: dict[str, Any] = {
                k: v for k, v in handle.items() if k not in ("executor", "version")
            }
            items = [dict(item) for item in data.pop("replicas")]
            if version == 1:
                for item in items:
                    item["exits"] = item.pop("status")
            replicas = tuple(ReplicaRecord(**item) for item in items)
            return cls(replicas=replicas, **data)
        except (KeyError, TypeError) as error:
            raise InvalidArgument(f"malformed local executor handle: {error}") from error


def tail(path: str | Path, max_bytes: int) -> str:
    """The last ``max_bytes`` of a file as text, starting at a line boundary when cut."""
    if max_bytes <= 0:
        return ""
    try:
        with open(path, "rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(size - max_bytes, 0))
            data = file.read(max_bytes)
    except FileNotFoundError:
        return ""
    if len(data) < size and b"\n" in data[:-1]:
        data = data[data.index(b"\n") + 1 :]
    return data.decode(errors="replace")


def last_lines(path: str | Path, lines: int = 10, max_chars: int = 2000) -> str:
    """The last non-empty lines of a log, for a failure message; progress bars drawn with
    ``\\r`` keep only their final state."""
    text = tail(path, max_chars * 4)
    kept = [line.rsplit("\r", 1)[-1].rstrip() for line in text.splitlines()]
    kept = [line for line in kept if line.strip()][-lines:]
    return "\n".join(kept)[-max_chars:]
