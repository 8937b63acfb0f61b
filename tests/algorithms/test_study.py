"""``tuneyard.Study``: the in-process study API over the engine's algorithms."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.algorithms.conftest import categorical, check_suggestion, double, integer, study
from tuneyard import Study
from tuneyard.algorithms import algorithm_for
from tuneyard.errors import FailedPrecondition, InvalidArgument, NotFound
from tuneyard.model import TrialState

SPEC = {
    "metrics": [{"metricId": "loss", "goal": "MINIMIZE"}],
    "parameters": [
        {"parameterId": "x", "doubleValueSpec": {"minValue": -2, "maxValue": 2}},
        {"parameterId": "n", "integerValueSpec": {"minValue": 1, "maxValue": 9}},
    ],
}


def _loss(parameters: dict[str, float | int | str]) -> float:
    return (float(parameters["x"]) - 0.5) ** 2 + 0.01 * (int(parameters["n"]) - 3) ** 2


def test_a_loop_finds_the_minimum_and_reports_the_best_trial() -> None:
    study_ = Study(SPEC, seed=0)
    for _ in range(15):
        [trial] = study_.suggest()
        assert trial.state == TrialState.ACTIVE
        study_.complete(trial.id, {"loss": _loss(trial.parameters)})
    [best] = study_.optimal_trials()
    losses = [t.final_metrics["loss"] for t in study_.trials]
    assert best.final_metrics["loss"] == min(losses) < 0.05
    assert [t.id for t in study_.trials] == [str(i) for i in range(1, 16)]


def test_it_suggests_what_the_engine_algorithm_suggests() -> None:
    spec = study([double("x", 0, 1), categorical("c", "a", "b")])
    study_ = Study(spec, seed=5)
    first = study_.suggest(2)
    study_.complete(first[0].id, {"score": 1.0})
    second = study_.suggest(2)
    model_trials = [study_.trial(t.id) for t in first]
    assert [t.parameters for t in first] == algorithm_for(spec).suggest(spec, [], 2, seed=5)
    engine_view = [
        study_._trials[t.id]  # the engine's Trial model, as the controller passes it
        for t in model_trials
    ]
    assert [t.parameters for t in second] == algorithm_for(spec).suggest(spec, engine_view, 2, 5)


def test_the_same_seed_and_results_give_the_same_trials() -> None:
    runs = []
    for _ in range(2):
        study_ = Study(SPEC, seed=3)
        for _ in range(5):
            for trial in study_.suggest(2):
                study_.complete(trial.id, {"loss": _loss(trial.parameters)})
        runs.append([t.parameters for t in study_.trials])
    assert runs[0] == runs[1]


def test_grid_search_runs_out() -> None:
    spec = study([integer("n", 1, 3)], algorithm="GRID_SEARCH")
    study_ = Study(spec)
    assert [t.parameters for t in study_.suggest(5)] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert study_.suggest() == []


def test_several_metrics_give_the_pareto_front() -> None:
    spec = study(
        [double("x", 0, 1)],
        metrics=[{"metricId": "a", "goal": "MINIMIZE"}, {"metricId": "b", "goal": "MINIMIZE"}],
    )
    study_ = Study(spec)
    points = [0.1, 0.5, 0.9]
    for x in points:
        study_.add_trial({"x": x}, {"a": x, "b": 1 - x})
    study_.add_trial({"x": 0.6}, {"a": 0.7, "b": 0.7})  # dominated by x=0.5
    assert [t.parameters["x"] for t in study_.optimal_trials()] == points
    for suggestion in study_.suggest(2):
        check_suggestion(spec, suggestion.parameters)


def test_measurements_decide_the_final_one_by_the_selection_type() -> None:
    spec = {**SPEC, "measurementSelectionType": "BEST_MEASUREMENT"}
    study_ = Study(spec)
    [trial] = study_.suggest()
    study_.add_measurement(trial.id, {"loss": 3.0})
    study_.add_measurement(trial.id, {"loss": 1.0}, step=5)
    study_.add_measurement(trial.id, {"loss": 2.0})
    assert [m.step_count for m in study_.trial(trial.id).measurements] == [1, 5, 6]
    done = study_.complete(trial.id)
    assert done.final_measurement is not None and done.final_measurement.step_count == 5
    assert done.final_metrics == {"loss": 1.0}


def test_infeasible_trials_are_never_optimal() -> None:
    study_ = Study(SPEC)
    first, second = study_.suggest(2)
    marked = study_.mark_infeasible(first.id, "diverged")
    assert (marked.state, marked.infeasible_reason) == (TrialState.INFEASIBLE, "diverged")
    study_.complete(second.id, {"loss": 9.0})
    assert [t.id for t in study_.optimal_trials()] == [second.id]


def test_unknown_trials_metrics_and_double_completion_are_clear_errors() -> None:
    study_ = Study(SPEC)
    [trial] = study_.suggest()
    with pytest.raises(NotFound, match="trial '7' not found: this study has ids 1 to 1"):
        study_.complete("7", {"loss": 1.0})
    with pytest.raises(InvalidArgument, match=r"metrics\['acc'\]: unknown metric"):
        study_.complete(trial.id, {"acc": 1.0})
    with pytest.raises(InvalidArgument, match=r"metrics\['loss'\]: must be a number"):
        study_.add_measurement(trial.id, {"loss": "low"})  # type: ignore[dict-item]
    with pytest.raises(InvalidArgument, match="metrics: trial 1 has no measurement of metric"):
        study_.complete(trial.id)
    study_.complete(trial.id, {"loss": 1.0})
    with pytest.raises(FailedPrecondition, match="cannot complete trial 1: it is already SUCC"):
        study_.complete(trial.id, {"loss": 2.0})
    with pytest.raises(FailedPrecondition, match="cannot mark infeasible trial 1"):
        study_.mark_infeasible(trial.id)
    with pytest.raises(InvalidArgument, match="count: must be at least 1"):
        study_.suggest(0)


def test_a_missing_metric_and_a_bad_parameter_are_refused() -> None:
    spec = study(
        [double("x", 0, 1)],
        metrics=[{"metricId": "a", "goal": "MINIMIZE"}, {"metricId": "b"}],
    )
    study_ = Study(spec)
    [trial] = study_.suggest()
    with pytest.raises(InvalidArgument, match="metrics: missing a value for metric 'b'"):
        study_.complete(trial.id, {"a": 1.0})
    with pytest.raises(InvalidArgument, match=r"parameters\['x'\]: not an active parameter"):
        study_.add_trial({"x": 2.0})
    with pytest.raises(InvalidArgument, match=r"parameters\['x'\]: missing"):
        study_.add_trial({})
    with pytest.raises(InvalidArgument, match="must not be NaN"):
        study_.complete(trial.id, {"a": math.nan, "b": 1.0})


def test_a_malformed_or_invalid_spec_names_the_field() -> None:
    with pytest.raises(InvalidArgument, match=r"studySpec\.metrics: at least one metric"):
        Study({"parameters": SPEC["parameters"]})
    with pytest.raises(InvalidArgument, match=r"studySpec\.parameters\[0\]"):
        Study(
            {
                **SPEC,
                "parameters": [
                    {"parameterId": "x", "doubleValueSpec": {"minValue": 2, "maxValue": 1}}
                ],
            }
        )
    with pytest.raises(InvalidArgument, match=r"studySpec\.algorithm"):
        Study({**SPEC, "algorithm": "SIMULATED_ANNEALING"})


def test_importing_tuneyard_stays_light() -> None:
    code = "import sys, tuneyard; print('optuna' in sys.modules, 'torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]
    code = "from tuneyard import Study; print(Study.__module__)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "tuneyard.algorithms.study"


def test_the_example_in_docs_runs() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "study.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    trial_id, rest = result.stdout.split(" ", 1)
    assert 1 <= int(trial_id) <= 20 and "'act': 'tanh'" in rest, result.stdout
