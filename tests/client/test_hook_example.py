"""The issue's acceptance test: ``examples/hook_example.py``, which uses only the hook's
documented methods, tunes the bundled example to SUCCEEDED against ``tuneyard serve``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.api.conftest import Server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hook_example.py"


def test_the_hook_example_tunes_the_bundled_trainer_to_succeeded(
    server: Server, tmp_path: Path
) -> None:
    env = dict(os.environ, TUNEYARD_API_ENDPOINT=server.url)
    env.pop("TUNEYARD_TOKEN", None)
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--max-trial-count=2", "--epochs=3"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith(": JOB_STATE_SUCCEEDED")
    assert lines[1].startswith("best trial ") and "learning_rate" in lines[1]
    accuracy = float(lines[1].split("accuracy ")[1].split()[0])
    assert 0.1 < accuracy <= 1.0
    assert lines[2] == "jobs labelled example=hook: 1"
    assert lines[3].startswith("deleted projects/demo/locations/us-central1/")
    # The trials really trained: each saved its model under the job's output directory.
    models = sorted(
        (server.home / "buckets" / "tuneyard-examples" / "digits-mlp-hook").glob(
            "*/model/model.pkl"
        )
    )
    assert [m.parent.parent.name for m in models] == ["1", "2"]
