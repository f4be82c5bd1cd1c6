// The compare page's overlay: each run's curves read from its stored metrics (every
// point, as the CSV has them: one per seed), drawn as the mean over seeds, like the
// run page.
(function () {
  "use strict";
  const ROOT = document.documentElement.dataset.root || "";
  const idsNode = document.getElementById("compare-ids");
  if (!idsNode || !window.KDCharts) return;
  const { LiveChart, seedMean } = window.KDCharts;
  const ids = JSON.parse(idsNode.textContent);
  const T = window.uiText;
  const accChart = new LiveChart(document.getElementById("compare-acc"), {
    xTitle: T("x_epoch"), yTitle: T("compare_acc"), integerX: true,
  });
  const lossChart = new LiveChart(document.getElementById("compare-loss"), {
    smoothing: 0.6, xTitle: T("x_step"), yTitle: T("compare_loss"), integerX: true,
  });
  window.kdCompare = { accChart, lossChart };

  // One point per event, model and name: the seeds' rows of it, averaged.
  function seedMeans(points) {
    const groups = new Map();
    for (const point of points) {
      const key = `${point.seq}|${point.model}|${point.name}`;
      if (!groups.has(key)) groups.set(key, { ...point, values: [] });
      groups.get(key).values.push(point.value);
    }
    return [...groups.values()].map((g) => ({ ...g, value: seedMean(g.values) }));
  }

  async function addRun(id, index) {
    const data = await (await fetch(`${ROOT}/api/runs/${encodeURIComponent(id)}/metrics.json`)).json();
    const color = window.KDCharts.colorFor(`run-${index}`, index);
    let step = 0, lastStepSeq = null;
    const epochs = {};
    for (const point of seedMeans(data.points)) {
      if (point.kind === "step" && point.phase === "train" && point.model === "student" && point.name === "total") {
        if (point.seq !== lastStepSeq) { step += 1; lastStepSeq = point.seq; }
        const key = `${id}·loss`;
        lossChart.addTrace(key, `${id} ${data.method}`, { plotly: { line: { color } } });
        if (point.value !== null) lossChart.push(key, step, point.value);
      }
      if (point.kind === "epoch" && point.phase === "train" && point.name === "acc" &&
          (point.model === "student" || point.model === "baseline")) {
        const key = `${id}·${point.model}`;
        epochs[key] = (epochs[key] || 0) + 1;
        accChart.addTrace(key, `${id} ${data.method} · ${point.model}`, {
          plotly: { mode: "lines+markers", line: { color, dash: point.model === "baseline" ? "dot" : "solid" } },
        });
        if (point.value !== null) accChart.push(key, epochs[key], point.value * 100);
      }
    }
  }

  Promise.all(ids.map(addRun)).then(() => { accChart.redraw(); lossChart.redraw(); });
})();
