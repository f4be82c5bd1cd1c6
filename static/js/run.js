// The run page: follows the run's Server-Sent Events and draws them as they come.
// The stream replays every stored event first, so a reload redraws the whole run, and
// the browser's automatic reconnect resumes after the last seq it saw (Last-Event-ID).
(function () {
  "use strict";
  const { LiveChart, seedMean } = window.KDCharts;
  const boot = JSON.parse(document.getElementById("run-boot").textContent);
  const $ = (id) => document.getElementById(id);
  const STATUS = {
    queued: "排队中", running: "运行中", succeeded: "已完成", failed: "失败",
    cancelled: "已取消", interrupted: "已中断",
  };
  const TERMINAL = new Set(["done", "failed", "cancelled"]);

  const charts = {
    loss: new LiveChart($("loss-chart"), {
      smoothing: Number($("smoothing").value), xTitle: "步", yTitle: "损失（各种子均值）",
    }),
    acc: new LiveChart($("acc-chart"), { xTitle: "轮", yTitle: "验证准确率 (%，各种子均值)" }),
  };
  const state = {
    step: 0, epoch: 0, phase: null, seeds: null, phaseSteps: 0, phaseStart: null, lastSeq: 0,
    // Every value as it came, one per seed, by chart and trace key: the charts draw
    // the means, and ±sd bands or per-seed lines can later be drawn from the same data.
    // key -> {name, x: [...], seeds: [[seed, ...] per point], values: [[v, ...] per point]}
    series: { loss: new Map(), acc: new Map() },
  };
  window.kdRun = { loss: charts.loss, acc: charts.acc, state }; // for the browser tests

  // A metric's values, one per seed; runs stored before seeds sent a plain number.
  function asList(value) {
    if (Array.isArray(value)) return value;
    return value === undefined ? [] : [value];
  }

  // One point of one trace: keep its per-seed values, draw their mean (times scale).
  function record(chart, key, name, style, x, value, scale) {
    const values = asList(value);
    if (!values.length) return;
    let series = state.series[chart].get(key);
    if (!series) {
      series = { name, x: [], seeds: [], values: [] };
      state.series[chart].set(key, series);
    }
    series.x.push(x);
    series.seeds.push(state.seeds);
    series.values.push(values);
    charts[chart].addTrace(key, name, style);
    const mean = seedMean(values);
    if (mean !== null) charts[chart].push(key, x, mean * scale);
  }

  function setStatus(status) {
    const badge = $("run-status");
    badge.textContent = STATUS[status] || status;
    badge.dataset.status = status;
    badge.className = `badge status-${status}`;
    $("cancel-form").hidden = !(status === "queued" || status === "running");
    if (status !== "queued") $("run-position").textContent = "";
  }

  function setProgress(step, steps, epoch, epochs, t) {
    const bar = $("run-progress");
    bar.value = steps ? step / steps : 0;
    const seeds = state.seeds ? ` · ${state.seeds.length} 个种子` : "";
    let text = `阶段 ${state.phase}${seeds} · 第 ${epoch}/${epochs} 轮 · 第 ${step}/${steps} 步`;
    if (state.phaseStart !== null && step > 0 && t) {
      const left = ((t - state.phaseStart) / step) * (steps - step);
      text += ` · 预计剩余 ${left < 60 ? Math.ceil(left) + " 秒" : (left / 60).toFixed(1) + " 分钟"}`;
    }
    $("run-progress-label").textContent = text;
  }

  function onPhase(event) {
    if (event.state !== "start") return;
    state.phase = event.phase;
    state.seeds = Array.isArray(event.seeds) ? event.seeds : null;
    state.phaseSteps = event.steps;
    state.phaseEpochs = event.epochs;
    state.phaseStart = event.t || null;
    charts.loss.mark(state.step + 0.5, event.phase);
    charts.acc.mark(state.epoch + 0.5, event.phase);
    setStatus("running");
    setProgress(0, event.steps, 0, event.epochs, event.t);
  }

  function onStep(event) {
    state.step += 1;
    for (const [model, terms] of Object.entries(event.losses || {})) {
      for (const [term, value] of Object.entries(terms || {})) {
        const style = { model, plotly: term === "total" ? {} : { visible: "legendonly" } };
        record("loss", `${model}·${term}`, `${model} · ${term}`, style, state.step, value, 1);
      }
    }
    setProgress(event.step, event.steps, event.epoch, state.phaseEpochs || "?", event.t);
  }

  function onEpoch(event) {
    state.epoch += 1;
    for (const [model, values] of Object.entries(event.models || {})) {
      if (!values || values.acc === undefined) continue;
      const style = { model, plotly: { mode: "lines+markers" } };
      record("acc", model, model, style, state.epoch, values.acc, 100);
    }
  }

  // The result block is the server's (run.html), so it reads the same live and after a
  // reload: when a watched run ends, fetch the page again and take its block.
  async function showSummary() {
    $("run-progress").value = 1;
    const section = $("run-summary");
    if (!section.hidden) return; // rendered with the page
    try {
      const response = await fetch(`/runs/${encodeURIComponent(boot.id)}`, {
        headers: { accept: "text/html" },
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("run-summary");
      if (!fresh) throw new Error("no result block in the page");
      section.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)));
    } catch (error) {
      $("summary-facts").textContent = "结果已保存，刷新页面即可查看。";
    }
    section.hidden = false;
  }

  function onEvent(event) {
    if (event.seq <= state.lastSeq) return; // never draw a point twice
    state.lastSeq = event.seq;
    if (event.type === "phase") onPhase(event);
    else if (event.type === "metric" && event.kind === "step") onStep(event);
    else if (event.type === "metric" && event.kind === "epoch") onEpoch(event);
    else if (event.type === "done") { setStatus("succeeded"); showSummary(); }
    else if (event.type === "failed") {
      setStatus(event.status || "failed");
      $("run-error").textContent = event.error || "运行失败";
      $("run-error").hidden = false;
    } else if (event.type === "cancelled") setStatus("cancelled");
  }

  function follow() {
    const source = new EventSource(`/api/runs/${encodeURIComponent(boot.id)}/events`);
    for (const type of ["phase", "metric", "log", "done", "failed", "cancelled"]) {
      source.addEventListener(type, (message) => {
        const event = JSON.parse(message.data);
        onEvent(event);
        // The run is over: close, or the browser would reconnect for ever.
        if (TERMINAL.has(type)) source.close();
      });
    }
  }

  async function pollQueue() {
    // A queued run sends no events yet; its place in the queue comes from the API.
    if ($("run-status").dataset.status !== "queued") return;
    try {
      const run = await (await fetch(`/api/runs/${encodeURIComponent(boot.id)}`)).json();
      if (run.status === "queued" && run.position) {
        $("run-position").textContent = `队列第 ${run.position} 位`;
      }
    } catch (error) { /* the next poll tries again */ }
    window.setTimeout(pollQueue, 2000);
  }

  function drawVirtualTeacher() {
    const probs = boot.virtual_teacher;
    if (!probs) return;
    $("teacher-chart-wrap").hidden = false;
    const labels = probs.map((_, i) => (i === 0 ? "真实类" : `其他类 ${i}`));
    window.Plotly.newPlot($("teacher-chart"), [{
      type: "bar", x: labels, y: probs, marker: { color: probs.map((_, i) => (i ? "#6c757d" : "#d1495b")) },
    }], window.KDCharts.themeLayout({ yaxis: { range: [0, 1], title: { text: "概率" } } }),
    { displaylogo: false, responsive: true });
  }

  $("smoothing").addEventListener("input", (e) => {
    $("smoothing-value").textContent = e.target.value;
    charts.loss.setSmoothing(Number(e.target.value));
  });
  $("cancel-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("cancel-button").disabled = true;
    const headers = { accept: "application/json" };
    const token = e.target.querySelector("[name=token]");
    if (token && token.value) headers["x-run-token"] = token.value;
    const response = await fetch(e.target.action, { method: "POST", headers });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      $("run-error").textContent = body.detail || `取消失败（${response.status}）`;
      $("run-error").hidden = false;
    }
    $("cancel-button").disabled = false;
  });

  charts.loss.redraw();
  charts.acc.redraw();
  drawVirtualTeacher();
  follow();
  pollQueue();
})();
