"""From metric reports to measurements, and from measurements to a trial's outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tuneyard.model import Measurement, MeasurementMetric
from tuneyard.runtime.base import MetricReport


def reports_to_measurements(
    reports: Sequence[MetricReport], trial_start: datetime | None
) -> list[Measurement]:
    """One measurement per run of consecutive reports at the same step, oldest first.

    cloudml-hypertune writes one line per metric, so metrics reported together at one step
    arrive as consecutive reports; they become one measurement. ``elapsed_duration`` is the time
    from the trial's start to the last report of the group.
    """
    measurements: list[Measurement] = []
    group: list[MetricReport] = []

    def flush() -> None:
        if not group:
            return
        metrics: dict[str, float] = {}
        for report in group:
            metrics.update(report.metrics)
        elapsed = None
        if trial_start is not None:
            seconds = max(0.0, group[-1].timestamp - trial_start.timestamp())
            elapsed = timedelta(seconds=round(seconds, 6))
        measurements.append(
            Measurement(
                step_count=group[0].step,
                elapsed_duration=elapsed,
                metrics=[MeasurementMetric(metric_id=k, value=v) for k, v in metrics.items()],
            )
        )
        group.clear()

    for report in reports:
        if group and report.step != group[0].step:
            flush()
        group.append(report)
    flush()
    return measurements


def merge_by_step(measurements: Sequence[Measurement]) -> list[Measurement]:
    """Merge measurements that share a step (reports split across polls), keeping step order
    of first appearance; a later value of a metric at the same step wins."""
    merged: dict[int, Measurement] = {}
    for measurement in measurements:
        previous = merged.get(measurement.step_count)
        if previous is None:
            merged[measurement.step_count] = measurement
            continue
        metrics = {m.metric_id: m.value for m in previous.metrics}
        metrics.update({m.metric_id: m.value for m in measurement.metrics})
        merged[measurement.step_count] = Measurement(
            step_count=measurement.step_count,
            elapsed_duration=measurement.elapsed_duration or previous.elapsed_duration,
            metrics=[MeasurementMetric(metric_id=k, value=v) for k, v in metrics.items()],
        )
    return list(merged.values())
