"""Reading the metric file cloudml-hypertune writes, while the trial still writes it.

``hypertune.HyperTune().report_hyperparameter_tuning_metric(tag, value, global_step)`` keeps its
last 100 reports in memory and, on every report, rewrites the whole file at
``$CLOUD_ML_HP_METRIC_FILE`` (mode ``"w"``: truncate, then write) as JSON lines like::

    {"accuracy": "0.75", "checkpoint_path": "", "global_step": "2", "timestamp": 17.2, "trial": "7"}

Values are strings; the metric is whichever key is not one of ``timestamp``, ``trial``,
``global_step`` and ``checkpoint_path``. Three consequences shape this module:

- The file must be read often while the trial runs: report 101 pushes report 1 out for ever.
  :func:`read_reports` says how many reports it could have missed (``lost``).
- A read can land between the truncate and the end of the write and see a prefix of the new
  content, with a half line at its end. Complete lines are still valid reports (the oldest ones),
  a torn line is skipped, and the rest is read at the next poll.
- Nothing here knows about processes, so any executor can read the file where the trial runs and
  ship the reports.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from tuneyard.runtime.base import MetricReport

logger = logging.getLogger(__name__)

MAX_REPORTS_KEPT = 100
"""How many reports cloudml-hypertune keeps (its ``_MAX_NUM_METRIC_ENTRIES_TO_PRESERVE``)."""

RESERVED_KEYS = frozenset({"timestamp", "trial", "global_step", "checkpoint_path"})
"""Keys of a report line that are not metrics."""

_READ_ATTEMPTS = 3


def parse_line(line: str) -> MetricReport | None:
    """One JSON line as a report, or None when it is torn, not JSON, or carries no metric."""
    try:
        record: Any = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    try:
        timestamp = float(record["timestamp"])
        step = int(float(record.get("global_step") or 0))
    except (KeyError, TypeError, ValueError):
        return None
    metrics: dict[str, float] = {}
    for key, value in record.items():
        if key in RESERVED_KEYS:
            continue
        try:
            metrics[key] = float(value)  # "nan" too: a diverged trial is the engine's to judge
        except (TypeError, ValueError):
            continue
    if not metrics or math.isnan(timestamp):
        return None
    return MetricReport(timestamp=timestamp, step=step, metrics=metrics)


def _read_complete(path: Path) -> tuple[str, bool]:
    """The file's text and whether it looked complete (caught between writes, not mid-write).

    A rewrite takes well under a millisecond, so re-reading at once usually gets past it.
    """
    text = ""
    for _ in range(_READ_ATTEMPTS):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "", True
        if text.endswith("\n"):
            return text, True
    return text, False


def read_reports(path: str | Path, since: float) -> tuple[list[MetricReport], int]:
    """The reports in a cloudml-hypertune metric file newer than ``since``, oldest first.

    One :class:`MetricReport` per line (several metrics at one step come as several reports;
    merging them is the engine's business).

    Args:
        path: the ``CLOUD_ML_HP_METRIC_FILE`` of one replica; a missing file has no reports
            (a trainer that crashed before its first report never creates it).
        since: the newest timestamp already collected, ``0`` for none.

    Returns:
        ``(reports, lost)``. ``lost`` is 1 when the file holds its full 100 reports and even the
        oldest is newer than ``since``: the window slid past the last collected report, so
        reports between them may have been overwritten unread. The file keeps no sequence
        number, so the true count cannot be known; 1 marks the gap (it is also 1 when exactly
        100 reports arrived between two reads and none was lost).

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "output.metrics"
        >>> _ = f.write_text('{"global_step": "3", "loss": "0.5", "timestamp": 10.0}\\n{"torn')
        >>> read_reports(f, since=0)
        ([MetricReport(timestamp=10.0, step=3, metrics={'loss': 0.5})], 0)
    """
    text, complete = _read_complete(Path(path))
    parsed = [report for line in text.splitlines() if (report := parse_line(line)) is not None]
    parsed.sort(key=lambda report: report.timestamp)
    lost = 0
    if complete and since > 0 and len(parsed) >= MAX_REPORTS_KEPT and parsed[0].timestamp > since:
        lost = 1
        logger.debug("%s: the oldest kept report is newer than %f", path, since)
    return [report for report in parsed if report.timestamp > since], lost
