// The dashboard's shell: hash routes, the location picker, and polling while a view is open.
import { listLocations } from "./api.js";
import { h, replace, toast } from "./format.js";
import { jobsView } from "./jobs.js";
import { jobView } from "./job.js";
import { trialView } from "./trial.js";

const POLL_MS = 2000;
const ROUTES = [
  [/^#\/(projects\/[^/]+\/locations\/[^/]+)\/?$/, (m) => ({ view: jobsView, parent: m[1] })],
  [/^#\/(projects\/[^/]+\/locations\/[^/]+\/hyperparameterTuningJobs\/\d+)\/?$/, (m) => ({ view: jobView, name: m[1] })],
  [/^#\/(projects\/[^/]+\/locations\/[^/]+\/hyperparameterTuningJobs\/\d+)\/trials\/([^/]+)$/, (m) => ({ view: trialView, name: m[1], trialId: decodeURIComponent(m[2]) })],
];

let current = null; // { view instance, timer, generation }
let generation = 0;

function setLive(ok) {
  document.getElementById("live").classList.toggle("stale", !ok);
  document.getElementById("live").textContent = ok ? "live" : "reconnecting";
}

async function loop(gen) {
  if (gen !== generation || !current) return;
  try {
    await current.instance.refresh();
    setLive(true);
  } catch (error) {
    setLive(false);
    if (error.status === 404 && current.instance.onGone) current.instance.onGone(error);
    else console.warn("refresh failed", error);
  }
  if (gen === generation) current.timer = setTimeout(() => loop(gen), POLL_MS);
}

async function locations() {
  const picker = document.getElementById("location-picker");
  const select = document.getElementById("location");
  let found = [];
  try {
    found = (await listLocations()).locations || [];
  } catch (error) {
    toast(`Could not list locations: ${error.message}`, "error");
  }
  replace(select, found.map((loc) => h("option", { value: loc.name }, `${loc.project} · ${loc.location} (${loc.jobCount})`)));
  picker.hidden = found.length < 2;
  return found;
}

function crumbs(route) {
  const nav = document.getElementById("crumbs");
  const items = [];
  const parent = route.parent || (route.name && route.name.split("/").slice(0, 4).join("/"));
  if (parent) {
    const [, project, , location] = parent.split("/");
    items.push(h("a", { href: `#/${parent}` }, `${project} / ${location}`));
  }
  if (route.name) {
    const id = route.name.split("/").pop();
    items.push(route.trialId ? h("a", { href: `#/${route.name}` }, `job ${id}`) : h("span", {}, `job ${id}`));
  }
  if (route.trialId) items.push(h("span", {}, `trial ${route.trialId}`));
  replace(nav, items.flatMap((item, i) => (i ? [h("span", { class: "sep" }, "›"), item] : [item])));
  const select = document.getElementById("location");
  if (parent && [...select.options].some((o) => o.value === parent)) select.value = parent;
}

async function route() {
  generation += 1;
  if (current) {
    clearTimeout(current.timer);
    current.instance.destroy?.();
    current = null;
  }
  const hash = window.location.hash || "#/";
  for (const [pattern, make] of ROUTES) {
    const match = hash.match(pattern);
    if (match) {
      const params = make(match);
      crumbs(params);
      const root = document.getElementById("view");
      root.replaceChildren();
      current = { instance: params.view(root, params), timer: null };
      loop(generation);
      return;
    }
  }
  const found = await locations();
  const parent = found.length ? found[0].name : "projects/local/locations/us-central1";
  window.location.replace(`#/${parent}`);
}

async function start() {
  await locations();
  document.getElementById("location").addEventListener("change", (event) => {
    window.location.hash = `#/${event.target.value}`;
  });
  window.addEventListener("hashchange", route);
  await route();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
