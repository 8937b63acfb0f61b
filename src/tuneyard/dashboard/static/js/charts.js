// The job's plots, drawn by Apache ECharts (vendored in ../vendor, see its LICENSE there).
//
// Why ECharts: it is an Apache project with steady releases; one self-contained file (1.1 MB,
// no CDN, nothing fetched at run time) draws all four plots, including parallel coordinates,
// and draws them as SVG, without WebGL, which headless browsers and many remote desktops lack
// (Plotly's parallel coordinates need WebGL). SVG also keeps the plots crisp when zoomed.
import { fmtNumber } from "./format.js";
import { finalValue, metricValue, paramValue } from "./study.js";

const INK = "#1f2937";
const MUTED = "#6b7280";
const GRID = "#eef0f3";
const BEST = "#d97706";
const PALETTE = ["#4f46e5", "#0891b2", "#16a34a", "#db2777", "#ea580c", "#7c3aed", "#0d9488", "#ca8a04", "#2563eb", "#9333ea"];
const RAMP = ["#c7d2fe", "#818cf8", "#4f46e5", "#312e81"];

export class Chart {
  constructor(element) {
    this.element = element;
    this.chart = window.echarts.init(element, null, { renderer: "svg" });
    this.signature = "";
    this.onResize = () => this.chart.resize();
    window.addEventListener("resize", this.onResize);
  }

  // Draw ``option`` unless it is what is drawn already (polling redraws only on change).
  update(option) {
    const signature = JSON.stringify(option);
    if (signature === this.signature) return;
    this.signature = signature;
    this.chart.setOption(option, { notMerge: true, lazyUpdate: true });
  }

  dispose() {
    window.removeEventListener("resize", this.onResize);
    this.chart.dispose();
  }
}

const base = () => ({
  animation: false,
  color: PALETTE,
  textStyle: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", color: INK },
  grid: { left: 56, right: 22, top: 34, bottom: 42, containLabel: false },
  tooltip: { trigger: "item", confine: true },
});
const axis = (name, extra = {}) => ({
  name, nameLocation: "middle", nameGap: 28, nameTextStyle: { color: MUTED, fontSize: 11 },
  axisLine: { lineStyle: { color: "#d1d5db" } }, axisTick: { show: false },
  axisLabel: { color: MUTED, fontSize: 11, formatter: (v) => (typeof v === "number" ? fmtNumber(v) : v) },
  splitLine: { lineStyle: { color: GRID } }, scale: true, ...extra,
});
const empty = (text) => ({ title: { text, left: "center", top: "middle", textStyle: { color: "#9ca3af", fontSize: 13, fontWeight: "normal" } } });

const trialNumber = (trial) => Number(trial.id);
export const completed = (trials, metric) =>
  trials.filter((t) => t.state === "SUCCEEDED" && finalValue(t, metric.id) !== undefined);

// Every completed trial's final value by trial id, and the best so far as a step line.
export function historyOption(trials, metric, optimalIds) {
  const done = completed(trials, metric).sort((a, b) => trialNumber(a) - trialNumber(b));
  if (!done.length) return empty("No completed trial yet");
  const better = (a, b) => (metric.minimize ? a < b : a > b);
  let best;
  const bestLine = done.map((t) => {
    const value = finalValue(t, metric.id);
    if (best === undefined || better(value, best)) best = value;
    return [trialNumber(t), best];
  });
  const points = done.map((t) => ({ value: [trialNumber(t), finalValue(t, metric.id)], trialId: t.id }));
  const stars = points.filter((p) => optimalIds.has(p.trialId));
  return {
    ...base(),
    legend: { top: 0, right: 8, textStyle: { color: MUTED, fontSize: 11 }, itemWidth: 14, itemHeight: 8 },
    tooltip: { trigger: "item", formatter: (p) => `trial ${p.value[0]}<br>${metric.id}: <b>${fmtNumber(p.value[1])}</b>` },
    xAxis: axis("trial", { type: "value", minInterval: 1 }),
    yAxis: axis(metric.id, { type: "value", nameGap: 44 }),
    series: [
      { name: "trial", type: "scatter", data: points, symbolSize: 8, itemStyle: { color: "#6366f1", opacity: 0.75 } },
      { name: `best so far (${metric.minimize ? "min" : "max"})`, type: "line", step: "end", data: bestLine, showSymbol: false, lineStyle: { color: BEST, width: 2 }, itemStyle: { color: BEST } },
      { name: "best", type: "scatter", data: stars, symbol: "diamond", symbolSize: 15, itemStyle: { color: BEST, borderColor: "#fff", borderWidth: 1.5 }, z: 5 },
    ],
  };
}

const category = (value) => (value === undefined ? "-" : typeof value === "number" ? value : String(value));

// One line per completed trial across every parameter axis and the metric's axis.
export function parallelOption(trials, metric, params) {
  const done = completed(trials, metric);
  if (!done.length) return empty("No completed trial yet");
  const axes = params.map((p, i) => ({
    dim: i, name: p.id,
    type: p.categories ? "category" : p.log ? "log" : "value",
    ...(p.categories ? { data: p.categories.map(String) } : { scale: true }),
    ...(p.kind === "INTEGER" ? { minInterval: 1 } : {}),
  }));
  const values = done.map((t) => finalValue(t, metric.id));
  axes.push({ dim: params.length, name: metric.id, scale: true, nameTextStyle: { fontWeight: "bold", color: INK } });
  const data = done.map((t) => [...params.map((p) => category(paramValue(t, p.id))), finalValue(t, metric.id)]);
  const low = Math.min(...values);
  const high = Math.max(...values);
  return {
    ...base(),
    tooltip: { show: false },
    parallel: { left: 48, right: 110, top: 42, bottom: 28, parallelAxisDefault: {
      nameLocation: "start", nameGap: 18, nameTextStyle: { color: INK, fontSize: 12 },
      axisLine: { lineStyle: { color: "#9ca3af" } }, axisTick: { show: false },
      axisLabel: { color: MUTED, fontSize: 10, formatter: (v) => (typeof v === "number" ? fmtNumber(v) : v) },
    } },
    parallelAxis: axes.map((a) => ({ ...a, nameLocation: "end" })),
    visualMap: {
      type: "continuous", dimension: params.length, min: low, max: high === low ? low + 1 : high,
      inRange: { color: metric.minimize ? [...RAMP].reverse() : RAMP }, calculable: false,
      right: 10, top: "middle", itemHeight: 130, itemWidth: 10, text: [metric.minimize ? "worse" : "better", metric.minimize ? "better" : "worse"],
      textStyle: { color: MUTED, fontSize: 10 }, formatter: (v) => fmtNumber(v),
    },
    series: [{ type: "parallel", data, lineStyle: { width: 1.6, opacity: 0.7 }, emphasis: { lineStyle: { width: 3, opacity: 1 } } }],
  };
}

// One parameter against the metric; points darken with the trial number.
export function sliceOption(trials, metric, param) {
  const done = completed(trials, metric).filter((t) => paramValue(t, param.id) !== undefined);
  if (!done.length) return empty(`No completed trial sets ${param.id} yet`);
  const data = done.map((t) => ({ value: [category(paramValue(t, param.id)), finalValue(t, metric.id), trialNumber(t)] }));
  const ids = done.map(trialNumber);
  return {
    ...base(),
    grid: { left: 54, right: 16, top: 26, bottom: 40 },
    title: { text: param.id, left: 8, top: 0, textStyle: { fontSize: 12, fontWeight: 600, color: INK } },
    tooltip: { trigger: "item", formatter: (p) => `trial ${p.value[2]}<br>${param.id}: ${fmtNumber(p.value[0])}<br>${metric.id}: <b>${fmtNumber(p.value[1])}</b>` },
    xAxis: axis(param.id, param.categories ? { type: "category", data: param.categories.map(String), scale: false } : { type: param.log ? "log" : "value", minInterval: param.kind === "INTEGER" ? 1 : 0 }),
    yAxis: axis(metric.id, { type: "value", nameGap: 42 }),
    visualMap: { show: false, dimension: 2, min: Math.min(...ids), max: Math.max(Math.max(...ids), Math.min(...ids) + 1), inRange: { color: ["#a5b4fc", "#312e81"] } },
    series: [{ type: "scatter", data, symbolSize: 9, itemStyle: { opacity: 0.85, borderColor: "#fff", borderWidth: 0.5 } }],
  };
}

// Each trial's intermediate measurements of the metric by step: the learning curves.
export function curvesOption(trials, metric, optimalIds, only) {
  const shown = trials.filter((t) => (only ? t.id === only : true) && (t.measurements || []).some((m) => metricValue(m, metric.id) !== undefined));
  if (!shown.length) return empty("No measurement reported yet");
  const series = shown.map((t, i) => {
    const best = optimalIds.has(t.id);
    return {
      name: `trial ${t.id}`, type: "line", showSymbol: (t.measurements || []).length < 30, symbolSize: 5,
      data: t.measurements.filter((m) => metricValue(m, metric.id) !== undefined).map((m) => [Number(m.stepCount || 0), metricValue(m, metric.id)]),
      lineStyle: { width: best ? 3 : 1.5, opacity: best || only ? 1 : 0.55 },
      itemStyle: { color: best ? BEST : PALETTE[i % PALETTE.length] }, z: best ? 5 : 2,
      emphasis: { focus: "series" },
    };
  });
  return {
    ...base(),
    legend: shown.length <= 12 ? { top: 0, right: 8, type: "scroll", textStyle: { color: MUTED, fontSize: 11 }, itemWidth: 14, itemHeight: 8 } : undefined,
    grid: { left: 56, right: 22, top: shown.length <= 12 ? 34 : 16, bottom: 42 },
    tooltip: { trigger: "item", formatter: (p) => `${p.seriesName}, step ${p.value[0]}<br>${metric.id}: <b>${fmtNumber(p.value[1])}</b>` },
    xAxis: axis("step", { type: "value", minInterval: 1 }),
    yAxis: axis(metric.id, { type: "value", nameGap: 44 }),
    series,
  };
}
