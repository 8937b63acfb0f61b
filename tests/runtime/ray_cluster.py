"""A real two-node Ray cluster on this machine for the Ray executor tests.

The head runs on the loopback alias 127.0.0.2 and a worker on 127.0.0.3 (Ray does not honour
127.0.0.1 as a node address), each with 2 CPUs, a custom resource naming it (``node_head`` /
``node_worker``) so a test can pin a replica to a node, and its own ``TUNEYARD_HOME``, so nothing
works through a file system shared with the engine by accident. Each node is started with
``ray start`` in a session of its own; every Ray process of the node (raylet, agents, workers)
stays in that session, which is how a node is killed or stopped here: only the processes of the
sessions this fixture started are signalled, never ``ray stop`` (which stops every Ray on the
machine). Health checks are tightened so that a killed node is declared dead in a few seconds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HEAD_IP = "127.0.0.2"
WORKER_IP = "127.0.0.3"
RAY = str(Path(sys.executable).parent / "ray")
RAY_ENV = {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    # A killed node is declared dead after ~3 missed checks of 0.5 s (default: 5 of 3 s).
    "RAY_health_check_initial_delay_ms": "500",
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "3",
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def session_processes(sid: int) -> list[int]:
    """Live processes of session ``sid`` (zombies do not count)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            data = Path(entry.path, "stat").read_bytes()
        except OSError:
            continue
        fields = data[data.rindex(b")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] not in (b"Z", b"X"):
            found.append(int(entry.name))
    return found


@dataclass
class Node:
    name: str
    ip: str
    home: Path
    sid: int = 0


class RayCluster:
    """Start, kill and stop the nodes of one local test cluster."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port(HEAD_IP)
        self.address = f"{HEAD_IP}:{self.port}"
        self.nodes: dict[str, Node] = {}
        self.sids: list[int] = []

    def start(self, name: str, ip: str) -> Node:
        """Start a node (the head when none runs yet); wait until it has joined."""
        node = Node(name, ip, self.root / f"home-{name}")
        node.home.mkdir(parents=True, exist_ok=True)
        args = [
            f"--node-ip-address={ip}",
            "--num-cpus=2",
            f'--resources={{"node_{name}": 10}}',
            "--disable-usage-stats",
            f"--dashboard-agent-listen-port={free_port(ip)}",
            f"--metrics-export-port={free_port(ip)}",
        ]
        if not self.nodes:
            args += [
                "--head",
                f"--port={self.port}",
                "--include-dashboard=false",
                f"--ray-client-server-port={free_port(ip)}",
                f"--temp-dir={self.root}",
            ]
        else:
            args.append(f"--address={self.address}")
        env = {**os.environ, **RAY_ENV, "TUNEYARD_HOME": str(node.home)}
        log = open(self.root / f"start-{name}.log", "ab")  # noqa: SIM115 - closed below
        with log:
            process = subprocess.Popen(
                [RAY, "start", *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            node.sid = process.pid
            self.sids.append(process.pid)
            code = process.wait(timeout=180)
        if code != 0:
            text = (self.root / f"start-{name}.log").read_text(errors="replace")[-3000:]
            pytest.fail(f"ray start ({name}) failed with {code}:\n{text}", pytrace=False)
        self.nodes[name] = node
        return node

    def kill(self, name: str) -> None:
        """SIGKILL every process of the node (as if its machine died)."""
        node = self.nodes.pop(name)
        for pid in session_processes(node.sid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM the processes of every node started here, SIGKILL what is left after 5 s."""
        for sid in self.sids:
            for pid in session_processes(sid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while any(session_processes(s) for s in self.sids) and time.monotonic() < deadline:
            time.sleep(0.1)
        for sid in self.sids:
            for pid in session_processes(sid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """A head and a worker node, this test session's own; this process is its Ray driver."""
    import ray

    root = Path(tempfile.mkdtemp(prefix="tyr-", dir="/tmp"))  # short: Ray's socket paths
    saved = {k: os.environ.get(k) for k in RAY_ENV}
    os.environ.update(RAY_ENV)
    cluster = RayCluster(root)
    try:
        cluster.start("head", HEAD_IP)
        cluster.start("worker", WORKER_IP)
        ray.init(
            address=cluster.address,
            namespace="tuneyard-test",
            log_to_driver=False,
            configure_logging=False,
        )
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(root, ignore_errors=True)
