"""A toy trainer for engine tests: strict flags, reports with the real cloudml-hypertune."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import hypertune


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="ok", choices=["ok", "fail", "noreport", "hang", "crash"])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--fail-when", default="", help="fail when --kind equals this")
    parser.add_argument("--trace", default="", help="append start/end times to this file")
    parser.add_argument("--trace-pid", action="store_true", help="add the pid to trace lines")
    parser.add_argument("--x", type=float, default=0.5)
    parser.add_argument("--n", type=int, default=1)
    parser.add_argument("--kind", default="a")
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    trial = os.environ["CLOUD_ML_TRIAL_ID"]
    pid = f" {os.getpid()}" if args.trace_pid else ""
    if args.trace:
        with open(args.trace, "a") as trace:
            trace.write(f"start {trial} {time.time()}{pid}\n")
    Path(os.environ["AIP_MODEL_DIR"], "model.txt").write_text(f"trial {trial}\n")
    if args.mode == "crash":
        print("boom: the trainer crashed before reporting", file=sys.stderr)
        return 3
    if args.mode == "fail" or (args.fail_when and args.kind == args.fail_when):
        print(f"trial {trial} is failing on purpose", file=sys.stderr)
        return 1
    reporter = hypertune.HyperTune()
    for step in range(1, args.steps + 1):
        time.sleep(args.sleep)
        if args.mode == "hang":
            time.sleep(3600)
        if args.mode == "noreport":
            continue
        bonus = {1: 0.1, 2: 0.3}.get(step, 0.2)  # best at step 2, so BEST != LAST
        score = -((args.x - 0.3) ** 2) - 0.01 * abs(args.n - 4) + bonus
        reporter.report_hyperparameter_tuning_metric(
            hyperparameter_metric_tag="score", metric_value=score, global_step=step
        )
        reporter.report_hyperparameter_tuning_metric(
            hyperparameter_metric_tag="cost", metric_value=args.n * args.x, global_step=step
        )
    if args.trace:
        with open(args.trace, "a") as trace:
            trace.write(f"end {trial} {time.time()}{pid}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
