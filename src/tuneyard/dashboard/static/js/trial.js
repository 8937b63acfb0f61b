// A trial's page: parameters, final and every intermediate measurement, a learning curve, and
// the tail of each replica's log, live while the trial runs.
import { getJob, jobProgress, trialLogs } from "./api.js";
import { Chart, curvesOption } from "./charts.js";
import { badge, durationSeconds, fmtNumber, fmtSeconds, fmtTime, h, jobHref, jobParts, replace, seconds } from "./format.js";
import { metricValue, metricsOf, parametersOf, paramValue } from "./study.js";

const RUNNING = new Set(["ACTIVE", "REQUESTED", "STOPPING"]);

export function trialView(root, { name, trialId }) {
  const { parent, id } = jobParts(name);
  const head = h("div", { class: "page-head" });
  const reason = h("div", {});
  const params = h("section", { class: "panel", id: "trial-parameters" });
  const final = h("section", { class: "panel", id: "trial-final" });
  const curveBox = h("div", { class: "chart", id: "chart-trial-curve" });
  const mCount = h("span", { class: "muted" });
  const mHead = h("thead", {});
  const mBody = h("tbody", {});
  const measurements = h("section", { class: "panel flush", id: "trial-measurements" },
    h("div", { class: "panel-head" }, h("h2", {}, "Measurements"), mCount),
    h("div", { class: "table-wrap scroll-y" }, h("table", { class: "data", id: "measurement-table" }, mHead, mBody)));
  const logs = h("section", { class: "panel", id: "trial-logs" }, h("h2", {}, "Logs"));
  root.append(head, reason, h("div", { class: "grid-2 section" }, params, final),
    h("section", { class: "panel" }, h("h2", {}, "Learning curve"), curveBox), logs, measurements);
  let chart = null;
  let logsRead = false;
  const logBoxes = new Map();

  function renderLogs(replicas) {
    if (!replicas.length) {
      if (!logBoxes.size) replace(logs, h("h2", {}, "Logs"), h("p", { class: "muted" }, "No replica has started yet."));
      return;
    }
    if (!logBoxes.size) replace(logs, h("h2", {}, "Logs"));
    for (const { replica, text } of replicas) {
      if (!logBoxes.has(replica)) {
        const pre = h("pre", { class: "log", "data-replica": replica });
        logs.append(h("div", { class: "log-head" }, h("code", {}, replica), h("span", { class: "muted" }, "stdout, then stderr; the last 32 KiB")), pre);
        logBoxes.set(replica, pre);
      }
      const pre = logBoxes.get(replica);
      if (pre.textContent === text) continue;
      const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
      pre.textContent = text;
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    }
  }

  async function refresh() {
    const [job, answer] = await Promise.all([getJob(name), jobProgress(parent, [id])]);
    const trial = (job.trials || []).find((t) => t.id === trialId);
    if (!trial) {
      replace(head, h("h1", {}, `Trial ${trialId} of job ${id} does not exist (yet)`));
      return;
    }
    const progress = answer.progress[0];
    const failed = progress && progress.failedTrialIds.includes(trial.id);
    const optimal = new Set((progress ? progress.optimalTrials : []).map((o) => o.trialId));
    const state = failed ? "FAILED" : trial.state;
    replace(head, h("div", { class: "title" },
      h("div", { class: "title-row" }, h("h1", { id: "trial-title" }, `Trial ${trial.id}`), badge(state),
        optimal.has(trial.id) ? h("span", { class: "badge s-infeasible", title: "best trial of the job" }, optimal.size > 1 ? "Pareto front" : "best") : null),
      h("div", { class: "meta" },
        h("span", {}, "of ", h("a", { href: jobHref(name) }, job.displayName || `job ${id}`)),
        h("span", {}, `started ${fmtTime(trial.startTime)}`),
        trial.endTime ? h("span", {}, `ended ${fmtTime(trial.endTime)}`) : null,
        h("span", {}, `${RUNNING.has(trial.state) ? "running for" : "took"} ${fmtSeconds(seconds(trial.startTime, trial.endTime))}`))));
    replace(reason, trial.infeasibleReason ? h("div", { class: "error-box" }, trial.infeasibleReason) : null);
    replace(params, h("h2", {}, "Parameters"), h("dl", { class: "kv" },
      parametersOf(job).filter((p) => paramValue(trial, p.id) !== undefined).map((p) => [h("dt", {}, h("code", {}, p.id)), h("dd", { class: "num" }, fmtNumber(paramValue(trial, p.id)))])));
    const metrics = metricsOf(job);
    replace(final, h("h2", {}, "Final measurement"), trial.finalMeasurement
      ? h("dl", { class: "kv" }, metrics.map((m) => [h("dt", {}, h("code", {}, m.id)), h("dd", { class: "num" }, h("b", {}, fmtNumber(metricValue(trial.finalMeasurement, m.id))), h("span", { class: "muted" }, ` (${m.minimize ? "minimize" : "maximize"})`))]),
        h("dt", {}, "step"), h("dd", { class: "num" }, trial.finalMeasurement.stepCount || "0"))
      : h("p", { class: "muted" }, RUNNING.has(trial.state) ? "Chosen when the trial ends." : "None: the trial reported no complete measurement."));
    const reported = trial.measurements || [];
    const metricIds = [...new Set([...metrics.map((m) => m.id), ...reported.flatMap((m) => (m.metrics || []).map((x) => x.metricId))])];
    mCount.textContent = `${reported.length}`;
    replace(mHead, h("tr", {}, h("th", { class: "num" }, "Step"), h("th", { class: "num" }, "Elapsed"), metricIds.map((m) => h("th", { class: "num" }, m))));
    replace(mBody, reported.length ? reported.map((m) => h("tr", {},
      h("td", { class: "num" }, m.stepCount || "0"), h("td", { class: "num" }, fmtSeconds(durationSeconds(m.elapsedDuration))),
      metricIds.map((k) => h("td", { class: "num" }, fmtNumber(metricValue(m, k))))))
      : h("tr", {}, h("td", { class: "empty", colspan: metricIds.length + 2 }, "No measurement reported yet.")));
    if (window.echarts && metrics.length) {
      chart ||= new Chart(curveBox);
      chart.update(curvesOption([trial], metrics[0], optimal, trial.id));
    }
    if (RUNNING.has(trial.state) || !logsRead) {
      renderLogs((await trialLogs(name, trial.id)).replicas);
      logsRead = !RUNNING.has(trial.state);
    }
  }

  return { refresh, destroy: () => chart && chart.dispose() };
}
