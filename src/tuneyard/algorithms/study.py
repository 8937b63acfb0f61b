"""``tuneyard.Study``: Vertex's search algorithms in process, without a server.

A :class:`Study` holds a study spec and its trials in memory and asks the very algorithm the
engine uses (:func:`~tuneyard.algorithms.algorithm_for`) for new trials, so a loop in a notebook
searches exactly as a tuning job with the same spec and seed would. Trials are numbered "1", "2",
... in the order they are suggested.

Example:
    >>> from tuneyard import Study
    >>> study = Study({
    ...     "metrics": [{"metricId": "loss", "goal": "MINIMIZE"}],
    ...     "parameters": [
    ...         {"parameterId": "x", "doubleValueSpec": {"minValue": -2, "maxValue": 2}},
    ...         {"parameterId": "kind", "categoricalValueSpec": {"values": ["a", "b"]}},
    ...     ],
    ... }, seed=0)
    >>> for _ in range(12):
    ...     [trial] = study.suggest()
    ...     x, kind = trial.parameters["x"], trial.parameters["kind"]
    ...     _ = study.complete(trial.id, {"loss": (x - 1) ** 2 + (kind == "b")})
    >>> [best] = study.optimal_trials()
    >>> best.state.name, best.final_metrics["loss"] < 0.1
    ('SUCCEEDED', True)
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

from tuneyard.algorithms.base import SuggestionAlgorithm
from tuneyard.algorithms.factory import algorithm_for
from tuneyard.algorithms.selection import final_measurement, optimal_trials
from tuneyard.algorithms.space import SearchSpace
from tuneyard.algorithms.study_trial import StudyTrial
from tuneyard.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from tuneyard.model import (
    Measurement,
    MeasurementMetric,
    ParameterValue,
    StudySpec,
    Trial,
    TrialParameter,
    TrialState,
)
from tuneyard.model.parse import parse_resource
from tuneyard.model.validation import validate_study_spec


class Study:
    """An in-memory study: suggest trials, report their results, read the best ones.

    Args:
        study_spec: a ``StudySpec`` model, or its Vertex JSON form (a dict with camelCase keys).
        seed: the seed of the search; the same spec, seed and results give the same trials.
        algorithm: the suggestion algorithm; by default the one the spec names, as in the engine.

    Raises:
        InvalidArgument: when the spec is malformed or breaks a rule of Vertex's (every
            violation is named by its field).

    The methods are thread-safe; suggestions are computed while holding the study's lock.
    """

    def __init__(
        self,
        study_spec: StudySpec | Mapping[str, Any],
        seed: int = 0,
        *,
        algorithm: SuggestionAlgorithm | None = None,
    ) -> None:
        if isinstance(study_spec, StudySpec):
            spec = study_spec
        else:
            spec = parse_resource(StudySpec, dict(study_spec), prefix="studySpec")
        validate_study_spec(spec)
        self.spec = spec
        self.seed = seed
        self.algorithm = algorithm or algorithm_for(spec)
        self._space = SearchSpace.from_study(spec)
        self._metric_ids = [metric.metric_id for metric in spec.metrics]
        self._trials: dict[str, Trial] = {}
        self._lock = threading.Lock()

    @property
    def trials(self) -> list[StudyTrial]:
        """Every trial so far, in id order."""
        with self._lock:
            return [StudyTrial.of(trial) for trial in self._trials.values()]

    def trial(self, trial_id: str | int) -> StudyTrial:
        """The trial with ``trial_id``.

        Raises:
            NotFound: when the study has no such trial.
        """
        with self._lock:
            return StudyTrial.of(self._get(trial_id))

    def suggest(self, count: int = 1) -> list[StudyTrial]:
        """New ACTIVE trials; fewer than ``count`` (or none) when the space is exhausted.

        Trials still ACTIVE count as running: the algorithm keeps new suggestions away from them.

        Raises:
            InvalidArgument: when ``count`` is less than 1.
        """
        if count < 1:
            raise InvalidArgument([FieldViolation("count", f"must be at least 1, got {count}")])
        with self._lock:
            existing = list(self._trials.values())
            suggestions = self.algorithm.suggest(self.spec, existing, count, self.seed)
            created = []
            for parameters in suggestions:
                trial_id = str(len(self._trials) + 1)
                trial = Trial(
                    id=trial_id,
                    state=TrialState.ACTIVE,
                    parameters=[
                        TrialParameter(parameter_id=k, value=v) for k, v in parameters.items()
                    ],
                )
                self._trials[trial_id] = trial
                created.append(StudyTrial.of(trial))
            return created

    def add_trial(
        self, parameters: Mapping[str, ParameterValue], metrics: Mapping[str, float] | None = None
    ) -> StudyTrial:
        """Add a trial the caller chose (a known good point, a result from elsewhere).

        With ``metrics`` it is SUCCEEDED at once and the algorithm learns from it; without, it is
        ACTIVE, to be completed like a suggested trial.

        Raises:
            InvalidArgument: when a parameter is not in the spec, not active, out of its range,
                or an active parameter is missing; or as :meth:`complete` for ``metrics``.
        """
        with self._lock:
            canonical = self._space.canonical(parameters)
            wrong = sorted(set(parameters) - set(canonical))
            violations = [
                FieldViolation(
                    f"parameters[{pid!r}]",
                    "not an active parameter of the spec "
                    f"or not one of its values: {parameters[pid]!r}",
                )
                for pid in wrong
            ]
            missing = _active_ids(self._space, canonical) - set(canonical)
            violations += [
                FieldViolation(f"parameters[{pid!r}]", "missing") for pid in sorted(missing)
            ]
            if violations:
                raise InvalidArgument(violations)
            trial_id = str(len(self._trials) + 1)
            self._trials[trial_id] = Trial(
                id=trial_id,
                state=TrialState.ACTIVE,
                parameters=[TrialParameter(parameter_id=k, value=v) for k, v in canonical.items()],
            )
        return (
            StudyTrial.of(self._trials[trial_id])
            if metrics is None
            else self.complete(trial_id, metrics)
        )

    def add_measurement(
        self, trial_id: str | int, metrics: Mapping[str, float], step: int | None = None
    ) -> StudyTrial:
        """Record an intermediate measurement of an ACTIVE trial.

        Args:
            trial_id: the trial.
            metrics: metric id to value; every id must be one of the spec's metrics.
            step: the step count; by default one more than the last step. Reports at a step that
                already has a measurement are merged into it.

        Raises:
            NotFound: unknown trial. FailedPrecondition: the trial is no longer ACTIVE.
            InvalidArgument: unknown metric id, a value that is not a number, a negative step.
        """
        with self._lock:
            trial = self._active(trial_id, "add a measurement to")
            values = self._metric_values(metrics, "metrics")
            measurements = sorted(trial.measurements, key=lambda m: m.step_count)
            if step is None:
                step = measurements[-1].step_count + 1 if measurements else 1
            if step < 0:
                raise InvalidArgument([FieldViolation("step", f"must be >= 0, got {step}")])
            merged = {m.step_count: m for m in measurements}
            old = {m.metric_id: m.value for m in merged[step].metrics} if step in merged else {}
            merged[step] = _measurement(step, {**old, **values})
            updated = trial.model_copy(update={"measurements": [merged[s] for s in sorted(merged)]})
            self._trials[trial.id] = updated
            return StudyTrial.of(updated)

    def complete(
        self, trial_id: str | int, metrics: Mapping[str, float] | None = None
    ) -> StudyTrial:
        """Finish an ACTIVE trial as SUCCEEDED.

        Args:
            trial_id: the trial.
            metrics: the final value of every metric of the spec. When omitted, the final
                measurement is chosen from the intermediate ones by the spec's
                ``measurementSelectionType``, as the engine does.

        Raises:
            NotFound: unknown trial. FailedPrecondition: the trial was already completed or
            marked infeasible. InvalidArgument: an unknown or missing metric, a value that is not
            a number, or no metrics and no usable intermediate measurement.
        """
        with self._lock:
            trial = self._active(trial_id, "complete")
            if metrics is not None:
                values = self._metric_values(metrics, "metrics")
                missing = [m for m in self._metric_ids if m not in values]
                if missing:
                    raise InvalidArgument(
                        [
                            FieldViolation("metrics", f"missing a value for metric {m!r}")
                            for m in missing
                        ]
                    )
                last_step = max((m.step_count for m in trial.measurements), default=0)
                final = _measurement(last_step, values)
            else:
                chosen = final_measurement(self.spec, trial.measurements)
                if chosen is None:
                    raise InvalidArgument(
                        [
                            FieldViolation(
                                "metrics",
                                f"trial {trial.id} has no measurement of "
                                f"metric {self._metric_ids[0]!r}: pass the final metrics",
                            )
                        ]
                    )
                final = chosen
            updated = trial.model_copy(
                update={"state": TrialState.SUCCEEDED, "final_measurement": final}
            )
            self._trials[trial.id] = updated
            return StudyTrial.of(updated)

    def mark_infeasible(self, trial_id: str | int, reason: str = "") -> StudyTrial:
        """Finish an ACTIVE trial as INFEASIBLE, for example when training diverged.

        The algorithm gets no value from it, as for an INFEASIBLE trial of a tuning job.

        Raises:
            NotFound: unknown trial. FailedPrecondition: the trial is no longer ACTIVE.
        """
        with self._lock:
            trial = self._active(trial_id, "mark infeasible")
            updated = trial.model_copy(
                update={"state": TrialState.INFEASIBLE, "infeasible_reason": reason}
            )
            self._trials[trial.id] = updated
            return StudyTrial.of(updated)

    def optimal_trials(self) -> list[StudyTrial]:
        """The best SUCCEEDED trial, or the Pareto front (in id order) for several metrics."""
        with self._lock:
            best = optimal_trials(self.spec, list(self._trials.values()))
            return [StudyTrial.of(trial) for trial in best]

    def _get(self, trial_id: str | int) -> Trial:
        trial = self._trials.get(str(trial_id))
        if trial is None:
            known = f"ids 1 to {len(self._trials)}" if self._trials else "no trials yet"
            raise NotFound(f"trial {str(trial_id)!r} not found: this study has {known}")
        return trial

    def _active(self, trial_id: str | int, action: str) -> Trial:
        trial = self._get(trial_id)
        if trial.state != TrialState.ACTIVE:
            raise FailedPrecondition(
                f"cannot {action} trial {trial.id}: it is already {trial.state.name}"
            )
        return trial

    def _metric_values(self, metrics: Mapping[str, float], field: str) -> dict[str, float]:
        violations = []
        values: dict[str, float] = {}
        for metric_id, value in metrics.items():
            where = f"{field}[{metric_id!r}]"
            if metric_id not in self._metric_ids:
                violations.append(
                    FieldViolation(where, f"unknown metric; the spec has {self._metric_ids}")
                )
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                violations.append(FieldViolation(where, f"must be a number, got {value!r}"))
            else:
                values[metric_id] = float(value)
                if math.isnan(values[metric_id]):
                    violations.append(FieldViolation(where, "must not be NaN"))
        if violations:
            raise InvalidArgument(violations)
        return values


def _measurement(step: int, values: Mapping[str, float]) -> Measurement:
    return Measurement(
        step_count=step,
        metrics=[MeasurementMetric(metric_id=k, value=v) for k, v in values.items()],
    )


def _active_ids(space: SearchSpace, values: Mapping[str, ParameterValue]) -> set[str]:
    """The ids of the parameters that ``values`` must hold: the roots and the active children."""
    active: set[str] = set()
    pending = list(space.roots)
    while pending:
        node = pending.pop()
        active.add(node.parameter_id)
        if node.parameter_id in values:
            pending.extend(node.active_children(values[node.parameter_id]))
    return active
