// /methods: the forest plot of every method's Δ with its 95% CI (this server's latest
// default run beside the reference), and "re-run all", which fills the table in live.
//
// Re-run all posts once; the server admits what the queue and this client's limit
// allow and says why it refused the rest. While the page is open it follows its own
// runs and, as each ends, asks again for the methods that were refused for being
// busy (429), so the whole table fills without ever exceeding the limits.
(function () {
  "use strict";
  const ROOT = document.documentElement.dataset.root || "";
  const T = window.uiText;
  const POLL_MS = 1500;
  const table = document.getElementById("methods-table");
  const forestNode = document.getElementById("forest");
  const form = document.getElementById("rerun-form");
  const status = document.getElementById("rerun-status");
  const refusedList = document.getElementById("rerun-refused");
  const inFlight = new Map();   // run id -> method
  let waiting = [];             // methods refused as busy: asked for again later
  let token = null;
  let timer = null;

  function forestData() {
    const node = document.getElementById("forest-data");
    return node ? JSON.parse(node.textContent) : { rows: [], reference_seeds: 0 };
  }

  function trace(rows, source, name, color) {
    const shown = rows.filter((r) => r[source]);
    return {
      type: "scatter", mode: "markers", name,
      x: shown.map((r) => r[source].mean),
      y: shown.map((r) => r.id),
      marker: { color, size: 9, symbol: source === "live" ? "circle" : "diamond" },
      error_x: {
        type: "data", symmetric: false, color, thickness: 1.5, width: 4,
        array: shown.map((r) => r[source].high - r[source].mean),
        arrayminus: shown.map((r) => r[source].mean - r[source].low),
      },
      offsetgroup: source,
      customdata: shown.map((r) => [r[source].low, r[source].high, r[source].n]),
      hovertemplate: "%{y}: Δ %{x:+.2f} [%{customdata[0]:+.2f}, %{customdata[1]:+.2f}]"
        + " · " + T("forest_seeds", { n: "%{customdata[2]}" }) + "<extra>" + name + "</extra>",
    };
  }

  function drawForest() {
    if (!forestNode || !window.Plotly || !window.KDCharts) return;
    const data = forestData();
    const rows = data.rows.slice().reverse();  // Plotly draws the first category lowest
    const { themeLayout } = window.KDCharts;
    const base = themeLayout();
    const layout = themeLayout({
      height: Math.max(240, 34 * rows.length + 100),
      margin: { l: 80, r: 10, t: 30, b: 50 },
      legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" },
      hovermode: "closest",
      scattermode: "group",
      xaxis: Object.assign(base.xaxis, { title: { text: T("forest_x") }, zeroline: true }),
      yaxis: Object.assign(base.yaxis, {
        type: "category", categoryorder: "array", categoryarray: rows.map((r) => r.id),
      }),
      shapes: [{ type: "line", xref: "x", yref: "paper", x0: 0, x1: 0, y0: 0, y1: 1,
                 line: { color: "#888", width: 1, dash: "dot" } }],
    });
    const traces = [
      trace(rows, "live", T("forest_live"), "#d1495b"),
      trace(rows, "reference", T("forest_reference", { n: data.reference_seeds }), "#1b6ca8"),
    ];
    window.Plotly.react(forestNode, traces, layout, window.KDCharts.plotConfig());
  }

  async function refresh() {
    const sort = (table.querySelector("table") || {}).dataset?.sort || "method";
    const response = await fetch(`${ROOT}/methods?fragment=1&sort=${encodeURIComponent(sort)}`);
    if (!response.ok) return;
    table.innerHTML = await response.text();
    drawForest();
  }

  function showRefused(refused) {
    refusedList.replaceChildren(...refused.map((r) => {
      const li = document.createElement("li");
      li.textContent = `${r.method}：${r.detail}`;
      return li;
    }));
    refusedList.hidden = refused.length === 0;
  }

  function say() {
    const parts = [];
    if (inFlight.size) parts.push(T("rerun_in_flight", { n: inFlight.size }));
    if (waiting.length) parts.push(T("rerun_waiting", { n: waiting.length }));
    status.textContent = parts.length === 2 ? T("rerun_both", { a: parts[0], b: parts[1] })
      : parts[0] || T("rerun_done");
  }

  async function launch(methods) {
    const headers = { "content-type": "application/json", accept: "application/json" };
    if (token) headers["x-run-token"] = token;
    const body = methods ? { methods } : {};
    const response = await fetch(form.action, { method: "POST", headers, body: JSON.stringify(body) });
    const out = await response.json().catch(() => ({}));
    if (!Array.isArray(out.queued)) {  // refused as a whole: token, body, service down
      status.textContent = out.detail || T("request_failed", { status: response.status });
      return false;
    }
    for (const q of out.queued) inFlight.set(q.id, q.method);
    waiting = out.refused.filter((r) => r.status_code === 429).map((r) => r.method);
    showRefused(out.refused);
    say();
    return true;
  }

  async function poll() {
    timer = null;
    let ended = 0;
    for (const id of [...inFlight.keys()]) {
      const response = await fetch(`${ROOT}/api/runs/${encodeURIComponent(id)}`);
      const run = response.ok ? await response.json() : { status: "failed" };
      if (run.status !== "queued" && run.status !== "running") { inFlight.delete(id); ended += 1; }
    }
    if (ended) await refresh();
    if (ended && waiting.length) await launch(waiting);
    say();
    if (inFlight.size) timer = setTimeout(poll, POLL_MS);
    else form.querySelector("button").disabled = false;
  }

  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      token = new FormData(form).get("token") || null;
      button.disabled = true;
      status.textContent = T("rerun_queueing");
      try {
        if (await launch(null) && inFlight.size) {
          if (!timer) timer = setTimeout(poll, POLL_MS);
          return;
        }
      } catch (error) {
        status.textContent = T("offline", { error: error.message });
      }
      button.disabled = false;
    });
  }
  window.kdMethods = { drawForest, refresh, inFlight };
  drawForest();
})();
