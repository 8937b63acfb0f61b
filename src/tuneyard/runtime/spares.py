"""Empty folders and files of ended trials, moved into new trials instead of created anew.

Every trial needs a few empty folders and files before it starts: each replica's working
directory and its stdout and stderr files, and the ``AIP_MODEL_DIR``, ``AIP_CHECKPOINT_DIR`` and
``AIP_TENSORBOARD_LOG_DIR`` folders. Most trials leave several of them empty (a trainer that
saves no checkpoints, writes nothing to its working directory or prints nothing). Creating a
file or folder allocates an inode, which on this project's machines (ext4 on a virtual disk)
costs 0.1 to 0.9 ms of CPU, more after many files were deleted; renaming one costs a tenth of
that. So when a trial has ended, the local executor remembers what it left (:meth:`Spares.give`),
and a new trial of the same job takes its folders and files from there, renamed into place,
before it creates any (:meth:`Spares.take_dir`, :meth:`Spares.take_file`).

Nothing that holds data is ever moved: a folder is taken only while it has no entry, a file
only while it is a regular file of size 0, checked when it is taken (a process that escaped
its trial could have written into it since). A spare is moved only to a path that does not
exist. An ended trial therefore keeps the folders and files it wrote something into, and its
empty ones only until a later trial needs them: as on Vertex AI, where an empty folder of Cloud
Storage or an empty log does not exist, nothing is lost. Spares are remembered in memory only
(a restarted engine creates its first trials' folders); any failure (another file system, a
folder deleted meanwhile) just means the path is created as before.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path

MAX_SPARES = 64
"""Spares remembered per job and kind; the oldest are forgotten first (and stay where they are)."""
MAX_JOBS = 256
"""Jobs whose spares are remembered; the least recently used is forgotten first."""


class Spares:
    """The empty folders and files that ended trials left, per job folder; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, tuple[deque[str], deque[str]]] = {}  # job folder -> dirs, files

    def give(self, job_folder: Path, folders: Iterable[str], files: Iterable[str]) -> None:
        """Remember ``folders`` and ``files`` of an ended trial of the job in ``job_folder``,
        to be moved into later trials while they are empty."""
        with self._lock:
            kept_folders, kept_files = self._known(job_folder)
            kept_folders.extend(folders)
            kept_files.extend(files)

    def take_dir(self, job_folder: Path, path: str | Path) -> bool:
        """Move an empty spare folder to ``path``; False when there is none (or ``path``
        exists)."""
        return self._take(job_folder, path, folder=True)

    def take_file(self, job_folder: Path, path: str | Path) -> bool:
        """Move an empty spare file to ``path``; False when there is none (or ``path``
        exists)."""
        return self._take(job_folder, path, folder=False)

    def _take(self, job_folder: Path, path: str | Path, *, folder: bool) -> bool:
        with self._lock:
            kept = self._known(job_folder)[0 if folder else 1]
            if kept and os.path.lexists(path):
                return False
            while kept:  # the oldest first: a trial that just ended keeps its folders longest
                spare = kept.popleft()
                if not _empty(spare, folder=folder):
                    continue  # written to, or gone: it stays where it is
                try:
                    os.rename(spare, path)
                except OSError:  # the spare was there: the path's folder is missing, say
                    kept.appendleft(spare)
                    return False
                return True
            return False

    def _known(self, job_folder: Path) -> tuple[deque[str], deque[str]]:
        key = str(job_folder)
        known = self._jobs.pop(key, None)  # put back last: the most recently used
        if known is None:
            while len(self._jobs) >= MAX_JOBS:
                self._jobs.pop(next(iter(self._jobs)))
            known = (deque(maxlen=MAX_SPARES), deque(maxlen=MAX_SPARES))
        self._jobs[key] = known
        return known


def _empty(path: str, *, folder: bool) -> bool:
    """True for an empty folder (``folder``) or an empty regular file, not a link to one."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not folder:
        return stat.S_ISREG(info.st_mode) and info.st_size == 0
    if not stat.S_ISDIR(info.st_mode):
        return False
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except OSError:
        return False
