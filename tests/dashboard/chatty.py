"""A trainer that talks: prints a line per step (the dashboard shows the log tail) and reports
``score`` with the real cloudml-hypertune, best at ``--x`` = 0.3."""

from __future__ import annotations

import argparse
import sys
import time

import hypertune


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--x", type=float, default=0.5)
    parser.add_argument("--n", type=int, default=1)
    args = parser.parse_args()
    reporter = hypertune.HyperTune()
    print(f"training with x={args.x} n={args.n}", flush=True)
    for step in range(1, args.steps + 1):
        time.sleep(args.sleep)
        score = -((args.x - 0.3) ** 2) - 0.01 * abs(args.n - 4) + 0.05 * step
        print(f"step {step}/{args.steps}: score={score:.4f}", flush=True)
        reporter.report_hyperparameter_tuning_metric(
            hyperparameter_metric_tag="score", metric_value=score, global_step=step
        )
    print("done", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
