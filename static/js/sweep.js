// A sweep's chart on the run page: Δ (method − control, points) ± 95% CI against the
// swept parameter, one marker per grid point as it ends (the `sweep_point` of its log
// event, heard from run.js), then each point's Holm-adjusted verdict from the summary.
(function () {
  "use strict";
  const boot = JSON.parse(document.getElementById("run-boot").textContent);
  const box = document.getElementById("sweep-chart");
  if (!box || !boot.sweep) return;
  const points = new Map(); // index -> {value, mean, low, high, verdict}
  // Hollow: raw verdict only; filled: Holm-adjusted and still clear of 0.
  const COLOURS = { beats: "#2a7d3f", worse: "#b3362c", unclear: "#777", no_verdict: "#aaa" };

  function pct(v) { return typeof v === "number" ? v * 100 : null; }

  function draw() {
    const rows = [...points.values()].sort((a, b) => a.value - b.value);
    const y = rows.map((r) => pct(r.mean));
    const trace = {
      x: rows.map((r) => r.value), y, mode: "lines+markers", name: "Δ（方法 − 对照）",
      error_y: {
        type: "data", symmetric: false,
        array: rows.map((r, i) => (r.high === null ? 0 : pct(r.high) - y[i])),
        arrayminus: rows.map((r, i) => (r.low === null ? 0 : y[i] - pct(r.low))),
      },
      marker: {
        size: 10,
        color: rows.map((r) => COLOURS[r.holm || r.verdict] || "#777"),
        symbol: rows.map((r) => (r.holm ? "circle" : "circle-open")),
      },
      text: rows.map((r) => (r.holm ? `Holm: ${r.holm}` : `raw: ${r.verdict}`)),
      hovertemplate: "%{x}: Δ %{y:.2f} · %{text}<extra></extra>",
    };
    const layout = {
      margin: { t: 10, r: 10, b: 45, l: 55 },
      xaxis: { title: boot.sweep.param, type: boot.sweep.param === "train_fraction" ? "log" : "linear" },
      yaxis: { title: "Δ（个百分点）", zeroline: true },
      showlegend: false,
    };
    window.Plotly.react(box, [trace], layout, { displaylogo: false, responsive: true });
  }

  document.addEventListener("run-event", (e) => {
    const event = e.detail;
    if (event.type === "log" && event.sweep_point) {
      const p = event.sweep_point;
      points.set(p.index, { value: p.value, mean: p.mean, low: p.ci_low, high: p.ci_high,
                            verdict: p.verdict, holm: null });
      draw();
    } else if (event.type === "done" && event.summary && event.summary.sweep) {
      fromSummary(event.summary);
    }
  });

  function fromSummary(summary) {
    summary.sweep.points.forEach((p, index) => {
      const d = p.delta || {};
      points.set(index, { value: p.value, mean: d.mean ?? null, low: d.ci_low ?? null,
                          high: d.ci_high ?? null, verdict: p.verdict_raw, holm: p.verdict_holm });
    });
    draw();
  }

  if (boot.summary && boot.summary.sweep) {
    window.addEventListener("DOMContentLoaded", () => fromSummary(boot.summary));
  }
})();
