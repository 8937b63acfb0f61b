"""A trainer for the hook tests: records what it was given, reports ``score`` and ``loss``.

Every flag is accepted (``--name=value``) and written, with the ``AIP_*`` directories it was
given, to ``$AIP_MODEL_DIR/given.json``, so a test can check what reached the trial. ``--sleep``
makes it run that many seconds first (for cancellation); ``--fail`` makes it exit 1.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import hypertune


def main() -> int:
    flags = dict(arg.removeprefix("--").split("=", 1) for arg in sys.argv[1:] if "=" in arg)
    time.sleep(float(flags.get("sleep", 0)))
    if flags.get("fail"):
        return 1
    given = {
        "flags": flags,
        "env": {k: v for k, v in os.environ.items() if k.startswith(("AIP_", "CLOUD_ML_"))},
        "dirs": {
            k: Path(os.environ[k]).is_dir()
            for k in ("AIP_MODEL_DIR", "AIP_CHECKPOINT_DIR", "AIP_TENSORBOARD_LOG_DIR")
        },
    }
    Path(os.environ["AIP_MODEL_DIR"], "given.json").write_text(json.dumps(given))
    x = float(flags.get("x", 0.5))
    reporter = hypertune.HyperTune()
    for step in (1, 2):
        reporter.report_hyperparameter_tuning_metric(
            hyperparameter_metric_tag="score", metric_value=x * step, global_step=step
        )
        reporter.report_hyperparameter_tuning_metric(
            hyperparameter_metric_tag="loss", metric_value=1 - x, global_step=step
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
