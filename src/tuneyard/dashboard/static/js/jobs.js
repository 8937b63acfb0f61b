// The jobs list: state, progress, best value, labels and age; filters; cancel and delete.
import { cancelJob, deleteJob, jobProgress, listJobs } from "./api.js";
import { ENDED_JOB_STATES, badge, fmtAgo, fmtNumber, fmtTime, h, jobHref, jobParts, labelChips, replace, toast } from "./format.js";

const STATES = ["RUNNING", "PENDING", "QUEUED", "SUCCEEDED", "FAILED", "CANCELLING", "CANCELLED"];
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

// The AIP-160 filter for the controls, or throws with what is wrong.
export function buildFilter({ state, label, name }) {
  const terms = [];
  if (state) terms.push(`state=JOB_STATE_${state}`);
  if (name) terms.push(`display_name:"*${name.replace(/["\\]/g, "")}*"`);
  for (const part of (label || "").split(/[\s,]+/).filter(Boolean)) {
    const [key, ...rest] = part.split("=");
    if (!LABEL_KEY.test(key)) throw new Error(`label key "${key}": letters, digits and _ only`);
    terms.push(rest.length ? `labels.${key}="${rest.join("=").replace(/["\\]/g, "")}"` : `labels.${key}:*`);
  }
  return terms.join(" AND ");
}

export async function confirmThen(question, action, done) {
  if (!window.confirm(question)) return;
  try {
    await action();
    toast(done);
  } catch (error) {
    toast(error.message, "error");
  }
}

export function jobActions(job, refresh) {
  const ended = ENDED_JOB_STATES.has(job.state);
  const title = job.displayName || job.name.split("/").pop();
  return [
    h("button", {
      class: "btn warn small", "data-action": "cancel", disabled: ended || job.state === "JOB_STATE_CANCELLING",
      title: "Stop the job's trials and end it CANCELLED",
      onclick: (event) => {
        event.stopPropagation();
        confirmThen(`Cancel job “${title}”? Its running trials are stopped.`, () => cancelJob(job.name), `Cancelling ${title}`).then(refresh);
      },
    }, "Cancel"),
    h("button", {
      class: "btn danger small", "data-action": "delete", disabled: !ended,
      title: ended ? "Delete the job with its trials" : "Only an ended job can be deleted",
      onclick: (event) => {
        event.stopPropagation();
        confirmThen(`Delete job “${title}” and all its trials? This cannot be undone.`, () => deleteJob(job.name), `Deleted ${title}`).then(refresh);
      },
    }, "Delete"),
  ];
}

function progressCell(job, progress) {
  const max = job.maxTrialCount || progress?.trialCount || 0;
  if (!progress) return h("td", { class: "progress" }, h("small", {}, `of ${max}`));
  const pct = (n) => `${max ? (100 * n) / max : 0}%`;
  const infeasibleOnly = progress.infeasible - progress.failed;
  return h("td", { class: "progress" },
    h("div", { class: "bar", title: `${progress.succeeded} succeeded, ${progress.running} running, ${progress.failed} failed, ${infeasibleOnly} infeasible of ${max}` },
      h("span", { class: "seg-succeeded", style: `width:${pct(progress.succeeded)}` }),
      h("span", { class: "seg-infeasible", style: `width:${pct(infeasibleOnly)}` }),
      h("span", { class: "seg-failed", style: `width:${pct(progress.failed)}` }),
      h("span", { class: "seg-running", style: `width:${pct(progress.running)}` })),
    h("small", {}, `${progress.succeeded + progress.infeasible}/${max} done · ${progress.running} running`,
      progress.failed ? h("span", { class: "failed" }, ` · ${progress.failed} failed`) : ""));
}

function bestCell(progress) {
  const optimal = progress?.optimalTrials || [];
  if (!optimal.length) return h("td", { class: "muted" }, "–");
  if (optimal.length === 1) {
    const entries = Object.entries(optimal[0].values);
    return h("td", { class: "best-value" },
      entries.map(([, value], i) => [i ? " · " : "", fmtNumber(value)]),
      h("div", { class: "sub" }, `${entries.map(([metric]) => metric).join(" · ")} · trial ${optimal[0].trialId}`));
  }
  return h("td", { class: "best-value" }, `${optimal.length} trials`, h("div", { class: "sub" }, "on the Pareto front"));
}

export function jobsView(root, { parent }) {
  const filters = { state: "", label: "", name: "" };
  const PAGE = 100;
  let shown = PAGE;
  let seq = 0;
  const error = h("span", { class: "filter-error" });
  const body = h("tbody", {});
  const count = h("span", { class: "muted", id: "job-count" });
  const more = h("div", { class: "load-more", hidden: true },
    h("button", { class: "btn", onclick: () => { shown += PAGE; refresh(); } }, "Show more"));
  const onFilter = (key) => (event) => { filters[key] = event.target.value.trim(); shown = PAGE; refresh(); };
  const stateSelect = h("select", { id: "state-filter", onchange: onFilter("state") },
    h("option", { value: "" }, "All states"), STATES.map((s) => h("option", { value: s }, s[0] + s.slice(1).toLowerCase())));
  const panel = h("section", { class: "panel flush" },
    h("div", { class: "panel-head" },
      h("h2", {}, "Tuning jobs"), count, h("span", { class: "spacer" }),
      h("div", { class: "filters" },
        h("input", { type: "search", id: "name-filter", placeholder: "Name contains…", onchange: onFilter("name") }),
        stateSelect,
        h("input", { type: "text", id: "label-filter", placeholder: "Label key=value", onchange: onFilter("label"), title: "key=value or key; several separated by spaces" }),
        error)),
    h("div", { class: "table-wrap" },
      h("table", { class: "data", id: "jobs" },
        h("thead", {}, h("tr", {}, ["ID", "Name", "State", "Progress", "Best", "Labels", "Created", ""].map((t) => h("th", { class: t === "ID" ? "num" : "" }, t)))),
        body)),
    more);
  root.append(panel);

  async function refresh() {
    const mine = ++seq;
    let filter;
    try {
      filter = buildFilter(filters);
      error.textContent = "";
    } catch (problem) {
      error.textContent = problem.message;
      return;
    }
    // Vertex lists by ascending id; the newest jobs come last, so read every page (the
    // server's largest page holds 1000) and show the newest first.
    const jobs = [];
    let pageToken = "";
    for (let page = 0; page < 20; page += 1) {
      const answer = await listJobs(parent, { filter, pageToken, pageSize: 1000 });
      jobs.push(...(answer.hyperparameterTuningJobs || []));
      pageToken = answer.nextPageToken || "";
      if (!pageToken) break;
    }
    jobs.reverse();
    const visible = jobs.slice(0, shown);
    const progress = {};
    for (let i = 0; i < visible.length; i += 200) {
      const ids = visible.slice(i, i + 200).map((j) => jobParts(j.name).id);
      for (const item of (await jobProgress(parent, ids)).progress) progress[item.name] = item;
    }
    if (mine !== seq) return; // a newer refresh (e.g. a filter change) is under way
    more.hidden = jobs.length <= shown;
    count.textContent = jobs.length ? `${jobs.length} job${jobs.length === 1 ? "" : "s"}` : "";
    if (!jobs.length) {
      replace(body, h("tr", {}, h("td", { class: "empty", colspan: 8 }, filter ? "No job matches these filters." : "No jobs yet. Submit one with the Vertex AI SDK or POST /v1/…/hyperparameterTuningJobs.")));
      return;
    }
    replace(body, visible.map((job) => {
      const { id } = jobParts(job.name);
      const open = () => { window.location.hash = jobHref(job.name); };
      return h("tr", { class: "clickable", "data-job": job.name, onclick: open },
        h("td", { class: "num mono" }, id),
        h("td", {}, h("a", { href: jobHref(job.name), onclick: (e) => e.stopPropagation() }, job.displayName || "(unnamed)")),
        h("td", {}, badge(job.state)),
        progressCell(job, progress[job.name]),
        bestCell(progress[job.name]),
        h("td", {}, labelChips(job.labels)),
        h("td", { title: fmtTime(job.createTime), class: "muted" }, fmtAgo(job.createTime)),
        h("td", { class: "num" }, h("span", { class: "chips" }, jobActions(job, refresh))));
    }));
  }
  return { refresh };
}
