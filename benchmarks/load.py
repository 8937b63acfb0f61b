"""API load: N concurrent clients doing create / get / list against one busy ``tuneyard serve``.

Starts one real server process on a free port of 127.0.0.1 with a fresh TUNEYARD_HOME, submits
``--jobs`` toy jobs (each runs tests/trainers/toy.py), then runs ``--clients`` threads for
``--seconds``, each with its own keep-alive connection, picking create, get or list at random.
Any non-2xx answer or transport failure counts as an error. Prints a markdown table of
throughput and p50 / p99 latency per operation; then cancels the unfinished jobs and stops the
server with SIGTERM.

    python benchmarks/load.py [--clients 8] [--seconds 20] [--jobs 100]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

REPO = Path(__file__).resolve().parents[1]
TOY = REPO / "tests" / "trainers" / "toy.py"
PROJECT = "bench"
LOCATION = "us-central1"
JOBS_PATH = f"/v1/projects/{PROJECT}/locations/{LOCATION}/hyperparameterTuningJobs"
OPERATIONS = ("create", "get", "list")
ENDED = {
    "JOB_STATE_SUCCEEDED",
    "JOB_STATE_FAILED",
    "JOB_STATE_CANCELLED",
    "JOB_STATE_EXPIRED",
}


def job_body(name: str, *, args: list[str], max_trials: int) -> dict[str, Any]:
    """A toy job: RANDOM_SEARCH over x (double 0..1) and n (integer 1..8), maximize score."""
    return {
        "displayName": name,
        "studySpec": {
            "metrics": [{"metricId": "score", "goal": "MAXIMIZE"}],
            "parameters": [
                {
                    "parameterId": "x",
                    "doubleValueSpec": {"minValue": 0.0, "maxValue": 1.0},
                    "scaleType": "UNIT_LINEAR_SCALE",
                },
                {"parameterId": "n", "integerValueSpec": {"minValue": "1", "maxValue": "8"}},
            ],
            "algorithm": "RANDOM_SEARCH",
        },
        "maxTrialCount": max_trials,
        "parallelTrialCount": 1,
        "trialJobSpec": {
            "workerPoolSpecs": [
                {
                    "machineSpec": {"machineType": "n1-standard-4"},
                    "replicaCount": "1",
                    "containerSpec": {
                        "imageUri": "python:3.11",
                        "command": [sys.executable, str(TOY)],
                        "args": args,
                    },
                }
            ]
        },
    }


@dataclass
class Server:
    """A running ``tuneyard serve`` process."""

    url: str
    home: Path
    process: subprocess.Popen[bytes]
    log: IO[bytes]


@dataclass
class Tally:
    """Latencies (seconds) and error count of one operation."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    samples: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(home: Path, timeout: float = 30.0) -> Server:
    """Start the server and wait until it answers."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("TUNEYARD_DATABASE_URL", "TUNEYARD_TOKEN")
    }
    env["TUNEYARD_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tuneyard.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.close()
            raise SystemExit(f"server exited: {(home / 'server.log').read_text()}")
        try:
            httpx.get(f"{url}/openapi.json", timeout=1)
            return Server(url, home, process, log)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    log.close()
    raise SystemExit(f"server did not answer within {timeout:.0f} s")


def stop_server(server: Server) -> int:
    """SIGTERM the server and wait for it; kill it if it does not exit within 30 s."""
    server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        return server.process.wait()
    finally:
        server.log.close()


def all_jobs(client: httpx.Client) -> Iterator[dict[str, Any]]:
    """Every job of the project (name and state only), page by page."""
    token = ""
    while True:
        params = {"pageSize": "1000", "readMask": "name,state"}
        if token:
            params["pageToken"] = token
        answer = client.get(JOBS_PATH, params=params)
        answer.raise_for_status()
        page: dict[str, Any] = answer.json()
        yield from page.get("hyperparameterTuningJobs", [])
        token = page.get("nextPageToken", "")
        if not token:
            return


def count_states(client: httpx.Client) -> dict[str, int]:
    counts: dict[str, int] = {}
    for job in all_jobs(client):
        state = str(job.get("state", "?"))
        counts[state] = counts.get(state, 0) + 1
    return counts


def client_loop(
    url: str, stop_at: float, ids: list[str], lock: threading.Lock, seed: int
) -> dict[str, Tally]:
    """One client: its own keep-alive connection, random operations until ``stop_at``."""
    rng = random.Random(seed)
    tallies = {op: Tally() for op in OPERATIONS}
    small = job_body("load-small", args=["--steps=1"], max_trials=1)
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.monotonic() < stop_at:
            op = rng.choice(OPERATIONS)
            with lock:
                job_id = rng.choice(ids)
            started = time.perf_counter()
            try:
                if op == "create":
                    answer = client.post(JOBS_PATH, json=small)
                elif op == "get":
                    answer = client.get(f"{JOBS_PATH}/{job_id}")
                else:
                    params = {"pageSize": "20"}
                    if rng.random() < 0.3:
                        params["filter"] = 'state="JOB_STATE_RUNNING"'
                    answer = client.get(JOBS_PATH, params=params)
                elapsed = time.perf_counter() - started
                ok = answer.is_success
                detail = f"HTTP {answer.status_code}: {answer.text[:200]}"
            except httpx.HTTPError as error:
                elapsed = time.perf_counter() - started
                ok = False
                detail = f"{type(error).__name__}: {error}"
            tally = tallies[op]
            tally.latencies.append(elapsed)
            if not ok:
                tally.errors += 1
                if len(tally.samples) < 3:
                    tally.samples.append(detail)
            elif op == "create":
                new_id = str(answer.json()["name"]).rsplit("/", 1)[1]
                with lock:
                    ids.append(new_id)
    return tallies


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    rank = max(1, int(fraction * len(ordered) + 0.999999))
    return ordered[min(rank, len(ordered)) - 1]


def leftover_trainers(home: Path) -> list[int]:
    """Pids of live processes started with this run's TUNEYARD_HOME (trainers and the like)."""
    marker = f"TUNEYARD_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def run(clients: int, seconds: float, jobs: int, workdir: Path) -> int:
    server = start_server(workdir / "home")
    tallies: dict[str, Tally] = {op: Tally() for op in OPERATIONS}
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            ids: list[str] = []
            body = job_body("load", args=["--steps=3", "--sleep=0.2"], max_trials=3)
            for index in range(jobs):
                body["displayName"] = f"load-{index}"
                answer = client.post(JOBS_PATH, json=body)
                answer.raise_for_status()
                ids.append(str(answer.json()["name"]).rsplit("/", 1)[1])
            before = count_states(client)
            lock = threading.Lock()
            stop_at = time.monotonic() + seconds
            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                results = list(
                    pool.map(
                        lambda seed: client_loop(server.url, stop_at, ids, lock, seed),
                        range(clients),
                    )
                )
            wall = time.perf_counter() - started
            after = count_states(client)
            for result in results:
                for op, tally in result.items():
                    tallies[op].latencies.extend(tally.latencies)
                    tallies[op].errors += tally.errors
                    tallies[op].samples.extend(tally.samples)
            report(clients, seconds, jobs, wall, before, after, tallies)
            cancelled, unended = cancel_unfinished(client)
            print(f"\ncancelled {cancelled} unfinished job(s); {unended} not ended after the wait")
    finally:
        status = stop_server(server)
        leftovers = leftover_trainers(server.home)
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    print(f"\nserver exit status {status}; {len(leftovers)} leftover trainer process(es) killed")
    errors = sum(tally.errors for tally in tallies.values())
    return 1 if errors or status != 0 else 0


def cancel_unfinished(client: httpx.Client, wait: float = 20.0) -> tuple[int, int]:
    """Cancel every job not ended yet and wait (bounded) for them to end.

    Returns how many were cancelled and how many had still not ended when the wait was over.
    """
    names = [str(job["name"]) for job in all_jobs(client) if job.get("state") not in ENDED]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: client.post(f"/v1/{name}:cancel"), names))
    deadline = time.monotonic() + wait
    while True:
        unended = sum(1 for job in all_jobs(client) if job.get("state") not in ENDED)
        if not unended or time.monotonic() >= deadline:
            return len(names), unended
        time.sleep(0.5)


def report(
    clients: int,
    seconds: float,
    jobs: int,
    wall: float,
    before: dict[str, int],
    after: dict[str, int],
    tallies: dict[str, Tally],
) -> None:
    running = "JOB_STATE_RUNNING"
    print(
        f"{clients} clients for {seconds:g} s ({wall:.1f} s measured) against one "
        f"`tuneyard serve` on {os.cpu_count()} CPU(s), after submitting {jobs} jobs; "
        f"jobs running at start: {before.get(running, 0)}, at end: {after.get(running, 0)} "
        f"(states at end: {', '.join(f'{k}={v}' for k, v in sorted(after.items()))})\n"
    )
    print("| operation | requests | throughput (req/s) | p50 (ms) | p99 (ms) | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    total = Tally()
    for op in OPERATIONS:
        tally = tallies[op]
        total.latencies.extend(tally.latencies)
        total.errors += tally.errors
        print(row(op, tally, wall))
    print(row("**total**", total, wall))
    for op in OPERATIONS:
        for sample in tallies[op].samples[:3]:
            print(f"\nerror sample ({op}): {sample}")


def row(name: str, tally: Tally, wall: float) -> str:
    count = len(tally.latencies)
    if not count:
        return f"| {name} | 0 | 0.0 | - | - | {tally.errors} |"
    p50 = percentile(tally.latencies, 0.50) * 1000
    p99 = percentile(tally.latencies, 0.99) * 1000
    return f"| {name} | {count} | {count / wall:.1f} | {p50:.1f} | {p99:.1f} | {tally.errors} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration (default 20)")
    parser.add_argument("--jobs", type=int, default=100, help="jobs submitted first (default 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tuneyard-load-") as workdir:
        return run(args.clients, args.seconds, args.jobs, Path(workdir))


if __name__ == "__main__":
    sys.exit(main())
