"""The dashboard in a real browser (headless chromium) against a real server running real jobs.

Each test leaves screenshots in the artifacts folder (``$TUNEYARD_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

import httpx2 as httpx
from playwright.sync_api import expect

from tests.api.conftest import Server, toy_job_json
from tests.dashboard.conftest import chatty_job, job_json, post_job, wait_for

CANCELLING_OR_CANCELLED = re.compile(r"^JOB_STATE_CANCELL(ING|ED)$")


def _score(trial: dict[str, Any], metric: str = "score") -> float:
    metrics = trial["finalMeasurement"]["metrics"]
    return float(next(m.get("value", 0.0) for m in metrics if m["metricId"] == metric))


def _series_sizes(page: Any, selector: str) -> list[int] | None:
    """How many data items each series of the chart in ``selector`` holds (None: no chart)."""
    sizes: list[int] | None = page.evaluate(
        """(selector) => {
            const chart = echarts.getInstanceByDom(document.querySelector(selector));
            return chart ? chart.getOption().series.map((s) => (s.data || []).length) : null;
        }""",
        selector,
    )
    return sizes


def _plots(page: Any, selector: str, sizes: list[int]) -> bool:
    return _series_sizes(page, selector) == sizes


def _drawn(page: Any, selector: str) -> int:
    """How many SVG shapes the chart library drew in ``selector``."""
    count: int = page.locator(f"{selector} svg path").count()
    return count


def _trial_ids(page: Any) -> list[str]:
    ids: list[str] = page.locator("#trial-table tbody tr[data-trial]").evaluate_all(
        "(rows) => rows.map((row) => row.dataset.trial)"
    )
    return ids


def _ended(server: Server, name: str) -> dict[str, Any]:
    ended = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")
    return wait_for(  # type: ignore[no-any-return]
        f"{name} to end", lambda: (job := job_json(server, name))["state"] in ended and job
    )


def test_a_running_job_appears_and_its_page_fills_in(
    server: Server, page: Any, artifacts: Path
) -> None:
    body = chatty_job("live-sweep", steps=6, sleep=0.4, max_trials=4, labels={"team": "vision"})
    name = post_job(server, body)
    page.goto(f"{server.url}/")
    row = page.locator(f'tr[data-job="{name}"]')
    expect(row.locator(".badge")).to_have_attribute("data-state", "JOB_STATE_RUNNING")
    expect(row).to_contain_text("live-sweep")
    expect(row).to_contain_text("team=vision")
    expect(row).to_contain_text(re.compile(r"\d/4 done · \d running"))
    page.screenshot(path=artifacts / "jobs-running.png", full_page=True)

    row.locator("a").click()
    expect(page.locator("#job-title")).to_have_text("live-sweep")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    rows = page.locator("#trial-table tbody tr[data-trial]")
    expect(rows.first).to_be_visible()
    assert job_json(server, name)["state"] != "JOB_STATE_SUCCEEDED"  # it filled in live
    expect(rows).to_have_count(4, timeout=90_000)
    expect(page.locator(".page-head .badge[data-state]")).to_have_attribute(
        "data-state", "JOB_STATE_SUCCEEDED", timeout=90_000
    )
    assert page.evaluate("window.__sameDocument") is True

    job = job_json(server, name)
    scores = {t["id"]: _score(t) for t in job["trials"]}
    best = max(scores, key=lambda trial_id: (scores[trial_id], -int(trial_id)))
    expect(page.locator("#trial-table tr.best")).to_have_count(1)
    expect(page.locator("#trial-table tr.best")).to_have_attribute("data-trial", best)
    expect(page.locator("#card-best")).to_contain_text(f"trial {best}")

    # Series sizes: the history plots each trial, the best so far, and the best trial.
    expected = {
        "#chart-history": [4, 4, 1],
        "#chart-parallel": [4],
        "#chart-curves": [6, 6, 6, 6],
        "#chart-slice-x": [4],
        "#chart-slice-n": [4],
    }
    for selector, sizes in expected.items():
        wait_for(f"{selector} to plot {sizes}", partial(_plots, page, selector, sizes), 30)
        assert _drawn(page, selector) >= 4, selector
    page.screenshot(path=artifacts / "job.png", full_page=True)

    by_score = sorted(scores, key=lambda trial_id: scores[trial_id])
    page.locator('#trial-table th[data-key="m:score"]').click()
    assert _trial_ids(page) == by_score
    page.locator('#trial-table th[data-key="m:score"]').click()
    assert _trial_ids(page) == by_score[::-1]

    page.select_option("#trial-state-filter", "INFEASIBLE")
    expect(rows).to_have_count(0)
    expect(page.locator("#trial-table")).to_contain_text("No trial matches.")
    page.select_option("#trial-state-filter", "SUCCEEDED")
    expect(rows).to_have_count(4)
    x_of_best = next(
        p["value"] for p in job["trials"][int(best) - 1]["parameters"] if p["parameterId"] == "x"
    )
    page.fill("#trial-search", repr(x_of_best))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-trial", best)


def test_the_trial_page_shows_measurements_and_the_log_tail_live(
    server: Server, page: Any, artifacts: Path
) -> None:
    name = post_job(server, chatty_job("chatty", steps=30, sleep=0.4, max_trials=1, parallel=1))
    page.goto(f"{server.url}/#/{name}/trials/1")
    log = page.locator('pre.log[data-replica="workerpool0-0"]')
    expect(log).to_contain_text("training with x=")
    expect(log).to_contain_text("step 2/30")
    page.evaluate("window.__sameDocument = true")
    expect(log).to_contain_text("step 8/30", timeout=60_000)
    expect(page.locator("#measurement-table tbody tr")).not_to_have_count(0)
    expect(page.locator(".page-head .badge[data-state]")).to_have_attribute("data-state", "ACTIVE")
    wait_for(
        "the learning curve", lambda: (s := _series_sizes(page, "#chart-trial-curve")) and s[0] >= 2
    )
    page.screenshot(path=artifacts / "trial-running.png", full_page=True)

    expect(log).to_contain_text("step 30/30", timeout=60_000)
    expect(log).to_contain_text("done")
    expect(page.locator(".page-head .badge[data-state]")).to_have_attribute(
        "data-state", "SUCCEEDED", timeout=30_000
    )
    expect(page.locator("#measurement-table tbody tr")).to_have_count(30)
    trial = job_json(server, name)["trials"][0]
    x = next(p["value"] for p in trial["parameters"] if p["parameterId"] == "x")
    expect(page.locator("#trial-parameters")).to_contain_text(f"{x:.5g}"[:5])
    assert _series_sizes(page, "#chart-trial-curve") == [30]
    assert page.evaluate("window.__sameDocument") is True
    page.screenshot(path=artifacts / "trial.png", full_page=True)


def test_cancel_and_delete_ask_first(server: Server, page: Any, artifacts: Path) -> None:
    name = post_job(server, chatty_job("doomed", steps=400, sleep=0.5, max_trials=2))
    page.goto(f"{server.url}/")
    row = page.locator(f'tr[data-job="{name}"]')
    badge = row.locator(".badge")
    expect(badge).to_have_attribute("data-state", "JOB_STATE_RUNNING")
    questions: list[str] = []

    def dismiss(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    row.locator('[data-action="cancel"]').click()
    wait_for("the confirm dialog", lambda: questions)
    assert "Cancel job “doomed”" in questions[0]
    assert job_json(server, name)["state"] == "JOB_STATE_RUNNING"

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator('[data-action="cancel"]').click()
    expect(badge).to_have_attribute("data-state", CANCELLING_OR_CANCELLED)
    assert CANCELLING_OR_CANCELLED.match(job_json(server, name)["state"])
    page.screenshot(path=artifacts / "jobs-cancelled.png", full_page=True)

    expect(badge).to_have_attribute("data-state", "JOB_STATE_CANCELLED", timeout=60_000)
    delete = row.locator('[data-action="delete"]')
    expect(delete).to_be_enabled()
    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    expect(row).to_have_count(0)
    assert httpx.get(f"{server.url}/v1/{name}").status_code == 404


def test_the_jobs_list_filters_by_state_label_and_name(server: Server, page: Any) -> None:
    vision = post_job(
        server, chatty_job("filter-vision", max_trials=1, parallel=1, labels={"team": "vision"})
    )
    nlp = post_job(
        server,
        toy_job_json(
            "filter-nlp", args=["--mode=fail"], max_trials=1, parallel=1, labels={"team": "nlp"}
        ),
    )
    assert _ended(server, vision)["state"] == "JOB_STATE_SUCCEEDED"
    assert _ended(server, nlp)["state"] == "JOB_STATE_FAILED"
    page.goto(f"{server.url}/")
    rows = page.locator("#jobs tbody tr[data-job]")
    expect(page.locator(f'tr[data-job="{nlp}"]')).to_be_visible()

    page.select_option("#state-filter", "FAILED")
    expect(page.locator(f'tr[data-job="{vision}"]')).to_have_count(0)
    expect(page.locator(f'tr[data-job="{nlp}"]')).to_be_visible()
    states = rows.locator(".badge").evaluate_all("(bs) => bs.map((b) => b.dataset.state)")
    assert set(states) == {"JOB_STATE_FAILED"}

    page.select_option("#state-filter", "")
    page.fill("#label-filter", "team=vision")
    page.press("#label-filter", "Enter")
    expect(page.locator(f'tr[data-job="{nlp}"]')).to_have_count(0)
    expect(page.locator(f'tr[data-job="{vision}"]')).to_be_visible()
    for text in rows.all_inner_texts():
        assert "team=vision" in text

    page.fill("#label-filter", "")
    page.press("#label-filter", "Enter")
    page.fill("#name-filter", "filter-nlp")
    page.press("#name-filter", "Enter")
    expect(rows).to_have_count(1)
    expect(page.locator(f'tr[data-job="{nlp}"]')).to_be_visible()

    page.fill("#label-filter", "bad-key=x")
    page.press("#label-filter", "Enter")
    expect(page.locator(".filter-error")).to_contain_text("letters, digits and _ only")


def _pareto(trials: list[dict[str, Any]]) -> set[str]:
    points = {t["id"]: (_score(t, "score"), -_score(t, "cost")) for t in trials}

    def beaten(a: tuple[float, float]) -> bool:
        return any(b != a and b[0] >= a[0] and b[1] >= a[1] for b in points.values())

    return {trial_id for trial_id, point in points.items() if not beaten(point)}


def test_several_metrics_highlight_the_pareto_front(
    server: Server, page: Any, artifacts: Path
) -> None:
    body = toy_job_json("two-metrics", args=["--steps=2"], max_trials=6, parallel=3)
    body["studySpec"]["metrics"] = [
        {"metricId": "score", "goal": "MAXIMIZE"},
        {"metricId": "cost", "goal": "MINIMIZE"},
    ]
    name = post_job(server, body)
    job = _ended(server, name)
    assert job["state"] == "JOB_STATE_SUCCEEDED"
    front = _pareto(job["trials"])

    page.goto(f"{server.url}/#/{name}")
    best = page.locator("#trial-table tr.best")
    expect(best).to_have_count(len(front))
    assert set(best.evaluate_all("(rows) => rows.map((r) => r.dataset.trial)")) == front
    expect(page.locator("#card-best")).to_contain_text(f"{len(front)} trial")
    wait_for("the history plot", lambda: _series_sizes(page, "#chart-history"))
    page.select_option("#metric", "cost")
    wait_for(
        "the history plot of cost",
        lambda: (
            page.evaluate(
                "echarts.getInstanceByDom(document.querySelector('#chart-history'))"
                ".getOption().yAxis[0].name"
            )
            == "cost"
        ),
    )
    page.screenshot(path=artifacts / "job-pareto.png", full_page=True)


def test_a_failed_trial_shows_failed_with_its_reason(server: Server, page: Any) -> None:
    body = toy_job_json("fails", args=["--mode=fail"], max_trials=1, parallel=1)
    name = post_job(server, body)
    job = _ended(server, name)
    reason = job["trials"][0]["infeasibleReason"]
    assert "failing on purpose" in reason
    page.goto(f"{server.url}/#/{name}")
    row = page.locator('#trial-table tr[data-trial="1"]')
    # Vertex says INFEASIBLE; the dashboard tells a failure apart.
    expect(row.locator(".badge")).to_have_attribute("data-state", "FAILED")
    expect(row.locator("td.reason")).to_contain_text("failing on purpose")
    expect(page.locator(".error-box")).to_contain_text(job["error"]["message"][:40])
    expect(page.locator("#card-done")).to_contain_text("1 failed")
