"""The Ray executor: every replica of a trial runs on a Ray cluster, placed by its resources.

Each replica is a named, detached Ray actor (:mod:`tuneyard.runtime.ray_replica`) that asks for
the resources of the pool's ``machineSpec`` (:mod:`tuneyard.runtime.ray_resources`), so Ray puts
it on a node where it fits; with the default ``SPREAD`` strategy parallel trials spread over the
nodes. Once every replica of a trial is placed, each starts its process on its node under the
trial contract, with ``CLUSTER_SPEC`` / ``TF_CONFIG`` naming every replica's node address. The
engine needs no file system in common with the nodes: it pulls metric reports (parsed on the node
by :mod:`tuneyard.runtime.metrics`) and logs from the actors, and copies each replica's logs into
``$TUNEYARD_HOME/jobs/.../trials/<id>/<replica>.log`` on its own machine when the trial ends.

What happens when things go wrong:

- A node dies: its actors die, Ray reports them dead (after its health checks give up on the
  node), and the replicas count as failed without an exit status; the trial fails, or with
  ``restart_job_on_worker_restart`` all its replicas restart on the nodes left.
- ``cancel`` and ``scheduling.timeout``: each actor stops its replica's process group (SIGTERM,
  SIGKILL after the grace period) and is then killed; an actor that cannot be reached is killed
  and its watchdog ends the processes on the node.
- The engine restarts: the actors are detached, so trials go on; the new engine finds them by
  the names in the handles. A handle whose actors no longer exist (the trial's node died, or the
  cluster was restarted meanwhile) is a lost trial, treated as a worker failure as above.
- An actor that ends while no engine polls it keeps its resources until an engine polls the
  trial again (then the trial's end is recorded and the actor released).

Example:
    >>> executor = RayExecutor("10.0.0.2:6379")  # doctest: +SKIP
    >>> handle = executor.launch(TrialLaunch(job, "1", {"lr": 0.01}))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from tuneyard.errors import FailedPrecondition, InvalidArgument, Unavailable
from tuneyard.runtime import contract
from tuneyard.runtime.base import Executor, TrialHandle, TrialLaunch, TrialProgress
from tuneyard.runtime.outcome import Verdict
from tuneyard.runtime.ray_actors import ActorPool
from tuneyard.runtime.ray_handle import RayHandle, RayReplica
from tuneyard.runtime.ray_outcome import ReplicaSeen, decide, lost_message, merge_reports
from tuneyard.runtime.ray_resources import Resources, env_overrides, replica_resources
from tuneyard.runtime.trialdir import job_dir, tail, trial_dir

logger = logging.getLogger(__name__)

INSTALL_HINT = "the Ray executor needs Ray: pip install 'tuneyard[ray]'"
NAMESPACE = "tuneyard"
KEPT_LOG_BYTES = 1 << 20
"""How much of each replica's stdout and of its stderr is copied to the engine at its end."""


def import_ray() -> ModuleType:
    """The ``ray`` module, or FailedPrecondition naming the extra to install."""
    try:
        import ray
    except ImportError as error:
        raise FailedPrecondition(INSTALL_HINT) from error
    return ray


class RayExecutor(Executor):
    """Runs each replica of each trial as a Ray actor on a Ray cluster; see the module docstring.

    ``poll`` behaves as the local executor's: reports since ``since``, ``done`` once the primary
    replica exited or any replica failed (or was lost), restarts per
    ``restart_job_on_worker_restart`` with the new handle in ``TrialProgress.handle``, and
    ``extra`` with each replica's exit status, node and the restart count. A trial waiting for
    its replicas to be placed is running (Vertex shows such trials as active too). ``launch``
    raises ``FailedPrecondition`` when no node of the cluster has the resources a replica asks
    for.

    Args:
        address: the Ray cluster (``HOST:PORT`` of its head); None uses Ray's own default
            (``$RAY_ADDRESS``, a cluster started on this machine, or a new local one). Ignored
            when this process is already connected to Ray.
        resources: machine type to Ray resources, overriding the table
            (default ``$TUNEYARD_RAY_RESOURCES``).
        namespace: the Ray namespace of the actors.
        stop_grace_seconds: SIGTERM to SIGKILL for replicas stopped because the trial ended.
        max_restarts: how often ``restart_job_on_worker_restart`` restarts one trial.
        scheduling_strategy: Ray's strategy for the actors (``"SPREAD"`` or ``"DEFAULT"``).
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        resources: dict[str, Resources] | None = None,
        namespace: str = NAMESPACE,
        stop_grace_seconds: float = 5.0,
        max_restarts: int = 3,
        scheduling_strategy: str = "SPREAD",
    ) -> None:
        ray = import_ray()
        self.resources = resources if resources is not None else env_overrides()
        self.stop_grace_seconds = stop_grace_seconds
        self.max_restarts = max_restarts
        self._owns_connection = not ray.is_initialized()
        if self._owns_connection:
            try:
                ray.init(
                    address=address,
                    namespace=namespace,
                    log_to_driver=False,
                    configure_logging=False,
                )
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise Unavailable(
                    f"cannot connect to the Ray cluster at {address}: {error}"
                ) from error
        self.pool = ActorPool(ray, namespace, scheduling_strategy)
        self._cancelled: set[str] = set()

    # -- launch ----------------------------------------------------------------------------

    def launch(self, launch: TrialLaunch) -> TrialHandle:
        """Create the trial's actors (placed by Ray, started by a later poll); see the class."""
        job = launch.job
        folder = trial_dir(job_dir(job.name), launch.trial_id)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("workerpool*.log"):  # an earlier launch of this trial
            old.unlink()
        replicas = []
        for pool, index in contract.replicas(job.trial_spec):
            machine = job.trial_spec.worker_pool_specs[pool].machine_spec
            resources = replica_resources(machine, self.resources)
            self.pool.check_fits(resources, f"trialJobSpec.workerPoolSpecs[{pool}].machineSpec")
            replicas.append(RayReplica(contract.replica_name(pool, index), "", resources))
        if not replicas:
            raise InvalidArgument("trialJobSpec.workerPoolSpecs[0] is empty: nothing to run")
        scheduling = job.trial_spec.scheduling
        job_json = job.model_copy(update={"trials": []}).to_json_dict()
        handle = RayHandle(
            trial=f"{job.name}/trials/{launch.trial_id}",
            namespace=self.pool.namespace,
            attempt=0,
            restart_on_failure=bool(scheduling and scheduling.restart_job_on_worker_restart),
            started=False,
            log_dir=str(folder),
            launch={"job": job_json, "trial_id": launch.trial_id, "parameters": launch.parameters},
            replicas=tuple(replicas),
        )
        return self._create(handle, 0).to_json()

    def _create(self, handle: RayHandle, attempt: int) -> RayHandle:
        replicas = []
        for replica in handle.replicas:
            name = self.pool.create(replica.resources)
            replicas.append(RayReplica(replica.name, name, replica.resources))
        return handle.with_replicas(replicas, attempt=attempt, started=False)

    # -- poll --------------------------------------------------------------------------------

    def poll(self, handle: TrialHandle, since: float) -> TrialProgress:
        """New reports after ``since`` and, once the trial ended, how; see the class docstring."""
        ray_handle = RayHandle.from_json(handle)
        if ray_handle.trial in self._cancelled:
            return TrialProgress(done=True, exit_code=None, message="the trial was cancelled")
        newer: TrialHandle | None = None
        if ray_handle.started:
            seen = self._poll_replicas(ray_handle, since)
        else:
            placed = self._start_when_placed(ray_handle)
            if placed is None:
                return TrialProgress()  # waiting for Ray to place every replica
            ray_handle, failures = placed
            newer = ray_handle.to_json()
            seen = failures or self._poll_replicas(ray_handle, since)
        can_restart = ray_handle.restart_on_failure and ray_handle.attempt < self.max_restarts
        verdict = decide(seen, can_restart=can_restart)
        if verdict is None:
            reports, lost = merge_reports(seen)
            for replica in ray_handle.replicas:
                self.pool.watch_exit(replica.actor)
            return TrialProgress(reports, lost_reports=lost, handle=newer)
        return self._end(ray_handle, since, verdict, seen)

    def _start_when_placed(self, handle: RayHandle) -> tuple[RayHandle, list[ReplicaSeen]] | None:
        """Start every replica once all are placed: the started handle, and the replicas that
        failed to be placed or started (empty when all started); None while Ray places them."""
        places = self.pool.where([r.actor for r in handle.replicas])
        if places is None:
            return None
        failures = [
            ReplicaSeen(r.name, False, None, lost_message(r.name, "", str(place)), lost=True)
            for r, place in zip(handle.replicas, places, strict=True)
            if isinstance(place, Exception)
        ]
        if failures:
            return handle, failures
        replicas = [
            RayReplica(
                r.name, r.actor, r.resources, p["node_id"], p["node_ip"], p["hostname"], p["port"]
            )
            for r, p in zip(handle.replicas, places, strict=True)
            if isinstance(p, dict)
        ]
        addresses: dict[int, list[str]] = {}
        for replica in replicas:
            addresses.setdefault(replica.pool, []).append(replica.address)
        started = self.pool.start(
            [(r.actor, handle.launch, r.name, addresses, handle.attempt) for r in replicas]
        )
        seen: list[ReplicaSeen] = []
        for index, (replica, result) in enumerate(zip(replicas, started, strict=True)):
            if isinstance(result, Exception):
                message = f"{replica.name} could not start on {replica.node_ip}: {result}"
                seen.append(ReplicaSeen(replica.name, False, None, message))
            else:
                replicas[index] = RayReplica(**{**vars(replica), "pid": int(result["pid"])})
                seen.append(ReplicaSeen(replica.name, True))
        started_handle = handle.with_replicas(replicas, started=True)
        return started_handle, seen if any(s.failed for s in seen) else []

    def _poll_replicas(self, handle: RayHandle, since: float) -> list[ReplicaSeen]:
        can_restart = handle.restart_on_failure and handle.attempt < self.max_restarts
        restarts = 0 if can_restart else handle.attempt
        hold_back = len(handle.replicas) > 1
        answers = self.pool.call_each(
            [r.actor for r in handle.replicas], "poll", since, hold_back, restarts
        )
        seen = []
        for replica, answer in zip(handle.replicas, answers, strict=True):
            if isinstance(answer, dict):
                seen.append(ReplicaSeen.from_actor(replica.name, answer))
            elif self.pool.is_lost(answer):
                message = lost_message(
                    replica.name, replica.node_ip, str(answer), restarts=restarts
                )
                seen.append(ReplicaSeen(replica.name, False, None, message, lost=True))
            else:  # not answering for now: Ray tells later whether it is dead
                logger.info("%s: %s did not answer: %s", handle.trial, replica.name, answer)
                seen.append(ReplicaSeen(replica.name, True))
        return seen

    # -- the end of an attempt ----------------------------------------------------------------

    def _end(
        self, handle: RayHandle, since: float, verdict: Verdict, seen: list[ReplicaSeen]
    ) -> TrialProgress:
        """Stop what still runs, collect the last reports and the logs, release the actors; then
        restart the replicas or report the trial's end."""
        final = self._stop_attempt(handle, since, self.stop_grace_seconds)
        reports, lost = merge_reports(final or seen)
        if verdict.restart:
            attempt = handle.attempt + 1
            note = (
                f"---- tuneyard: {verdict.message}\n---- tuneyard: restarting every replica "
                f"(restart {attempt} of {self.max_restarts})\n"
            )
            self._append_logs(handle, {r.name: note for r in handle.replicas})
            restarted = self._create(handle, attempt)
            extra = {"restarts": attempt, "restart_reason": verdict.message}
            return TrialProgress(
                reports, lost_reports=lost, handle=restarted.to_json(), extra=extra
            )
        codes = {s.name: s.exit_code for s in seen}
        extra = {
            "replicas": codes,
            "nodes": {r.name: r.node_ip for r in handle.replicas},
            "restarts": handle.attempt,
        }
        return TrialProgress(
            reports,
            done=True,
            exit_code=verdict.exit_code,
            message=verdict.message,
            lost_reports=lost,
            extra=extra,
        )

    def _stop_attempt(
        self, handle: RayHandle, since: float, grace_seconds: float
    ) -> list[ReplicaSeen]:
        """Stop every replica, read its last reports and logs, kill its actor; the replicas as
        seen last (empty when the attempt never started)."""
        actors = [r.actor for r in handle.replicas]
        if not handle.started:
            self.pool.kill(actors)
            return []
        stopped = self.pool.call_each(actors, "stop", grace_seconds, timeout=grace_seconds + 20.0)
        answers = self.pool.call_each(actors, "poll", since, False, 0)
        logs = self.pool.call_each(actors, "logs", KEPT_LOG_BYTES)
        clean = [not isinstance(s, Exception) for s in stopped]
        self.pool.kill([a for a, ok in zip(actors, clean, strict=True) if not ok])
        kept = [r for r, ok in zip(handle.replicas, clean, strict=True) if ok]
        self.pool.release([r.actor for r in kept], [r.resources for r in kept])
        texts: dict[str, str] = {}
        final = []
        for replica, answer, log in zip(handle.replicas, answers, logs, strict=True):
            if isinstance(answer, dict):
                final.append(ReplicaSeen.from_actor(replica.name, answer))
            if isinstance(log, dict):
                out, err = log["stdout"], log["stderr"]
                texts[replica.name] = out + ("\n" if out and not out.endswith("\n") else "") + err
            else:
                texts[replica.name] = f"---- tuneyard: the logs on {replica.node_ip} are lost\n"
        self._append_logs(handle, texts)
        return final if len(final) == len(handle.replicas) else []

    @staticmethod
    def _append_logs(handle: RayHandle, texts: dict[str, str]) -> None:
        with contextlib.suppress(OSError):  # logs are a courtesy: never fail a trial's end
            handle.log_path.mkdir(parents=True, exist_ok=True)
            for name, text in texts.items():
                with open(handle.log_path / f"{name}.log", "a") as file:
                    file.write(text)

    # -- cancel, logs, wait ---------------------------------------------------------------------

    def cancel(self, handle: TrialHandle, grace_seconds: float = 10.0) -> None:
        """Stop every replica's process group on its node (SIGTERM, SIGKILL after
        ``grace_seconds``) and release the actors; later polls report the trial cancelled."""
        ray_handle = RayHandle.from_json(handle)
        self._cancelled.add(ray_handle.trial)
        self._stop_attempt(ray_handle, time.time(), grace_seconds)

    def read_logs(self, handle: TrialHandle, max_bytes: int = 65536) -> dict[str, str]:
        """Each replica's logs: those collected from ended attempts, then the running one's."""
        ray_handle = RayHandle.from_json(handle)
        live: list[Any] = [None] * len(ray_handle.replicas)
        if ray_handle.started and ray_handle.trial not in self._cancelled:
            actors = [r.actor for r in ray_handle.replicas]
            live = self.pool.call_each(actors, "logs", max_bytes, timeout=10.0)
        logs: dict[str, str] = {}
        for replica, now in zip(ray_handle.replicas, live, strict=True):
            text = tail(Path(ray_handle.log_dir, f"{replica.name}.log"), max_bytes)
            if isinstance(now, dict):
                text += now["stdout"] + now["stderr"]
            logs[replica.name] = text.encode()[-max_bytes:].decode(errors="ignore")
        return logs

    def wait(self, timeout: float) -> None:
        """Block until a replica exits or is placed, or ``timeout`` seconds pass."""
        self.pool.wait(timeout)

    def close(self) -> None:
        """Kill the idle actors and disconnect from Ray if this executor connected; the trials
        keep running."""
        self.pool.expire_idle(everything=True)
        if self._owns_connection:
            import_ray().shutdown()
