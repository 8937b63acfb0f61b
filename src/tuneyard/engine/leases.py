"""The jobs one server drives when several servers share a database.

Each server holds a lease per job it drives (see :mod:`tuneyard.store.leases`), renews them all
every round, and claims a few more each round, so servers that run side by side split new jobs
between them. A lease lasts ``seconds`` on the database's clock; when a server dies, its jobs
are claimed by the others once their leases expire.

The server trusts a lease only until ``seconds`` after the moment it *asked* to renew it,
measured on its own monotonic clock. The database set the expiry later than that moment, so
the server stops trusting the lease before any other server can take it over: two servers
never both believe they drive one job. It also stops acting on a job once less than a third of
the lease is left (``margin``), so what it starts then (a trial's launch) is done before the
lease could lapse; and ``add_trial`` re-checks the lease in the database.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence

from tuneyard.errors import FailedPrecondition, InvalidArgument
from tuneyard.model import HyperparameterTuningJob, JobState
from tuneyard.runtime import processes
from tuneyard.store import LeaseLost, Store

logger = logging.getLogger(__name__)

#: How long a lease lasts unless configured (``tuneyard serve --lease-seconds``).
DEFAULT_LEASE_SECONDS = 30.0
#: Jobs a server claims at most per round, so several servers share new jobs.
DEFAULT_CLAIM_PER_ROUND = 4


def new_owner_id() -> str:
    """A lease owner id unique to this process: ``host:boot:pid:random``, ``boot`` the start of
    this boot's id (so that :func:`owner_is_gone` can tell a process of this machine ended)."""
    boot = processes.boot_id()[:12]
    return f"{socket.gethostname()[:64]}:{boot}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def owner_is_gone(owner: str) -> bool:
    """True when ``owner`` (an id from :func:`new_owner_id`) was a process of this machine, in
    this boot, whose pid no longer exists. False whenever that cannot be told (another machine,
    another id format, or the pid is in use, perhaps by another process by now)."""
    parts = owner.rsplit(":", 3)
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    host, boot, pid, _ = parts
    if host != socket.gethostname()[:64] or boot != processes.boot_id()[:12]:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


class JobLeases:
    """This server's leases on jobs: claimed, renewed and released through the store.

    Used from the engine thread only.

    Args:
        store: the store the servers share.
        seconds: how long a lease lasts without renewal.
        claim_per_round: how many new jobs one :meth:`refresh` claims at most.
        owner: this server's owner id (default: :func:`new_owner_id`).
        clock: a monotonic clock, in seconds.

    Raises:
        InvalidArgument: ``seconds`` or ``claim_per_round`` is not positive.

    Example:
        >>> leases = JobLeases(open_store(), seconds=30)  # doctest: +SKIP
        >>> for name in leases.refresh(UNFINISHED_JOB_STATES):  # doctest: +SKIP
        ...     leases.check(name)  # raises LeaseLost once the lease cannot be trusted
    """

    def __init__(
        self,
        store: Store,
        *,
        seconds: float = DEFAULT_LEASE_SECONDS,
        claim_per_round: int = DEFAULT_CLAIM_PER_ROUND,
        owner: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not seconds > 0:
            raise InvalidArgument(f"lease seconds: must be greater than 0, not {seconds}")
        if claim_per_round < 1:
            raise InvalidArgument(f"claim_per_round: must be at least 1, not {claim_per_round}")
        self.store = store
        self.seconds = seconds
        self.claim_per_round = claim_per_round
        self.owner = owner or new_owner_id()
        self._clock = clock
        self._trusted_until: dict[str, float] = {}
        self._asked = -float("inf")

    @property
    def margin(self) -> float:
        """Lease time that must be left for this server to act on a job."""
        return self.seconds / 3

    def refresh(self, states: Sequence[JobState]) -> list[str]:
        """Renew every lease and claim up to ``claim_per_round`` more; return the jobs held."""
        return self._lease(states, self.claim_per_round)

    def renew(self, states: Sequence[JobState]) -> list[str]:
        """Renew every lease without claiming more; return the jobs still held."""
        return self._lease(states, 0)

    def due(self) -> bool:
        """Whether a third of the lease has passed since it was last renewed."""
        return self._clock() - self._asked >= self.seconds / 3

    def holds(self, name: str) -> bool:
        """Whether this server may act on job ``name`` now."""
        return self._trusted_until.get(name, -float("inf")) - self._clock() > self.margin

    def check(self, name: str) -> None:
        """Raise :class:`~tuneyard.store.LeaseLost` unless :meth:`holds` the job."""
        if not self.holds(name):
            raise LeaseLost(
                f"job {name}: server {self.owner!r} no longer holds the job's lease with "
                f"{self.margin:g} s to spare, so it must not act on the job"
            )

    def claim(self, name: str) -> None:
        """Take (or renew) the lease of the one job ``name``: what a command that drives a
        single job does (``tuneyard run``, ``tuneyard jobs resume``). A lease whose holder was a
        process of this machine that has ended (:func:`owner_is_gone`: a ``tuneyard run``
        killed with SIGKILL) is taken over at once instead of when it expires.

        Raises:
            FailedPrecondition: another owner holds the job's unexpired lease (a server drives
                it); the message names the holder.
        """
        asked = self._clock()
        holder = self.store.claim_job(name, self.owner, self.seconds)
        if holder is not None and owner_is_gone(holder):
            logger.info("%s: its lease holder %s has ended: taking the job over", name, holder)
            holder = self.store.claim_job(name, self.owner, self.seconds, replacing=holder)
        if holder is not None:
            raise FailedPrecondition(
                f"job {name} is driven by {holder!r} (it holds the job's lease); a job is "
                "driven by one process at a time: watch it with `tuneyard jobs describe`, or "
                "stop that process first (a server stopped cleanly releases its jobs at once, "
                "else they are free when its lease expires)"
            )
        self._trusted_until[name] = asked + self.seconds
        self._asked = asked

    def create_job(
        self, project: str, location: str, job: HyperparameterTuningJob
    ) -> HyperparameterTuningJob:
        """Store a new job whose lease this owner holds from the start, so no server takes it
        before :meth:`claim` could (``Store.create_job(lease=...)``)."""
        asked = self._clock()
        created = self.store.create_job(project, location, job, lease=(self.owner, self.seconds))
        self._trusted_until[created.name] = asked + self.seconds
        self._asked = asked
        return created

    def release(self) -> None:
        """Give up every lease (on a clean stop): other servers take the jobs over at once."""
        self._trusted_until.clear()
        self.store.release_leases(self.owner)

    def _lease(self, states: Sequence[JobState], claim: int) -> list[str]:
        asked = self._clock()
        names = self.store.lease_jobs(self.owner, self.seconds, states=states, claim=claim)
        for name in names:
            if name not in self._trusted_until:
                logger.info("%s: this server (%s) now drives the job", name, self.owner)
        for name in self._trusted_until.keys() - set(names):
            logger.info(
                "%s: this server no longer drives the job (it ended, or another "
                "server took it over)",
                name,
            )
        self._trusted_until = dict.fromkeys(names, asked + self.seconds)
        self._asked = asked
        return names
