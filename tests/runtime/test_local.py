"""The local executor's life cycle with real processes: reports, exits, replicas, restarts,
cancellation, logs, and re-attaching after the engine restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.conftest import (
    Runner,
    group_running,
    make_job,
    pid_of,
    replica_group,
    running,
    wait_for,
    worker_pool,
)
from tuneyard.errors import FailedPrecondition, InvalidArgument
from tuneyard.runtime import LocalExecutor, TrialLaunch, TrialProgress, local
from tuneyard.runtime.outcome import HOLD_BACK_SECONDS


def test_a_successful_trial(runner: Runner) -> None:
    handle = runner.launch(make_job(["--reports=3"]))
    assert json.loads(json.dumps(handle)) == handle
    progress, reports, _ = runner.run(handle)
    assert (progress.done, progress.exit_code, progress.message) == (True, 0, "")
    assert [(r.step, r.metrics) for r in reports] == [
        (1, {"accuracy": 0.001}),
        (2, {"accuracy": 0.002}),
        (3, {"accuracy": 0.003}),
    ]
    assert "workerpool0-0 done" in runner.executor.read_logs(handle)["workerpool0-0"]


def test_every_report_is_collected_while_the_trial_runs(runner: Runner) -> None:
    # 150 reports: the file only ever holds the last 100, so they must be read as they come.
    handle = runner.launch(make_job(["--reports=150", "--report-sleep=0.01"]))
    progress, reports, seen = runner.run(handle)
    assert progress.exit_code == 0, progress.message
    assert [r.step for r in reports] == list(range(1, 151))
    assert sum(p.lost_reports for p in seen) == 0
    assert sum(1 for p in seen if p.reports and not p.done) > 1  # read while it ran


def test_reports_are_found_where_the_pool_env_moved_the_metric_file(runner: Runner) -> None:
    env = [{"name": "CLOUD_ML_HP_METRIC_FILE", "value": "mine/output.metrics"}]
    progress, reports, _ = runner.run(runner.launch(make_job(["--reports=2"], env=env)))
    assert progress.exit_code == 0 and [r.step for r in reports] == [1, 2]


def test_a_crash_before_any_report(runner: Runner) -> None:
    progress, reports, _ = runner.run(runner.launch(make_job(["--primary=crash"])))
    assert progress.done and progress.exit_code == 1 and reports == []
    assert progress.message.startswith("workerpool0-0 exited with status 1: ")
    assert "RuntimeError: boom in workerpool0-0" in progress.message


def test_an_unknown_flag_fails_the_strict_trainer(runner: Runner) -> None:
    progress, _, _ = runner.run(runner.launch(make_job(["--no-such-flag=1"])))
    assert progress.exit_code == 2
    assert "unrecognized arguments: --no-such-flag=1" in progress.message


def test_a_missing_command_fails_the_launch_naming_it(runner: Runner) -> None:
    pool = {"replicaCount": "1", "containerSpec": {"imageUri": "i", "command": ["no-such-xyz"]}}
    job = make_job()
    spec = job.trial_spec.model_validate({"workerPoolSpecs": [pool]})
    with pytest.raises(FailedPrecondition, match="workerpool0-0: no-such-xyz: command not found"):
        runner.launch(job.model_copy(update={"trial_job_spec": spec}))


def test_a_command_that_is_not_executable_fails_the_launch(runner: Runner, tmp_path: Path) -> None:
    script = tmp_path / "train.sh"
    script.write_text("echo hi\n")  # no execute permission
    pool = {"replicaCount": "1", "containerSpec": {"imageUri": "i", "command": [str(script)]}}
    job = make_job()
    spec = job.trial_spec.model_validate({"workerPoolSpecs": [pool]})
    with pytest.raises(FailedPrecondition, match=r"train\.sh: Permission denied"):
        runner.launch(job.model_copy(update={"trial_job_spec": spec}))


def test_death_by_signal_names_the_signal(runner: Runner) -> None:
    progress, _, _ = runner.run(runner.launch(make_job(["--primary=kill-self"])))
    assert progress.exit_code == 128 + signal.SIGKILL
    assert progress.message.startswith("workerpool0-0 was killed by signal 9 (SIGKILL)")


def test_all_replicas_run_and_the_rest_stop_when_the_primary_exits(
    runner: Runner, tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    args = [f"--markers={markers}", "--others=hang", "--await-peers"]
    job = make_job(args, pools=[worker_pool(args, replicas=2)])
    progress, _, _ = runner.run(runner.launch(job))
    assert progress.exit_code == 0, progress.message
    started = sorted(p.name for p in markers.glob("*.starts"))
    assert started == ["workerpool0-0.starts", "workerpool1-0.starts", "workerpool1-1.starts"]
    for name in ("workerpool1-0", "workerpool1-1"):
        pid = pid_of(markers, name)
        assert not running(pid), f"{name} still runs after the primary exited"
    assert progress.extra["replicas"]["workerpool0-0"] == 0


def test_a_failed_worker_fails_the_trial_and_stops_the_primary(
    runner: Runner, tmp_path: Path
) -> None:
    args = ["--primary=hang", "--others=fail", f"--markers={tmp_path}"]
    job = make_job(args, pools=[worker_pool(args)])
    handle = runner.launch(job)
    progress, _, _ = runner.run(handle)
    assert progress.exit_code == 1
    assert progress.message == (
        "workerpool1-0 exited with status 1: workerpool1-0 is failing on purpose"
    )
    assert not group_running(replica_group(handle, "workerpool0-0"))


def starts(markers: Path, name: str) -> int:
    """How often the replica ``name`` has started."""
    path = markers / f"{name}.starts"
    return len(path.read_text().split()) if path.exists() else 0


def test_restart_job_on_worker_restart_restarts_every_replica(
    runner: Runner, tmp_path: Path
) -> None:
    args = ["--primary=hang", "--others=fail-first", f"--markers={tmp_path}", "--reports=1"]
    scheduling = {"restartJobOnWorkerRestart": True}
    job = make_job(args, pools=[worker_pool(args)], scheduling=scheduling)
    handle = runner.launch(job)
    deadline = time.monotonic() + 15
    while (progress := runner.executor.poll(handle, 0.0)).handle is None:
        assert not progress.done and time.monotonic() < deadline, progress
        runner.executor.wait(0.05)
    runner.handles.append(progress.handle)
    assert progress.extra["restarts"] == 1
    assert progress.extra["restart_reason"].startswith("workerpool1-0 exited with status 1")
    # The worker fails only once: after the restart both replicas run again (and hang). The
    # first primary may have been stopped before it wrote its marker.
    primary_starts = starts(tmp_path, "workerpool0-0")
    wait_for(lambda: starts(tmp_path, "workerpool0-0") == primary_starts + 1)
    wait_for(lambda: starts(tmp_path, "workerpool1-0") == 2)
    assert runner.executor.poll(progress.handle, 0.0).done is False
    # An engine that died before storing the new handle polls with the old one: it is told.
    assert runner.executor.poll(handle, 0.0).handle == progress.handle
    runner.executor.cancel(progress.handle, grace_seconds=1.0)
    assert "restarting every replica" in runner.executor.read_logs(progress.handle)["workerpool1-0"]


def test_restarts_are_capped(runner: Runner, tmp_path: Path) -> None:
    runner.executor.max_restarts = 2
    args = ["--primary=hang", "--others=fail", f"--markers={tmp_path}"]
    job = make_job(args, pools=[worker_pool(args)], scheduling={"restartJobOnWorkerRestart": True})
    progress, _, seen = runner.run(runner.launch(job))
    assert [p.extra["restarts"] for p in seen if p.handle is not None] == [1, 2]
    assert progress.done and progress.exit_code == 1
    assert progress.message.startswith("workerpool1-0 exited with status 1 after 2 restarts: ")
    assert starts(tmp_path, "workerpool1-0") == 3


def test_cancel_kills_a_trainer_that_ignores_sigterm_and_its_children(
    runner: Runner, tmp_path: Path
) -> None:
    handle = runner.launch(make_job(["--primary=ignore-term", f"--markers={tmp_path}"]))
    wait_for(lambda: (tmp_path / "workerpool0-0.child").exists())
    trainer = pid_of(tmp_path, "workerpool0-0")
    wait_for(lambda: (tmp_path / "workerpool0-0.child").read_text() != "")
    child = int((tmp_path / "workerpool0-0.child").read_text())
    assert running(trainer) and running(child)
    started = time.monotonic()
    runner.executor.cancel(handle, grace_seconds=0.5)
    assert time.monotonic() - started >= 0.5  # SIGTERM was ignored, SIGKILL came after the grace
    assert not running(trainer) and not running(child)
    progress = runner.executor.poll(handle, 0.0)
    assert progress.done and progress.message == "the trial was cancelled"


def test_cancel_is_quick_for_a_trainer_that_obeys_sigterm(runner: Runner, tmp_path: Path) -> None:
    handle = runner.launch(make_job(["--primary=hang", f"--markers={tmp_path}"]))
    trainer = pid_of(tmp_path, "workerpool0-0")
    started = time.monotonic()
    runner.executor.cancel(handle, grace_seconds=10.0)
    assert time.monotonic() - started < 5.0
    assert not running(trainer)
    assert runner.executor.poll(handle, 0.0).extra["replicas"]["workerpool0-0"] == 143


def test_wait_returns_as_soon_as_a_trial_ends(runner: Runner) -> None:
    handle = runner.launch(make_job(["--sleep=0.3"]))
    started = time.monotonic()
    runner.executor.wait(10.0)
    assert 0.3 <= time.monotonic() - started < 5.0
    assert runner.executor.poll(handle, 0.0).done


def test_a_new_executor_reattaches_from_the_handle_alone(runner: Runner) -> None:
    first = LocalExecutor()
    job = make_job(["--reports=20", "--report-sleep=0.02"])
    handle = first.launch(TrialLaunch(job, "1", {"lr": 0.5}))
    runner.handles.append(handle)
    saved = json.dumps(handle)
    first.close()
    del first, handle
    second = LocalExecutor()
    try:
        progress, reports, _ = runner.run(json.loads(saved), executor=second)
    finally:
        second.close()
    assert progress.exit_code == 0
    assert [r.step for r in reports] == list(range(1, 21))


ENGINE = """
import json, os, sys
from tuneyard.runtime import LocalExecutor, TrialLaunch
from tests.runtime.conftest import make_job
handle = LocalExecutor().launch(TrialLaunch(make_job(sys.argv[1:]), "1", {"lr": 0.5}))
print(json.dumps(handle), flush=True)
os.kill(os.getpid(), 9)  # the engine dies; its trial goes on without a parent that waits
"""


def _launch_from_a_dying_engine(args: list[str]) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", ENGINE, *args],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    handle: dict[str, Any] = json.loads(result.stdout)
    return handle


def test_exit_status_of_a_trial_launched_by_an_engine_that_died(runner: Runner) -> None:
    handle = _launch_from_a_dying_engine(["--reports=5", "--report-sleep=0.05", "--exit-code=4"])
    runner.handles.append(handle)
    progress, reports, _ = runner.run(handle)
    assert [r.step for r in reports] == [1, 2, 3, 4, 5]
    assert progress.exit_code == 4
    assert progress.message == "workerpool0-0 exited with status 4: workerpool0-0 done"


def test_a_replica_that_vanished_while_the_engine_was_down(runner: Runner, tmp_path: Path) -> None:
    handle = _launch_from_a_dying_engine(["--primary=hang", f"--markers={tmp_path}"])
    runner.handles.append(handle)
    pid = pid_of(tmp_path, "workerpool0-0")
    assert pid == handle["replicas"][0]["pid"]  # the trainer itself leads the group: no wrapper
    supervisor = parent_of(pid)
    os.kill(supervisor, signal.SIGKILL)  # nothing is left to record how the replica ends
    wait_for(lambda: not running(supervisor))
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: not running(pid))
    progress, _, _ = runner.run(handle)
    assert progress.done and progress.exit_code is None
    assert "vanished: it ended while neither the engine nor its supervisor" in progress.message


def parent_of(pid: int) -> int:
    """The parent pid of ``pid``."""
    data = Path(f"/proc/{pid}/stat").read_bytes()
    return int(data[data.rindex(b")") + 2 :].split()[1])


def test_the_supervisor_records_exits_while_no_engine_runs(runner: Runner, tmp_path: Path) -> None:
    handle = _launch_from_a_dying_engine(["--primary=hang", f"--markers={tmp_path}"])
    runner.handles.append(handle)
    pid = pid_of(tmp_path, "workerpool0-0")
    supervisor = parent_of(pid)
    assert supervisor != os.getpid() and running(supervisor)
    os.killpg(pid, signal.SIGTERM)  # ends while no engine runs: the supervisor logs it, exits
    wait_for(lambda: not running(supervisor))
    exits = Path(handle["replicas"][0]["exits"]).read_text().splitlines()
    assert f"{pid} {handle['replicas'][0]['start']} {128 + signal.SIGTERM}" in exits
    progress, _, _ = runner.run(handle)
    assert progress.exit_code == 128 + signal.SIGTERM
    assert progress.message.startswith("workerpool0-0 was killed by signal 15 (SIGTERM)")


def test_a_version_1_handle_reads_its_replica_s_status_file(runner: Runner, tmp_path: Path) -> None:
    handle = runner.launch(make_job(["--exit-code=3"]), "1")
    assert runner.run(handle)[0].exit_code == 3
    status = tmp_path / "workerpool0-0.status.0"  # what the shell wrapper of version 1 wrote
    status.write_text("5\n")
    replicas = [{**r, "status": str(status)} for r in handle["replicas"]]
    for replica in replicas:
        del replica["exits"]
    old = {**handle, "version": 1, "replicas": replicas}
    assert runner.executor.poll(old, 0.0).exit_code == 5


def test_after_a_reboot_recorded_statuses_count_and_the_rest_is_lost(
    runner: Runner, tmp_path: Path
) -> None:
    ended = runner.launch(make_job(["--exit-code=3"]), "1")
    assert runner.run(ended)[0].exit_code == 3
    assert runner.executor.poll({**ended, "boot_id": "an-earlier-boot"}, 0.0).exit_code == 3
    hanging = runner.launch(make_job(["--primary=hang", f"--markers={tmp_path}"]), "2")
    pid_of(tmp_path, "workerpool0-0")
    progress = runner.executor.poll({**hanging, "boot_id": "an-earlier-boot"}, 0.0)
    assert progress.done and progress.exit_code is None
    assert "was lost when the machine restarted" in progress.message
    assert group_running(replica_group(hanging, "workerpool0-0"))  # not ours to stop: untouched


def test_a_relaunch_of_the_same_trial_stops_the_stale_processes(
    runner: Runner, tmp_path: Path
) -> None:
    job = make_job(["--primary=hang", f"--markers={tmp_path}"])
    runner.launch(job)
    stale = pid_of(tmp_path, "workerpool0-0")
    runner.launch(job)  # the engine lost the first handle
    assert not running(stale)


def test_a_relaunch_stops_what_a_dead_engine_launched_without_keeping_a_handle(
    runner: Runner, tmp_path: Path
) -> None:
    handle = _launch_from_a_dying_engine(["--primary=hang", f"--markers={tmp_path}"])
    stale = pid_of(tmp_path, "workerpool0-0")
    assert not (Path(handle["trial_dir"]) / "trial.json").exists()  # found by its environment
    relaunched = runner.launch(make_job(["--primary=hang", f"--markers={tmp_path}"]), "1")
    assert not running(stale) and not group_running(stale)
    assert relaunched["replicas"][0]["pid"] != stale


def test_read_logs_keeps_the_tail(runner: Runner) -> None:
    handle = runner.launch(make_job(["--primary=crash"]))
    runner.run(handle)
    logs = runner.executor.read_logs(handle, max_bytes=60)
    assert len(logs["workerpool0-0"].encode()) <= 60
    assert logs["workerpool0-0"].rstrip().endswith("RuntimeError: boom in workerpool0-0")


def test_foreign_handles_are_refused(runner: Runner) -> None:
    with pytest.raises(InvalidArgument):
        runner.executor.poll({"executor": "ray", "version": 1}, 0.0)


def test_a_trial_polled_again_soon_is_not_reread_but_its_end_is_seen_at_once(
    runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "REREAD_SECONDS", 60.0)
    handle = runner.launch(make_job(["--primary=hang", "--reports=2", f"--markers={tmp_path}"]))
    metrics = Path(handle["replicas"][0]["metrics"])
    wait_for(lambda: metrics.exists() and len(metrics.read_text().splitlines()) == 2)
    time.sleep(HOLD_BACK_SECONDS)  # reports younger than this wait for a later poll
    # The launch counts as a read: polled within REREAD_SECONDS of it, the trial is not read.
    assert runner.executor.poll(handle, 0.0) == TrialProgress()
    monkeypatch.setattr(local, "REREAD_SECONDS", 0.0)
    assert len(runner.executor.poll(handle, 0.0).reports) == 2
    monkeypatch.setattr(local, "REREAD_SECONDS", 60.0)
    # Polled again within REREAD_SECONDS while its replica runs: not read again.
    assert runner.executor.poll(handle, 0.0) == TrialProgress()
    # An exit is seen at once all the same.
    os.kill(pid_of(tmp_path, "workerpool0-0"), signal.SIGKILL)
    runner.executor.wait(10.0)
    progress = runner.executor.poll(handle, 0.0)
    assert (progress.done, progress.exit_code, len(progress.reports)) == (True, 137, 2)
