// A sweep's chart on the run page: Δ (method − control, points) ± 95% CI against the
// swept parameter, one marker per grid point as it ends (the `sweep_point` of its log
// event, heard from run.js), then each point's Holm-adjusted verdict from the summary.
(function () {
  "use strict";
  const boot = JSON.parse(document.getElementById("run-boot").textContent);
  const T = window.uiText;
  const box = document.getElementById("sweep-chart");
  if (!box || !boot.sweep) return;
  const lines = new Map(); // arm -> {versus, points: Map(index -> point)}
  const COLOURS = { beats: "#2a7d3f", worse: "#b3362c", unclear: "#777", no_verdict: "#aaa" };
  const DASHES = ["solid", "dot", "dash", "dashdot"];

  function pct(v) { return typeof v === "number" ? v * 100 : null; }

  function add(arm, versus, index, point, adjusted) {
    if (!lines.has(arm)) lines.set(arm, { versus, points: new Map() });
    lines.get(arm).points.set(index, { ...point, adjusted });
  }

  // One trace per comparator; a hollow marker is a raw verdict, a filled one Holm's.
  function draw() {
    const traces = [...lines.entries()].map(([arm, line], i) => {
      const rows = [...line.points.values()].sort((a, b) => a.value - b.value);
      const y = rows.map((r) => pct(r.mean));
      return {
        x: rows.map((r) => r.value), y, mode: "lines+markers", name: T("sweep_versus", { versus: line.versus[window.uiLang()] || line.versus.zh || arm }),
        line: { dash: DASHES[i % DASHES.length] },
        error_y: {
          type: "data", symmetric: false,
          array: rows.map((r, j) => (r.ci_high === null || y[j] === null ? 0 : pct(r.ci_high) - y[j])),
          arrayminus: rows.map((r, j) => (r.ci_low === null || y[j] === null ? 0 : y[j] - pct(r.ci_low))),
        },
        marker: {
          size: 10,
          color: rows.map((r) => COLOURS[r.adjusted ? r.verdict_holm : r.verdict_raw] || "#777"),
          symbol: rows.map((r) => (r.adjusted ? "circle" : "circle-open")),
        },
        text: rows.map((r) => (r.adjusted ? `Holm: ${r.verdict_holm}` : `raw: ${r.verdict_raw}`)),
        hovertemplate: "%{x}: Δ %{y:.2f} · %{text}<extra>" + arm + "</extra>",
      };
    });
    const layout = {
      margin: { t: 10, r: 10, b: 45, l: 55 },
      xaxis: { title: boot.sweep.param, type: boot.sweep.param === "train_fraction" ? "log" : "linear", automargin: true },
      yaxis: { title: T("sweep_y"), zeroline: true, automargin: true },
      legend: { orientation: "h" },
    };
    window.Plotly.react(box, traces, layout, window.KDCharts.plotConfig());
  }

  function fromSummary(summary) {
    for (const line of summary.sweep.lines || []) {
      line.points.forEach((p, index) => add(line.arm, line.versus, index, p, true));
    }
    draw();
  }

  document.addEventListener("run-event", (e) => {
    const event = e.detail;
    if (event.type === "log" && event.sweep_point) {
      const sp = event.sweep_point;
      for (const line of sp.lines || []) add(line.arm, line.versus, sp.index, line, false);
      draw();
    } else if (event.type === "done" && event.summary && event.summary.sweep) {
      fromSummary(event.summary);
    }
  });

  if (boot.summary && boot.summary.sweep) {
    window.addEventListener("DOMContentLoaded", () => fromSummary(boot.summary));
  }
})();
