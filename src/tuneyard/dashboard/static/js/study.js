// Reading a job's study spec and trials (Vertex JSON, zero values left out), and showing the spec.
import { fmtNumber, h } from "./format.js";

export const metricsOf = (job) =>
  ((job.studySpec || {}).metrics || []).map((m) => ({ id: m.metricId, minimize: m.goal === "MINIMIZE" }));

const KINDS = {
  doubleValueSpec: "DOUBLE", integerValueSpec: "INTEGER", categoricalValueSpec: "CATEGORICAL", discreteValueSpec: "DISCRETE",
};

// Every parameter spec, conditional children after their parent, with how to draw its axis.
export function parametersOf(job) {
  const found = [];
  const walk = (specs, parent) => {
    for (const spec of specs || []) {
      const key = Object.keys(KINDS).find((k) => k in spec) || "doubleValueSpec";
      const values = spec[key] || {};
      const kind = KINDS[key];
      let domain;
      if (kind === "DOUBLE" || kind === "INTEGER") domain = `[${fmtNumber(Number(values.minValue || 0))}, ${fmtNumber(Number(values.maxValue || 0))}]`;
      else domain = `{${(values.values || []).map((v) => (typeof v === "number" ? fmtNumber(v) : v)).join(", ")}}`;
      found.push({
        id: spec.parameterId, kind, domain, parent,
        scale: spec.scaleType || "",
        categories: kind === "CATEGORICAL" ? values.values || [] : null,
        log: spec.scaleType === "UNIT_LOG_SCALE",
      });
      for (const child of spec.conditionalParameterSpecs || []) {
        const when = child.parentDiscreteValues || child.parentIntValues || child.parentCategoricalValues || {};
        walk([child.parameterSpec], { id: spec.parameterId, values: when.values || [] });
      }
    }
  };
  walk((job.studySpec || {}).parameters, null);
  return found;
}

export function paramValue(trial, id) {
  const found = (trial.parameters || []).find((p) => p.parameterId === id);
  return found ? found.value : undefined;
}

export function metricValue(measurement, id) {
  if (!measurement) return undefined;
  const found = (measurement.metrics || []).find((m) => m.metricId === id);
  return found ? Number(found.value || 0) : undefined;
}

export const finalValue = (trial, id) => metricValue(trial.finalMeasurement, id);

const pretty = (text) => (text || "").replace(/_/g, " ").toLowerCase();

function poolRows(pool, i) {
  const container = pool.containerSpec;
  const python = pool.pythonPackageSpec;
  const machine = pool.machineSpec || {};
  const command = container
    ? [...(container.command || []), ...(container.args || [])].join(" ")
    : python ? `python -m ${python.pythonModule} ${(python.args || []).join(" ")}` : "";
  return [
    h("dt", {}, `Worker pool ${i}`),
    h("dd", {}, `${pool.replicaCount || 0} × ${machine.machineType || "default"}`,
      machine.acceleratorCount ? ` + ${machine.acceleratorCount} × ${machine.acceleratorType}` : ""),
    h("dt", {}, container ? "Image" : "Package"),
    h("dd", {}, h("code", {}, container ? container.imageUri : (python.packageUris || []).join(", "))),
    h("dt", {}, "Command"), h("dd", {}, h("code", {}, command || "–")),
  ];
}

// The job's spec, readable: counts, metrics, parameters, algorithm, worker pools, raw JSON.
export function specPanel(job) {
  const study = job.studySpec || {};
  const params = parametersOf(job);
  const pools = (job.trialJobSpec || {}).workerPoolSpecs || [];
  return h("section", { class: "panel", id: "spec" },
    h("h2", {}, "Specification"),
    h("div", { class: "spec-grid" },
      h("div", {},
        h("h3", {}, "Study"),
        h("dl", { class: "kv" },
          h("dt", {}, "Algorithm"), h("dd", {}, pretty(study.algorithm || "ALGORITHM_UNSPECIFIED").replace("algorithm unspecified", "default (Bayesian optimization)")),
          h("dt", {}, "Trials"), h("dd", {}, `${job.maxTrialCount || 0} at most, ${job.parallelTrialCount || 0} in parallel`),
          h("dt", {}, "Failed trials allowed"), h("dd", {}, job.maxFailedTrialCount ? String(job.maxFailedTrialCount) : "default"),
          h("dt", {}, "Final measurement"), h("dd", {}, pretty(study.measurementSelectionType || "BEST_MEASUREMENT")),
          study.decayCurveStoppingSpec ? [h("dt", {}, "Early stopping"), h("dd", {}, "decay curve")] : null,
          study.medianAutomatedStoppingSpec ? [h("dt", {}, "Early stopping"), h("dd", {}, "median")] : null),
        h("h3", { style: "margin-top:1rem" }, "Metrics"),
        h("table", { class: "compact" }, h("tbody", {},
          metricsOf(job).map((m) => h("tr", {}, h("td", {}, h("code", {}, m.id)), h("td", {}, h("span", { class: "goal" }, m.minimize ? "MINIMIZE" : "MAXIMIZE"))))))),
      h("div", {},
        h("h3", {}, "Parameters"),
        h("table", { class: "compact" },
          h("thead", {}, h("tr", {}, h("th", {}, "Parameter"), h("th", {}, "Type"), h("th", {}, "Values"), h("th", {}, "Scale"))),
          h("tbody", {}, params.map((p) => h("tr", {},
            h("td", {}, p.parent ? h("span", { class: "muted" }, "↳ ") : "", h("code", {}, p.id),
              p.parent ? h("div", { class: "muted", style: "font-size:.75rem" }, `when ${p.parent.id} ∈ {${p.parent.values.join(", ")}}`) : ""),
            h("td", {}, p.kind.toLowerCase()), h("td", { class: "mono" }, p.domain), h("td", {}, pretty(p.scale).replace("unit ", "") || "–")))))),
      h("div", {},
        h("h3", {}, "Trial job"),
        h("dl", { class: "kv" }, pools.map(poolRows),
          (job.trialJobSpec || {}).baseOutputDirectory ? [h("dt", {}, "Output"), h("dd", {}, h("code", {}, job.trialJobSpec.baseOutputDirectory.outputUriPrefix))] : null))),
    h("details", { class: "raw" }, h("summary", {}, "Job resource as JSON"),
      h("pre", {}, JSON.stringify({ ...job, trials: `(${(job.trials || []).length} trials)` }, null, 2))));
}
