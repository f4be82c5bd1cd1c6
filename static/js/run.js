// The run page: follows the run's Server-Sent Events and draws them as they come.
// The stream replays every stored event first, so a reload redraws the whole run, and
// the browser's automatic reconnect resumes after the last seq it saw (Last-Event-ID).
(function () {
  "use strict";
  const { LiveChart } = window.KDCharts;
  const boot = JSON.parse(document.getElementById("run-boot").textContent);
  const $ = (id) => document.getElementById(id);
  const STATUS = {
    queued: "排队中", running: "运行中", succeeded: "已完成", failed: "失败",
    cancelled: "已取消", interrupted: "已中断",
  };
  const TERMINAL = new Set(["done", "failed", "cancelled"]);

  const loss = new LiveChart($("loss-chart"), {
    smoothing: Number($("smoothing").value), xTitle: "步", yTitle: "损失",
  });
  const acc = new LiveChart($("acc-chart"), { xTitle: "轮", yTitle: "测试准确率 (%)" });
  const state = { step: 0, epoch: 0, phase: null, phaseSteps: 0, phaseStart: null, lastSeq: 0 };
  window.kdRun = { loss, acc, state }; // for the browser tests and the curious

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
    let text = `阶段 ${state.phase} · 第 ${epoch}/${epochs} 轮 · 第 ${step}/${steps} 步`;
    if (state.phaseStart !== null && step > 0 && t) {
      const left = ((t - state.phaseStart) / step) * (steps - step);
      text += ` · 预计剩余 ${left < 60 ? Math.ceil(left) + " 秒" : (left / 60).toFixed(1) + " 分钟"}`;
    }
    $("run-progress-label").textContent = text;
  }

  function onPhase(event) {
    if (event.state !== "start") return;
    state.phase = event.phase;
    state.phaseSteps = event.steps;
    state.phaseEpochs = event.epochs;
    state.phaseStart = event.t || null;
    loss.mark(state.step + 0.5, event.phase);
    acc.mark(state.epoch + 0.5, event.phase);
    setStatus("running");
    setProgress(0, event.steps, 0, event.epochs, event.t);
  }

  function onStep(event) {
    state.step += 1;
    for (const [model, terms] of Object.entries(event.losses || {})) {
      for (const [term, value] of Object.entries(terms)) {
        const key = `${model}·${term}`;
        const style = { model, plotly: term === "total" ? {} : { visible: "legendonly" } };
        loss.addTrace(key, `${model} · ${term}`, style);
        loss.push(key, state.step, value);
      }
    }
    setProgress(event.step, event.steps, event.epoch, state.phaseEpochs || "?", event.t);
  }

  function onEpoch(event) {
    state.epoch += 1;
    for (const [model, values] of Object.entries(event.models || {})) {
      if (typeof values.acc !== "number") continue;
      acc.addTrace(model, model, { model, plotly: { mode: "lines+markers" } });
      acc.push(model, state.epoch, values.acc * 100);
    }
  }

  function percent(value) {
    return typeof value === "number" ? `${(value * 100).toFixed(2)}%` : "—";
  }

  function showSummary(summary) {
    const delta = summary.delta_acc;
    const rows = [
      ["方法最终准确率", percent(summary.final_acc)],
      ["方法最佳准确率", percent(summary.best_acc)],
      ["基线最终准确率", percent(summary.baseline_final_acc)],
      ["差值", typeof delta === "number" ? `${delta >= 0 ? "+" : ""}${(delta * 100).toFixed(2)} 个百分点` : "—"],
      ["教师准确率", percent(summary.teacher_acc)],
      ["用时", typeof summary.wall_s === "number" ? `${summary.wall_s.toFixed(1)} 秒` : "—"],
    ];
    const facts = $("summary-facts");
    facts.replaceChildren(...rows.map(([label, value]) => {
      const div = document.createElement("div");
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = label;
      dd.textContent = value;
      div.append(dt, dd);
      return div;
    }));
    $("run-summary").hidden = false;
    $("run-progress").value = 1;
  }

  function onEvent(event) {
    if (event.seq <= state.lastSeq) return; // never draw a point twice
    state.lastSeq = event.seq;
    if (event.type === "phase") onPhase(event);
    else if (event.type === "metric" && event.kind === "step") onStep(event);
    else if (event.type === "metric" && event.kind === "epoch") onEpoch(event);
    else if (event.type === "done") { setStatus("succeeded"); showSummary(event.summary || {}); }
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
    loss.setSmoothing(Number(e.target.value));
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

  loss.redraw();
  acc.redraw();
  drawVirtualTeacher();
  follow();
  pollQueue();
})();
