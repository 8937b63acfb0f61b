"""Reading cloudml-hypertune's metric file: string values, torn lines, the 100-report window."""

from __future__ import annotations

import json
import os
from pathlib import Path

import hypertune
import pytest

from tuneyard.runtime import MetricReport, read_reports


@pytest.fixture
def reporter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[hypertune.HyperTune, Path]:
    path = tmp_path / "metrics" / "output.metrics"
    monkeypatch.setenv("CLOUD_ML_HP_METRIC_FILE", str(path))
    monkeypatch.setenv("CLOUD_ML_TRIAL_ID", "7")
    return hypertune.HyperTune(), path


def test_reads_what_the_real_library_writes(reporter: tuple[hypertune.HyperTune, Path]) -> None:
    tuner, path = reporter
    tuner.report_hyperparameter_tuning_metric("accuracy", 0.5, global_step=1)
    tuner.report_hyperparameter_tuning_metric("loss", 0.25, global_step=1)
    tuner.report_hyperparameter_tuning_metric("", 3, global_step=None)
    reports, lost = read_reports(path, since=0.0)
    assert lost == 0
    assert [(r.step, r.metrics) for r in reports] == [
        (1, {"accuracy": 0.5}),
        (1, {"loss": 0.25}),
        (0, {"training/hptuning/metric": 3.0}),
    ]
    assert reports[0].timestamp <= reports[1].timestamp <= reports[2].timestamp


def test_only_reports_newer_than_since(reporter: tuple[hypertune.HyperTune, Path]) -> None:
    tuner, path = reporter
    for step in range(1, 4):
        tuner.report_hyperparameter_tuning_metric("accuracy", step, global_step=step)
    first, _ = read_reports(path, since=0.0)
    newer, lost = read_reports(path, since=first[0].timestamp)
    assert [r.step for r in newer] == [2, 3] and lost == 0


def test_missing_file_has_no_reports(tmp_path: Path) -> None:
    assert read_reports(tmp_path / "never-written", since=0.0) == ([], 0)


def test_torn_and_foreign_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "output.metrics"
    good = {"accuracy": "0.5", "checkpoint_path": "", "global_step": "2", "timestamp": 10.0}
    lines = [json.dumps(good), "not json", json.dumps([1, 2]), json.dumps({"timestamp": 11.0})]
    path.write_text("\n".join(lines) + '\n{"accuracy": "0.6", "glo')
    assert read_reports(path, since=0.0) == (
        [MetricReport(timestamp=10.0, step=2, metrics={"accuracy": 0.5})],
        0,
    )


def _write(path: Path, timestamps: range) -> None:
    lines = [
        json.dumps({"accuracy": str(t / 10), "global_step": str(t), "timestamp": float(t)})
        for t in timestamps
    ]
    path.write_text("".join(line + "\n" for line in lines))


def test_a_full_window_past_since_counts_as_lost(tmp_path: Path) -> None:
    path = tmp_path / "output.metrics"
    _write(path, range(151, 251))  # reports 101..150 were pushed out before they were read
    reports, lost = read_reports(path, since=100.0)
    assert len(reports) == 100 and lost == 1


def test_a_full_window_that_still_holds_since_lost_nothing(tmp_path: Path) -> None:
    path = tmp_path / "output.metrics"
    _write(path, range(101, 201))
    reports, lost = read_reports(path, since=150.0)
    assert [r.step for r in reports] == list(range(151, 201)) and lost == 0


def test_nothing_is_lost_before_the_first_read(tmp_path: Path) -> None:
    path = tmp_path / "output.metrics"
    _write(path, range(500, 600))
    assert read_reports(path, since=0.0)[1] == 0


def test_the_cap_is_the_library_s(reporter: tuple[hypertune.HyperTune, Path]) -> None:
    tuner, path = reporter
    for step in range(1, 131):
        tuner.report_hyperparameter_tuning_metric("accuracy", step, global_step=step)
    reports, _ = read_reports(path, since=0.0)
    assert [r.step for r in reports] == list(range(31, 131))
    assert os.path.getsize(path) > 0
