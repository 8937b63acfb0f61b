"""Which measurement is a trial's final one, and which trials are the best: pure functions.

Measurements are assumed merged: a measurement carries every metric reported at its step. When
reports for different metrics arrive as separate measurements, the caller merges them by step
first (the engine does). The selection type is judged on the FIRST metric alone, as on Vertex, and
the chosen measurement is kept whole, so its other metrics come from the same step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tuneyard.model import Measurement, MeasurementSelectionType, StudySpec, Trial, TrialState


def final_measurement(study: StudySpec, measurements: Sequence[Measurement]) -> Measurement | None:
    """The measurement that becomes a trial's ``final_measurement``.

    Only measurements that contain the first metric count. ``BEST_MEASUREMENT`` picks the best by
    that metric's goal (the earliest of equal bests; NaN never wins); ``LAST_MEASUREMENT`` and
    ``MEASUREMENT_SELECTION_TYPE_UNSPECIFIED`` pick the last one.

    Args:
        study: the study spec: its first metric and its ``measurement_selection_type``.
        measurements: the trial's measurements in the order they were reported.

    Returns:
        The chosen measurement, or None when none contains the first metric (or there are no
        metrics).

    Example:
        >>> from tuneyard.model import MeasurementMetric
        >>> spec = StudySpec.model_validate({"metrics": [{"metricId": "acc"}],
        ...     "measurementSelectionType": "BEST_MEASUREMENT"})
        >>> steps = [Measurement(step_count=s, metrics=[MeasurementMetric(metric_id="acc",
        ...     value=v)]) for s, v in [(1, 0.5), (2, 0.9), (3, 0.7)]]
        >>> final_measurement(spec, steps).step_count
        2
    """
    if not study.metrics:
        return None
    metric = study.metrics[0]
    candidates = [m for m in measurements if m.value(metric.metric_id) is not None]
    if not candidates:
        return None
    if study.measurement_selection_type != MeasurementSelectionType.BEST_MEASUREMENT:
        return candidates[-1]
    sign = -1.0 if metric.minimize else 1.0
    best: Measurement | None = None
    best_score = -math.inf
    for measurement in candidates:
        score = sign * _value(measurement, metric.metric_id)
        if best is None or score > best_score:
            best, best_score = measurement, score
    return best


def _value(measurement: Measurement, metric_id: str) -> float:
    value = measurement.value(metric_id)
    return -math.inf if value is None or math.isnan(value) else value


def _id_key(trial: Trial) -> tuple[int, int, str]:
    return (0, int(trial.id), "") if trial.id.isdigit() else (1, 0, trial.id)


def _scores(study: StudySpec, trial: Trial) -> tuple[float, ...] | None:
    """The trial's final metric values, each signed so that larger is better, or None."""
    if trial.state != TrialState.SUCCEEDED or trial.final_measurement is None:
        return None
    scores = []
    for metric in study.metrics:
        value = trial.final_measurement.value(metric.metric_id)
        if value is None or math.isnan(value):
            return None
        scores.append(-value if metric.minimize else value)
    return tuple(scores)


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x >= y for x, y in zip(a, b, strict=True)) and a != b


def optimal_trials(study: StudySpec, trials: Sequence[Trial]) -> list[Trial]:
    """The best SUCCEEDED trials by their final measurements.

    With one metric, the single best trial (the lowest id among equals). With several metrics, the
    Pareto front: every trial no other trial beats or equals on all metrics while beating it on
    one, in id order. Trials without a final value for every metric (or with NaN) are left out.

    Args:
        study: the study spec, for its metrics and their goals.
        trials: the job's trials, in any state.

    Returns:
        The optimal trials; empty when no trial qualifies or the spec has no metrics.
    """
    if not study.metrics:
        return []
    scored = sorted(
        ((trial, score) for trial in trials if (score := _scores(study, trial)) is not None),
        key=lambda pair: _id_key(pair[0]),
    )
    if not scored:
        return []
    if len(study.metrics) == 1:
        best_trial, best_score = scored[0]
        for trial, score in scored[1:]:
            if score[0] > best_score[0]:
                best_trial, best_score = trial, score
        return [best_trial]
    return [
        trial for trial, score in scored if not any(_dominates(other, score) for _, other in scored)
    ]
