"""A trainer for the runtime tests: strict flags, records what it was given, reports for real.

Every replica writes ``<AIP_MODEL_DIR>/<workerpoolN-i>.json`` (argv, cwd, environment) without
creating the folder first, as trainers that read ``AIP_MODEL_DIR`` at import do. What it does next
depends on its role: ``--primary`` for workerpool0-0, ``--others`` for every other replica.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

MODEL_DIR = os.environ["AIP_MODEL_DIR"]  # at import: a KeyError when the contract is broken

BEHAVIOURS = ["exit", "crash", "hang", "ignore-term", "fail", "fail-first", "kill-self", "report"]


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()  # strict: an unknown flag exits with status 2
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--units", type=int, default=4)
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--primary", choices=BEHAVIOURS, default="exit")
    parser.add_argument("--others", choices=BEHAVIOURS, default="exit")
    parser.add_argument("--reports", type=int, default=0)
    parser.add_argument("--report-sleep", type=float, default=0.0)
    parser.add_argument("--sleep", type=float, default=0.0, help="before exiting")
    parser.add_argument("--exit-code", type=int, default=0)
    parser.add_argument("--markers", default="", help="a folder for start markers")
    parser.add_argument("--await-peers", action="store_true", help="primary: wait for all")
    return parser.parse_args()


def report(count: int, pause: float) -> None:
    import hypertune

    reporter = hypertune.HyperTune()
    for step in range(1, count + 1):
        reporter.report_hyperparameter_tuning_metric("accuracy", step / 1000, global_step=step)
        time.sleep(pause)


def await_peers(cluster: dict[str, list[str]]) -> None:
    """Wait until every replica in the cluster has written its record."""
    names = [f"{pool}-{i}" for pool, addresses in cluster.items() for i in range(len(addresses))]
    deadline = time.monotonic() + 20
    while not all(Path(MODEL_DIR, f"{n}.json").exists() for n in names):
        if time.monotonic() > deadline:
            raise TimeoutError("peers did not start")
        time.sleep(0.01)


def main() -> int:
    args = parse()
    task = json.loads(os.environ["CLUSTER_SPEC"])["task"]
    name = f"{task['type']}-{task['index']}"
    env = {k: v for k, v in os.environ.items() if k.isupper()}
    markers = Path(args.markers) if args.markers else None
    if markers is not None:
        with open(markers / f"{name}.starts", "a") as starts:
            starts.write(f"{os.getpid()}\n")
    outputs = ("AIP_MODEL_DIR", "AIP_CHECKPOINT_DIR", "AIP_TENSORBOARD_LOG_DIR")
    record = {
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "cwd_entries": sorted(os.listdir()),  # before the trainer writes anything there
        "env": env,
        "pid": os.getpid(),
        "folders": {name: os.path.isdir(os.environ[name]) for name in outputs},
        "outputs": {name: sorted(os.listdir(os.environ[name])) for name in outputs[1:]},
    }
    Path(MODEL_DIR, f"{name}.json").write_text(json.dumps(record))
    Path("scratch.txt").write_text(name)  # in the working directory, as trainers do
    behaviour = args.primary if name == "workerpool0-0" else args.others
    if args.await_peers and name == "workerpool0-0":
        await_peers(json.loads(os.environ["CLUSTER_SPEC"])["cluster"])
    if behaviour == "fail-first":
        assert markers is not None
        first = not (markers / f"{name}.failed").exists()
        (markers / f"{name}.failed").touch()
        behaviour = "fail" if first else "hang"
    if behaviour == "crash":
        raise RuntimeError(f"boom in {name}")
    if behaviour == "fail":
        print(f"{name} is failing on purpose", file=sys.stderr)
        return 1
    if behaviour == "kill-self":
        os.kill(os.getpid(), signal.SIGKILL)
    if behaviour == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        if markers is not None:
            (markers / f"{name}.child").write_text(str(child.pid))
        behaviour = "hang"
    report(args.reports, args.report_sleep)
    if behaviour == "hang":
        time.sleep(600)
    time.sleep(args.sleep)
    print(f"{name} done")
    return int(args.exit_code)


if __name__ == "__main__":
    sys.exit(main())
