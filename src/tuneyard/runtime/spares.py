"""Empty folders and files of ended trials, moved into new trials instead of created anew.

Every trial needs a few empty folders and files before it starts: each replica's working
directory and its stdout and stderr files, and the ``AIP_MODEL_DIR``, ``AIP_CHECKPOINT_DIR`` and
``AIP_TENSORBOARD_LOG_DIR`` folders. Most trials leave several of them empty (a trainer that
saves no checkpoints, writes nothing to its working directory or prints nothing). Creating a
file or folder allocates an inode, which on this project's machines (ext4 on a virtual disk)
costs 0.1 to 0.9 ms of CPU, more after many files were deleted; renaming one costs about 0.03
ms. So when a trial has ended, the local executor moves what it left empty into the job's
``spares/`` folder (see :mod:`tuneyard.runtime.trialdir`), and a new trial of the job takes its
folders and files from there before it creates any.

Nothing that holds data is ever moved: a folder is a spare only while it has no entry, a file
only while it is a regular file of size 0, checked when it is given and again when it is taken
(a process that escaped its trial could write into it meanwhile). A spare is moved only to a
path that does not exist. An ended trial therefore has only the folders and files it wrote
something into, as on Vertex AI, where an empty folder of Cloud Storage or an empty log does
not exist. Any failure (another file system, a folder deleted meanwhile) just means the path
is created as before.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Iterable
from pathlib import Path

SPARES_FOLDER = "spares"
MAX_SPARES = 64
"""Spares kept per job and kind; a trial that leaves more keeps the rest in place."""
MAX_JOBS = 256
"""Job folders whose spares are remembered; one forgotten is listed again when next used."""


class Spares:
    """The spare folders and files of each job folder that this executor knows of; thread-safe.

    A job folder's ``spares/`` is listed on first use, so spares left by an earlier engine of
    the job are used too; after that only this object moves files in and out of it (one engine
    drives a job at a time). Of the most recently used :data:`MAX_JOBS` job folders.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folders: dict[str, tuple[list[str], list[str]]] = {}  # spares/ -> dirs, files
        self._count = 0

    def take_dir(self, job_folder: Path, path: str | Path) -> bool:
        """Move a spare folder to ``path``; False when there is none (or ``path`` exists)."""
        return self._take(job_folder, path, folder=True)

    def take_file(self, job_folder: Path, path: str | Path) -> bool:
        """Move a spare empty file to ``path``; False when there is none (or ``path`` exists)."""
        return self._take(job_folder, path, folder=False)

    def give(self, job_folder: Path, paths: Iterable[str | Path]) -> None:
        """Keep as spares those of ``paths`` that are an empty folder or an empty file."""
        with self._lock:
            folders, files = self._known(job_folder)
            spares = job_folder / SPARES_FOLDER
            for path in paths:
                kind = _empty(path)
                if kind is None:
                    continue
                kept = folders if kind == "d" else files
                if len(kept) >= MAX_SPARES:
                    continue
                self._count += 1
                target = f"{spares}/{kind}{os.getpid()}-{self._count}"
                try:
                    os.rename(path, target)
                except FileNotFoundError:
                    try:  # the first spare of the job: its folder is made now
                        os.mkdir(spares)
                        os.rename(path, target)
                    except OSError:
                        continue
                except OSError:  # another file system, say: the path stays where it is
                    continue
                kept.append(target)

    def _take(self, job_folder: Path, path: str | Path, *, folder: bool) -> bool:
        with self._lock:
            kept = self._known(job_folder)[0 if folder else 1]
            while kept:
                if os.path.lexists(path):
                    return False
                spare = kept.pop()
                if _empty(spare) != ("d" if folder else "f"):
                    continue  # written to since it was given, or gone: left where it is
                try:
                    os.rename(spare, path)
                except OSError:
                    continue
                return True
            return False

    def _known(self, job_folder: Path) -> tuple[list[str], list[str]]:
        spares = str(job_folder / SPARES_FOLDER)
        known = self._folders.pop(spares, None)  # put back last: the most recently used
        if known is None:
            folders: list[str] = []
            files: list[str] = []
            with contextlib.suppress(OSError), os.scandir(spares) as entries:
                for entry in entries:
                    (folders if entry.name.startswith("d") else files).append(entry.path)
            while len(self._folders) >= MAX_JOBS:
                self._folders.pop(next(iter(self._folders)))
            known = (folders, files)
        self._folders[spares] = known
        return known


def _empty(path: str | Path) -> str | None:
    """``"d"`` for an empty folder, ``"f"`` for an empty regular file, else None."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISREG(info.st_mode):
        return "f" if info.st_size == 0 else None
    if stat.S_ISDIR(info.st_mode):
        try:
            with os.scandir(path) as entries:
                return "d" if next(entries, None) is None else None
        except OSError:
            return None
    return None
