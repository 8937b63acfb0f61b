"""Spares: what ended trials leave empty is moved into new trials, and nothing that holds data
is ever moved. On real files, and through the local executor with real trainers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.runtime.conftest import Runner, make_job
from tuneyard.runtime.spares import Spares

NO_OP = [sys.executable, "-c", "pass"]


def test_only_empty_folders_and_files_are_taken(tmp_path: Path) -> None:
    job_folder = tmp_path / "job"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "model.bin").write_bytes(b"weights")
    (tmp_path / "full.log").write_text("epoch 1\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty.log").touch()
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    (tmp_path / "link.log").symlink_to(tmp_path / "empty.log")
    spares = Spares()
    folders = [str(tmp_path / name) for name in ("full", "link", "missing", "empty")]
    files = [str(tmp_path / name) for name in ("full.log", "link.log", "missing.log", "empty.log")]
    spares.give(job_folder, folders, files)  # the oldest (first) is tried first
    assert spares.take_dir(job_folder, tmp_path / "a")  # after passing over the other three
    assert spares.take_file(job_folder, tmp_path / "a.log")
    assert not spares.take_dir(job_folder, tmp_path / "b")
    assert not spares.take_file(job_folder, tmp_path / "b.log")
    assert (tmp_path / "full" / "model.bin").read_bytes() == b"weights"
    assert (tmp_path / "full.log").read_text() == "epoch 1\n"
    assert (tmp_path / "link").is_symlink() and (tmp_path / "link.log").is_symlink()
    # Only the empty folder and the empty file moved; all else is where it was.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a",
        "a.log",
        "full",
        "full.log",
        "link",
        "link.log",
    ]


def test_a_spare_is_the_same_inode_and_goes_only_where_nothing_is(tmp_path: Path) -> None:
    job_folder = tmp_path / "job"
    (tmp_path / "cwd").mkdir()
    (tmp_path / "out.log").touch()
    inodes = {name: os.stat(tmp_path / name).st_ino for name in ("cwd", "out.log")}
    spares = Spares()
    spares.give(job_folder, [str(tmp_path / "cwd")], [str(tmp_path / "out.log")])
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    assert not spares.take_dir(job_folder, tmp_path / "taken")  # exists: left alone
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    assert not spares.take_dir(tmp_path / "other-job", tmp_path / "new-cwd")  # not its job's
    assert spares.take_dir(job_folder, tmp_path / "new-cwd")
    assert spares.take_file(job_folder, tmp_path / "new.log")
    assert os.stat(tmp_path / "new-cwd").st_ino == inodes["cwd"]
    assert os.stat(tmp_path / "new.log").st_ino == inodes["out.log"]
    assert not (tmp_path / "cwd").exists() and not (tmp_path / "out.log").exists()
    assert not spares.take_dir(job_folder, tmp_path / "another")  # none left
    assert not spares.take_file(job_folder, tmp_path / "another.log")


def test_a_spare_written_to_after_it_was_given_is_not_taken(tmp_path: Path) -> None:
    job_folder = tmp_path / "job"
    (tmp_path / "cwd").mkdir()
    (tmp_path / "out.log").touch()
    spares = Spares()
    spares.give(job_folder, [str(tmp_path / "cwd")], [str(tmp_path / "out.log")])
    (tmp_path / "cwd" / "late.txt").write_text("late")  # a process that escaped its trial
    (tmp_path / "out.log").write_text("late")
    assert not spares.take_dir(job_folder, tmp_path / "new-cwd")
    assert not spares.take_file(job_folder, tmp_path / "new.log")
    assert not (tmp_path / "new-cwd").exists() and not (tmp_path / "new.log").exists()
    assert (tmp_path / "cwd" / "late.txt").read_text() == "late"
    assert (tmp_path / "out.log").read_text() == "late"


def test_an_ended_trial_gives_its_empty_folders_and_logs_to_the_next(runner: Runner) -> None:
    pool = {"replicaCount": "1", "containerSpec": {"imageUri": "i", "command": NO_OP}}
    job = make_job()
    spec = job.trial_spec.model_validate({"workerPoolSpecs": [pool]})
    job = job.model_copy(update={"trial_job_spec": spec})
    first = runner.launch(job, "1")
    trial = Path(first["trial_dir"])
    names = ["checkpoints", "logs", "model", "workerpool0-0", "workerpool0-0.stderr"]
    names.append("workerpool0-0.stdout")
    inodes = {os.stat(trial / name).st_ino for name in names}
    progress, _, _ = runner.run(first)
    assert progress.done and progress.exit_code == 0, progress.message
    second = Path(runner.launch(job, "2")["trial_dir"])
    assert sorted(p.name for p in second.iterdir()) == sorted(names)
    assert {os.stat(second / name).st_ino for name in names} == inodes
    assert list(trial.iterdir()) == []  # it wrote nothing: nothing of it was kept
    assert runner.executor.read_logs(first) == {"workerpool0-0": ""}


def test_what_a_trial_wrote_stays_and_the_next_trial_starts_empty(runner: Runner) -> None:
    job = make_job()  # the probe writes its record to the model folder, scratch.txt to its cwd
    first = runner.launch(job, "1")
    assert runner.run(first)[0].exit_code == 0
    trial = Path(first["trial_dir"])
    kept = ["model", "workerpool0-0", "workerpool0-0.stdout"]  # what it wrote into
    assert sorted(p.name for p in trial.iterdir()) == sorted(
        [*kept, "checkpoints", "logs", "workerpool0-0.stderr"]
    )
    assert (trial / "workerpool0-0" / "scratch.txt").read_text() == "workerpool0-0"
    assert "workerpool0-0 done" in (trial / "workerpool0-0.stdout").read_text()
    second = runner.launch(job, "2")
    assert runner.run(second)[0].exit_code == 0
    record = json.loads((Path(second["trial_dir"]) / "model" / "workerpool0-0.json").read_text())
    assert record["cwd_entries"] == []
    assert record["outputs"] == {"AIP_CHECKPOINT_DIR": [], "AIP_TENSORBOARD_LOG_DIR": []}
    assert all(record["folders"].values())
    # It took trial 1's empty checkpoints/, logs/ and stderr, and none of what trial 1 wrote.
    assert sorted(p.name for p in trial.iterdir()) == kept
    assert (trial / "workerpool0-0" / "scratch.txt").read_text() == "workerpool0-0"


def test_spares_serve_output_folders_under_a_base_output_directory(
    runner: Runner, home: Path
) -> None:
    job = make_job(base_output="gs://out/run")  # AIP_*_DIR under buckets/out/run/<trial>/
    base = home.resolve() / "buckets" / "out" / "run"
    assert runner.run(runner.launch(job, "1"))[0].exit_code == 0
    unused = {os.stat(base / "1" / name).st_ino for name in ("checkpoints", "logs")}
    assert runner.run(runner.launch(job, "2"))[0].exit_code == 0
    assert {os.stat(base / "2" / name).st_ino for name in ("checkpoints", "logs")} == unused
    assert sorted(p.name for p in (base / "1").iterdir()) == ["model"]  # it wrote its record
    record = json.loads((base / "2" / "model" / "workerpool0-0.json").read_text())
    assert record["outputs"] == {"AIP_CHECKPOINT_DIR": [], "AIP_TENSORBOARD_LOG_DIR": []}


def test_a_spare_that_cannot_go_to_a_path_stays_a_spare(tmp_path: Path) -> None:
    job_folder = tmp_path / "job"
    (tmp_path / "cwd").mkdir()
    spares = Spares()
    spares.give(job_folder, [str(tmp_path / "cwd")], [])
    assert not spares.take_dir(job_folder, tmp_path / "no-such-folder" / "cwd")
    assert spares.take_dir(job_folder, tmp_path / "cwd2")
