// The live trial table of a job: parameters, final metrics, state, duration, infeasible reason;
// sorts by any column, filters by state and text, and marks the best trials.
import { badge, fmtNumber, fmtSeconds, h, replace, seconds, trialHref } from "./format.js";
import { finalValue, metricsOf, paramValue, parametersOf } from "./study.js";

const STATE_FILTERS = ["ACTIVE", "SUCCEEDED", "INFEASIBLE", "FAILED"];

function compare(a, b) {
  if (a === b) return 0;
  if (a === undefined || a === null) return 1; // blanks last whichever way
  if (b === undefined || b === null) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

export function trialTable(jobName) {
  const sort = { key: "id", dir: -1 };
  const filter = { state: "", text: "" };
  let last = null;
  const head = h("thead", {});
  const body = h("tbody", {});
  const count = h("span", { class: "muted", id: "trial-count" });
  const rerender = () => last && render(...last);
  const element = h("section", { class: "panel flush", id: "trials" },
    h("div", { class: "panel-head" },
      h("h2", {}, "Trials"), count, h("span", { class: "spacer" }),
      h("div", { class: "filters" },
        h("input", { type: "search", id: "trial-search", placeholder: "Filter trials…", oninput: (e) => { filter.text = e.target.value.trim().toLowerCase(); rerender(); } }),
        h("select", { id: "trial-state-filter", onchange: (e) => { filter.state = e.target.value; rerender(); } },
          h("option", { value: "" }, "All states"), STATE_FILTERS.map((s) => h("option", { value: s }, s[0] + s.slice(1).toLowerCase()))))),
    h("div", { class: "table-wrap" }, h("table", { class: "data", id: "trial-table" }, head, body)));

  function columns(job, failed) {
    const cols = [
      { key: "id", label: "Trial", num: true, get: (t) => Number(t.id) },
      { key: "state", label: "State", get: (t) => (failed.has(t.id) ? "FAILED" : t.state) },
      ...parametersOf(job).map((p) => ({ key: `p:${p.id}`, label: p.id, num: !p.categories, get: (t) => paramValue(t, p.id) })),
      ...metricsOf(job).map((m) => ({ key: `m:${m.id}`, label: m.id, num: true, metric: true, get: (t) => finalValue(t, m.id) })),
      { key: "steps", label: "Steps", num: true, get: (t) => (t.measurements || []).length },
      { key: "duration", label: "Duration", num: true, get: (t) => seconds(t.startTime, t.endTime) },
    ];
    // The reason column only when some trial has one: most jobs have none.
    if ((job.trials || []).some((t) => t.infeasibleReason)) {
      cols.push({ key: "reason", label: "Infeasible reason", get: (t) => t.infeasibleReason || "" });
    }
    return cols;
  }

  function render(job, optimalIds, failed) {
    last = [job, optimalIds, failed];
    const cols = columns(job, failed);
    replace(head, h("tr", {}, cols.map((c) => h("th", {
      class: `sortable${c.num ? " num" : ""}`, "data-key": c.key,
      onclick: () => { sort.dir = sort.key === c.key ? -sort.dir : c.key === "id" ? -1 : 1; sort.key = c.key; rerender(); },
    }, c.label, sort.key === c.key ? h("span", { class: "arrow" }, sort.dir > 0 ? "▲" : "▼") : ""))));
    const trials = job.trials || [];
    const by = cols.find((c) => c.key === sort.key) || cols[0];
    const shown = trials.filter((t) => {
      const state = failed.has(t.id) ? "FAILED" : t.state;
      if (filter.state && state !== filter.state && !(filter.state === "ACTIVE" && (state === "REQUESTED" || state === "STOPPING"))) return false;
      if (!filter.text) return true;
      return cols.some((c) => String(c.get(t) ?? "").toLowerCase().includes(filter.text));
    }).sort((a, b) => sort.dir * compare(by.get(a), by.get(b)) || compare(Number(a.id), Number(b.id)));
    count.textContent = shown.length === trials.length ? `${trials.length}` : `${shown.length} of ${trials.length}`;
    if (!shown.length) {
      replace(body, h("tr", {}, h("td", { class: "empty", colspan: cols.length }, trials.length ? "No trial matches." : "No trial has started yet.")));
      return;
    }
    replace(body, shown.map((t) => {
      const best = optimalIds.has(t.id);
      return h("tr", {
        class: `clickable${best ? " best" : ""}`, "data-trial": t.id,
        onclick: () => { window.location.hash = trialHref(jobName, t.id); },
      }, cols.map((c) => {
        const value = c.get(t);
        if (c.key === "id") return h("td", { class: "num mono" }, h("a", { href: trialHref(jobName, t.id), onclick: (e) => e.stopPropagation() }, t.id), best ? h("span", { class: "star", title: optimalIds.size > 1 ? "on the Pareto front" : "best trial" }, "★") : "");
        if (c.key === "state") return h("td", {}, badge(value));
        if (c.key === "duration") return h("td", { class: "num" }, fmtSeconds(value));
        if (c.key === "reason") return h("td", { class: "reason", title: value }, value);
        return h("td", { class: c.num ? "num" : "", style: c.metric && best ? "font-weight:650" : null }, fmtNumber(value));
      }));
    }));
  }
  return { element, render };
}
