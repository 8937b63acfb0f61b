// A job's page: header and actions, summary cards, plots, the live trial table, and the spec.
import { getJob, jobProgress } from "./api.js";
import { Chart, curvesOption, historyOption, parallelOption, sliceOption } from "./charts.js";
import { ENDED_JOB_STATES, badge, fmtAgo, fmtNumber, fmtSeconds, fmtTime, h, jobParts, labelChips, replace, seconds, trialHref } from "./format.js";
import { jobActions } from "./jobs.js";
import { metricsOf, parametersOf, specPanel } from "./study.js";
import { trialTable } from "./trials.js";

function card(label, value, sub, id) {
  return h("div", { class: "card", id }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), h("div", { class: "sub" }, sub || "\u00a0"));
}

function chartPanel(title, id, extraClass = "") {
  const box = h("div", { class: `chart ${extraClass}`, id });
  return { panel: h("section", { class: "panel" }, h("h2", {}, title), box), box };
}

export function jobView(root, { name }) {
  const { parent, id } = jobParts(name);
  const head = h("div", { class: "page-head" });
  const errorBox = h("div", {});
  const cards = h("div", { class: "cards" });
  const picker = h("label", { class: "metric-picker", hidden: true }, "Metric", h("select", { id: "metric", onchange: () => draw() }));
  const history = chartPanel("Optimization history", "chart-history");
  const parallel = chartPanel("Parallel coordinates", "chart-parallel", "tall");
  const slicesBox = h("div", { class: "slices", id: "slices" });
  const curves = chartPanel("Learning curves (intermediate measurements)", "chart-curves", "tall");
  const table = trialTable(name);
  const spec = h("div", {});
  root.append(head, errorBox, cards,
    h("div", { class: "panel-head", style: "border:0;padding:0 0 .75rem" }, h("h2", {}, "Plots"), picker),
    h("div", { class: "grid-2 section" }, history.panel, parallel.panel),
    table.element,
    h("section", { class: "panel" }, h("h2", {}, "Each parameter against the metric"), slicesBox),
    curves.panel, spec);

  const charts = {};
  const slices = new Map();
  let state = null; // { job, optimalIds, failed }
  let specShown = "";

  function metric() {
    const metrics = metricsOf(state.job);
    const chosen = picker.querySelector("select").value;
    return metrics.find((m) => m.id === chosen) || metrics[0];
  }

  function draw() {
    if (!state || !window.echarts) return;
    const { job, optimalIds } = state;
    const m = metric();
    if (!m) return;
    charts.history ||= new Chart(history.box);
    charts.parallel ||= new Chart(parallel.box);
    charts.curves ||= new Chart(curves.box);
    const trials = job.trials || [];
    const params = parametersOf(job);
    charts.history.update(historyOption(trials, m, optimalIds));
    charts.parallel.update(parallelOption(trials, m, params));
    charts.curves.update(curvesOption(trials, m, optimalIds));
    for (const p of params) {
      if (!slices.has(p.id)) {
        const box = h("div", { class: "chart small", id: `chart-slice-${p.id}`, "data-parameter": p.id });
        slicesBox.append(box);
        slices.set(p.id, new Chart(box));
      }
      slices.get(p.id).update(sliceOption(trials, m, p));
    }
  }

  function render() {
    const { job, progress, optimalIds } = state;
    const ended = ENDED_JOB_STATES.has(job.state);
    replace(head,
      h("div", { class: "title" },
        h("div", { class: "title-row" }, h("h1", { id: "job-title" }, job.displayName || `job ${id}`), badge(job.state)),
        h("div", { class: "meta" },
          h("span", {}, "ID ", h("code", {}, id)),
          h("span", { title: fmtTime(job.createTime) }, `created ${fmtAgo(job.createTime)}`),
          job.startTime ? h("span", {}, `started ${fmtTime(job.startTime)}`) : null,
          job.endTime ? h("span", {}, `ended ${fmtTime(job.endTime)}`) : null,
          Object.keys(job.labels || {}).length ? labelChips(job.labels) : null)),
      h("div", { class: "actions" }, jobActions(job, () => refresh().catch(onGone))));
    replace(errorBox, job.error && job.error.message ? h("div", { class: "error-box" }, job.error.message) : null);
    const metrics = metricsOf(job);
    const optimal = progress ? progress.optimalTrials : [];
    const max = job.maxTrialCount || 0;
    let bestCard;
    if (metrics.length > 1) {
      bestCard = card("Pareto front", optimal.length ? `${optimal.length} trial${optimal.length === 1 ? "" : "s"}` : "–",
        optimal.length ? h("span", {}, "trials ", optimal.map((o, i) => [i ? ", " : "", h("a", { href: trialHref(name, o.trialId) }, o.trialId)])) : "no completed trial", "card-best");
    } else {
      const m = metrics[0];
      bestCard = card(`Best ${m ? m.id : "value"}${m ? (m.minimize ? " (min)" : " (max)") : ""}`,
        optimal.length && m ? fmtNumber(optimal[0].values[m.id]) : "–",
        optimal.length ? h("a", { href: trialHref(name, optimal[0].trialId) }, `trial ${optimal[0].trialId}`) : "no completed trial", "card-best");
    }
    replace(cards,
      card("Trials done", progress ? `${progress.succeeded + progress.infeasible} / ${max}` : "–",
        progress ? `${progress.succeeded} succeeded · ${progress.infeasible - progress.failed} infeasible · ${progress.failed} failed` : "", "card-done"),
      card("Running", progress ? String(progress.running) : "–", `${job.parallelTrialCount || 0} in parallel at most`, "card-running"),
      bestCard,
      card(ended ? "Took" : "Elapsed", fmtSeconds(seconds(job.startTime || job.createTime, job.endTime)), ended ? "" : "and counting"));
    const select = picker.querySelector("select");
    if (select.options.length !== metrics.length) {
      replace(select, metrics.map((m) => h("option", { value: m.id }, m.id)));
      picker.hidden = metrics.length < 2;
    }
    table.render(job, optimalIds, state.failed);
    const specKey = JSON.stringify(job.studySpec) + JSON.stringify(job.trialJobSpec);
    if (specKey !== specShown) {
      specShown = specKey;
      replace(spec, specPanel(job));
    }
    draw();
  }

  async function refresh() {
    const [job, answer] = await Promise.all([getJob(name), jobProgress(parent, [id])]);
    const progress = answer.progress[0];
    state = {
      job, progress,
      optimalIds: new Set((progress ? progress.optimalTrials : []).map((o) => o.trialId)),
      failed: new Set(progress ? progress.failedTrialIds : []),
    };
    render();
  }

  function onGone() {
    replace(root, h("section", { class: "panel" }, h("h2", {}, `Job ${id} no longer exists`),
      h("p", {}, h("a", { href: `#/${parent}` }, "Back to the jobs"))));
  }

  function destroy() {
    for (const chart of [...Object.values(charts), ...slices.values()]) chart.dispose();
  }
  return { refresh, destroy, onGone };
}
