"""The Ray side of the Ray executor: creating, finding, calling, watching and killing actors.

Everything that talks to Ray goes through :class:`ActorPool`, so :mod:`tuneyard.runtime.ray` reads
as the trial's life cycle. Calls to several actors are issued together and then collected, one
round trip for all; each result is the actor's answer or the exception it ended in (never
raised), so one lost replica does not hide what the others said.

A new actor costs a Ray worker process (about a second of CPU before it answers), so an actor
whose replica ended cleanly is kept for :data:`IDLE_SECONDS` and handed to the next replica that
asks for exactly the same resources: it is already placed, so that replica starts at once. Idle
actors still hold their resources; they are killed when they expire, or as soon as a replica
asking for other resources is created (which may need what they hold).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

from tuneyard.errors import FailedPrecondition
from tuneyard.runtime.ray_replica import ReplicaActor
from tuneyard.runtime.ray_resources import RESOURCES_ENV, Resources

logger = logging.getLogger(__name__)

ACTOR_THREADS = 4
"""Concurrent calls an actor serves: a ``wait_exit`` blocks one, polls and logs use others."""
WAIT_EXIT_SECONDS = 30.0
CALL_TIMEOUT_SECONDS = 10.0
START_TIMEOUT_SECONDS = 1800.0
"""Starting a replica may build its python package's environment first."""
NODES_TTL_SECONDS = 5.0
IDLE_SECONDS = 5.0
"""How long an actor whose replica ended waits to be reused before it is killed."""


class ActorLost(Exception):
    """The named actor does not exist (any more)."""


class ActorPool:
    """The actors of one executor, by name, in one Ray namespace."""

    def __init__(self, ray: ModuleType, namespace: str, strategy: str) -> None:
        self.ray = ray
        self.namespace = namespace
        self.strategy = strategy
        self._remote = ray.remote(ReplicaActor)
        self._actors: dict[str, Any] = {}
        self._where: dict[str, Any] = {}
        self._watch: dict[str, Any] = {}
        self._nodes: tuple[float, list[Resources]] = (0.0, [])
        self._idle: dict[str, tuple[tuple[tuple[str, float], ...], float]] = {}

    # -- creating --------------------------------------------------------------------------

    def check_fits(self, resources: Resources, field: str) -> None:
        """Raise FailedPrecondition when no live node has ``resources``: Ray would keep such an
        actor pending for ever."""
        checked, nodes = self._nodes
        if time.monotonic() - checked > NODES_TTL_SECONDS:
            nodes = [dict(n["Resources"]) for n in self.ray.nodes() if n.get("Alive")]
            self._nodes = (time.monotonic(), nodes)
        if any(all(node.get(k, 0.0) >= v for k, v in resources.items()) for node in nodes):
            return
        largest = [{k: v for k, v in n.items() if k in resources} for n in nodes]
        raise FailedPrecondition(
            f"{field}: a replica asks Ray for {resources}, which no node of the Ray cluster has "
            f"(its nodes have {largest}); map the machine type to fewer resources in "
            f"${RESOURCES_ENV} or add a node"
        )

    def create(self, resources: Resources) -> str:
        """A placed-or-pending actor with ``resources`` (an idle one when one has exactly
        those); its name. Where it was placed is asked at once (see :meth:`where`)."""
        shape = tuple(sorted(resources.items()))
        name = next((n for n, (s, _) in self._idle.items() if s == shape), None)
        if name is not None:
            del self._idle[name]
        else:
            self.expire_idle(everything=True)  # they may hold what the new actor needs
            name = f"tuneyard-{uuid.uuid4().hex}"
            custom = {k: v for k, v in resources.items() if k not in ("CPU", "GPU")}
            self._actors[name] = self._remote.options(
                name=name,
                namespace=self.namespace,
                lifetime="detached",
                num_cpus=resources.get("CPU", 0.0),
                num_gpus=resources.get("GPU", 0.0),
                resources=custom,
                max_concurrency=ACTOR_THREADS,
                max_restarts=0,
                scheduling_strategy=self.strategy,
            ).remote()
        self._where[name] = self._watch[name] = self._actors[name].where.remote()
        return name

    def release(self, names: Sequence[str], resources: Sequence[Resources]) -> None:
        """Keep the actors of replicas that ended (and were stopped) for reuse."""
        answers = self.call_each(names, "reset")
        now = time.monotonic()
        for name, answer, wanted in zip(names, answers, resources, strict=True):
            self._where.pop(name, None)
            self._watch.pop(name, None)
            if isinstance(answer, Exception):
                self.kill([name])
            else:
                self._idle[name] = (tuple(sorted(wanted.items())), now)

    def expire_idle(self, *, everything: bool = False) -> None:
        """Kill idle actors that waited :data:`IDLE_SECONDS` (or all of them)."""
        now = time.monotonic()
        expired = [n for n, (_, t) in self._idle.items() if everything or now - t > IDLE_SECONDS]
        for name in expired:
            del self._idle[name]
        self.kill(expired)

    def _actor(self, name: str) -> Any:
        actor = self._actors.get(name)
        if actor is None:
            try:
                actor = self.ray.get_actor(name, namespace=self.namespace)
            except ValueError as error:
                raise ActorLost(f"the Ray actor {name} no longer exists") from error
            self._actors[name] = actor
        return actor

    # -- calling ------------------------------------------------------------------------------

    def where(self, names: Sequence[str]) -> list[dict[str, Any] | Exception] | None:
        """Where each actor was placed, or the error it ended in; None until all are placed."""
        refs: list[Any] = []
        for name in names:
            ref = self._where.get(name)
            if ref is None:  # re-attached after a restart: ask again (the answer is the same)
                try:
                    ref = self._where[name] = self._watch[name] = self._actor(name).where.remote()
                except ActorLost as error:
                    ref = error
            refs.append(ref)
        pending = [r for r in refs if not isinstance(r, Exception)]
        ready, _ = self.ray.wait(pending, num_returns=len(pending), timeout=0)
        if len(ready) < len(pending):
            return None
        for name in names:
            self._where.pop(name, None)
        return [r if isinstance(r, Exception) else self._get(r, 0.0) for r in refs]

    def start(self, calls: Sequence[tuple[str, Any, str, Any, int]]) -> list[Any]:
        """``ReplicaActor.start`` on each ``(actor, launch, replica, addresses, attempt)``."""
        refs = [self._actor(name).start.remote(*args) for name, *args in calls]
        return [self._get(ref, START_TIMEOUT_SECONDS) for ref in refs]

    def call_each(
        self, names: Sequence[str], method: str, *args: Any, timeout: float = CALL_TIMEOUT_SECONDS
    ) -> list[Any]:
        """Call ``method(*args)`` on every actor at once; each answer or exception, in order."""
        refs: list[Any] = []
        for name in names:
            try:
                refs.append(getattr(self._actor(name), method).remote(*args))
            except ActorLost as error:
                refs.append(error)
        deadline = time.monotonic() + timeout
        return [
            r if isinstance(r, Exception) else self._get(r, max(deadline - time.monotonic(), 0))
            for r in refs
        ]

    def _get(self, ref: Any, timeout: float) -> Any:
        exceptions = self.ray.exceptions
        try:
            return self.ray.get(ref, timeout=timeout)
        except exceptions.RayTaskError as error:  # the method raised: its own exception
            cause = error.cause if isinstance(error.cause, Exception) else error
            return cause
        except (exceptions.RayError, ValueError) as error:
            return error

    def is_lost(self, error: object) -> bool:
        """True for an actor that is dead for good (not just unreachable for now)."""
        return isinstance(error, ActorLost | self.ray.exceptions.ActorDiedError)

    # -- watching and ending ------------------------------------------------------------------

    def watch_exit(self, name: str) -> None:
        """Let :meth:`wait` wake up when the actor's replica exits (or the actor dies)."""
        if name not in self._watch:
            with contextlib.suppress(ActorLost):
                self._watch[name] = self._actor(name).wait_exit.remote(WAIT_EXIT_SECONDS)

    def wait(self, timeout: float) -> None:
        """Block until a watched replica exits or is placed, or ``timeout`` passes."""
        if self._idle:
            self.expire_idle()
        if not self._watch:
            time.sleep(max(timeout, 0.0))
            return
        refs = {ref: name for name, ref in self._watch.items()}
        ready, _ = self.ray.wait(list(refs), num_returns=1, timeout=max(timeout, 0.0))
        for ref in ready:
            self._watch.pop(refs[ref], None)

    def kill(self, names: Iterable[str]) -> None:
        """Kill the actors (their watchdogs end whatever of their replicas still runs)."""
        for name in names:
            self._where.pop(name, None)
            self._watch.pop(name, None)
            try:
                actor = self._actor(name)
            except ActorLost:
                continue
            self._actors.pop(name, None)
            try:
                self.ray.kill(actor, no_restart=True)
            except (self.ray.exceptions.RayError, ValueError) as error:
                logger.info("could not kill %s: %s", name, error)
