// Small helpers shared by the views: building elements, formatting values, state colours.

export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(key, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

const STATE_CLASS = {
  JOB_STATE_QUEUED: "queued", JOB_STATE_PENDING: "pending", JOB_STATE_RUNNING: "running",
  JOB_STATE_SUCCEEDED: "succeeded", JOB_STATE_FAILED: "failed", JOB_STATE_CANCELLING: "cancelling",
  JOB_STATE_CANCELLED: "cancelled", JOB_STATE_PAUSED: "queued", JOB_STATE_EXPIRED: "failed",
  JOB_STATE_UPDATING: "pending", JOB_STATE_PARTIALLY_SUCCEEDED: "infeasible",
  REQUESTED: "pending", ACTIVE: "running", STOPPING: "stopping", SUCCEEDED: "succeeded",
  INFEASIBLE: "infeasible", FAILED: "failed",
};
const LIVE = new Set(["JOB_STATE_RUNNING", "JOB_STATE_PENDING", "JOB_STATE_CANCELLING", "ACTIVE", "STOPPING", "REQUESTED"]);

export const ENDED_JOB_STATES = new Set([
  "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED", "JOB_STATE_PARTIALLY_SUCCEEDED",
]);

export const stateName = (state) => (state || "UNSPECIFIED").replace(/^JOB_STATE_/, "");

export function badge(state) {
  const cls = STATE_CLASS[state] || "queued";
  return h("span", { class: `badge s-${cls}${LIVE.has(state) ? " pulse" : ""}`, "data-state": state }, stateName(state));
}

export function fmtNumber(value) {
  if (value === undefined || value === null || value === "") return "–";
  if (typeof value === "string") return value;
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3);
  return Number(value.toPrecision(5)).toString();
}

export function parseTime(text) {
  return text ? new Date(text) : null;
}

export function fmtTime(text) {
  const date = parseTime(text);
  if (!date) return "–";
  return date.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function fmtAgo(text) {
  const date = parseTime(text);
  if (!date) return "–";
  const seconds = Math.max(0, (Date.now() - date.getTime()) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

export function seconds(start, end) {
  const a = parseTime(start);
  if (!a) return null;
  const b = parseTime(end) || new Date();
  return Math.max(0, (b.getTime() - a.getTime()) / 1000);
}

export function fmtSeconds(value) {
  if (value === null || value === undefined) return "–";
  if (value < 60) return `${value.toFixed(1)}s`;
  if (value < 3600) return `${Math.floor(value / 60)}m ${Math.round(value % 60)}s`;
  return `${Math.floor(value / 3600)}h ${Math.round((value % 3600) / 60)}m`;
}

// "12.5s" (a protobuf Duration) as seconds.
export const durationSeconds = (text) => (text ? parseFloat(String(text).replace(/s$/, "")) : null);

export function labelChips(labels) {
  const entries = Object.entries(labels || {});
  if (!entries.length) return h("span", { class: "muted" }, "–");
  return h("span", { class: "chips" }, entries.map(([k, v]) => h("span", { class: "chip" }, h("b", {}, k), "=", v)));
}

export function toast(message, kind = "") {
  const box = document.getElementById("toasts");
  const item = h("div", { class: `toast ${kind}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

// A job resource name's parts.
export function jobParts(name) {
  const [, project, , location, , id] = name.split("/");
  return { project, location, id, parent: `projects/${project}/locations/${location}` };
}

export const jobHref = (name) => `#/${name}`;
export const trialHref = (name, trialId) => `#/${name}/trials/${trialId}`;
