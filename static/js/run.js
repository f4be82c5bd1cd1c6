// The run page: follows the run's Server-Sent Events and draws them as they come.
// The stream replays every stored event first, so a reload redraws the whole run, and
// the browser's automatic reconnect resumes after the last seq it saw (Last-Event-ID).
(function () {
  "use strict";
  const ROOT = document.documentElement.dataset.root || "";
  const { LiveChart, meanSd } = window.KDCharts;
  const boot = JSON.parse(document.getElementById("run-boot").textContent);
  const $ = (id) => document.getElementById(id);
  // The run contract's statuses and labels (app/runs/contract.py), from the server.
  const STATUS = boot.status_labels;
  const TERMINAL = new Set(["done", "failed", "cancelled"]);

  // The view (x axis, log y, smoothing) lives in the query string, so a copied link
  // opens the same view: ?x=step|epoch|time&log=1&smooth=0.6.
  const T = window.uiText;
  const X_MODES = { step: T("x_step"), epoch: T("x_epoch"), time: T("x_time") };
  const DEFAULT_SMOOTHING = 0.6;
  const view = readView(new URLSearchParams(window.location.search));

  function readView(query) {
    const smoothing = Number(query.get("smooth"));
    return {
      x: query.get("x") in X_MODES ? query.get("x") : "step",
      log: query.get("log") === "1",
      smoothing: query.has("smooth") && smoothing >= 0 && smoothing <= 0.99
        ? smoothing : DEFAULT_SMOOTHING,
    };
  }

  // Only what differs from the defaults goes into the URL; other parameters stay.
  function writeView() {
    const query = new URLSearchParams(window.location.search);
    const set = (name, value, isDefault) => (isDefault ? query.delete(name) : query.set(name, value));
    set("x", view.x, view.x === "step");
    set("log", "1", !view.log);
    set("smooth", String(view.smoothing), view.smoothing === DEFAULT_SMOOTHING);
    const search = query.toString();
    window.history.replaceState(null, "", `${window.location.pathname}${search ? "?" + search : ""}`);
  }

  // The charts, declared once on the server (app/runs/charts.py): each names the
  // metric group of the events that feeds it. A chart follows the x control where it
  // can (one with a point per epoch would only be stretched against steps). A faceted
  // entry is one chart per metric name (a method's own loss terms, each on its axis),
  // keyed `id·term` and made when its first value comes.
  const SPECS = boot.charts;
  const charts = {}; // key -> LiveChart
  const specOf = {}; // key -> its entry of the table
  function xMode(key) {
    const modes = specOf[key].x_modes;
    return modes.includes(view.x) ? view.x : modes[0];
  }

  function figure(id, label) {
    const element = document.createElement("div");
    element.id = id;
    element.className = "chart";
    element.setAttribute("role", "figure"); // Plotly's toolbar inside can be focused
    element.setAttribute("aria-label", label);
    return element;
  }

  function chartElement(spec, term) {
    if (term !== undefined) { // one panel of a faceted entry, under its own heading
      const box = $(`${spec.id}-chart`);
      const heading = document.createElement("h3");
      heading.textContent = spec.title.replace("{term}", term);
      const element = figure(`${spec.id}-${term.replace(/\W/g, "_")}-chart`, spec.label.replace("{term}", term));
      element.dataset.term = term;
      box.append(heading, element);
      return element;
    }
    let element = $(`${spec.id}-chart`);
    if (!element) { // a chart the page's template does not place: after the others
      element = figure(`${spec.id}-chart`, spec.label);
      const placed = document.querySelectorAll(".charts .chart, .charts .chart-facets");
      placed[placed.length - 1].after(element);
    }
    return element;
  }

  function ensureChart(spec, term) {
    const key = term === undefined ? spec.id : `${spec.id}·${term}`;
    if (charts[key]) return key;
    specOf[key] = spec;
    const yTitle = term === undefined ? spec.y_title : spec.y_title.replace("{term}", term);
    const chart = new LiveChart(chartElement(spec, term), Object.assign(
      { xTitle: X_MODES[xMode(key)], yTitle, integerX: xMode(key) !== "time" },
      spec.smoothing ? { smoothing: view.smoothing } : {}));
    if (spec.log_y) chart.layout.yaxis.type = view.log ? "log" : "linear";
    charts[key] = chart;
    if (!state.series[key]) state.series[key] = new Map();
    for (const mark of state.marks) markOn(key, mark);
    return key;
  }

  function markOn(key, mark) {
    const x = mark[specOf[key].kind][xMode(key)];
    if (x !== null && x !== undefined) charts[key].mark(x, mark.label);
  }

  const state = {
    step: 0, epoch: 0, phase: null, seeds: null, phaseSteps: 0, lastSeq: 0, ended: false,
    epochBase: 0, t0: null, final: null,
    // Every value as it came, one per seed, by chart and trace key, with its x in every
    // mode, so the charts can be drawn again on another x axis.
    // key -> {name, style, x: [{step, epoch, time}], seeds: [[seed, ...]], values: [[v, ...]]}
    series: {},
    marks: [], // phase starts: {label, step: {step, epoch, time}, epoch: {epoch, time}}
  };
  SPECS.filter((spec) => !spec.facet).forEach((spec) => ensureChart(spec));
  window.kdRun = { state, view, charts, specOf }; // for the browser tests

  // A metric's values, one per seed; runs stored before seeds sent a plain number.
  function asList(value) {
    if (Array.isArray(value)) return value;
    return value === undefined ? [] : [value];
  }

  // Seconds since the run's first timed event (events carry `t`, unix seconds).
  function elapsed(t) {
    if (typeof t !== "number") return null;
    if (state.t0 === null) state.t0 = t;
    return t - state.t0;
  }

  // One point of one trace: keep its per-seed values, then draw it.
  function record(chart, key, name, style, xs, value, scale) {
    const values = asList(value);
    if (!values.length) return;
    let series = state.series[chart].get(key);
    if (!series) {
      series = { name, style, x: [], seeds: [], values: [] };
      state.series[chart].set(key, series);
    }
    series.x.push(xs);
    series.seeds.push(state.seeds);
    series.values.push(values);
    draw(chart, key, series, series.x.length - 1, scale);
  }

  // Point i of a series on its chart: the mean with its ±sd band (only when every seed
  // has a number: a mean over the survivors is not the mean across seeds) and, for
  // traces that ask for it, each seed's own value on its thin line.
  function draw(chart, key, series, i, scale) {
    const c = charts[chart];
    const x = series.x[i][xMode(chart)];
    if (x === null || x === undefined) return;
    const values = series.values[i];
    c.addTrace(key, series.name, series.style);
    c.addBand(key);
    if (series.style.seedLines) {
      c.addSeeds(key, T("each_seed", { name: series.name }));
      values.forEach((v, j) => {
        const seed = series.seeds[i] ? series.seeds[i][j] : j;
        if (typeof v === "number" && Number.isFinite(v)) c.pushSeed(key, seed, x, v * scale);
      });
    }
    if (!values.every((v) => typeof v === "number" && Number.isFinite(v))) return;
    const { mean, sd } = meanSd(values);
    c.pushBand(key, x, mean * scale, sd * scale);
  }

  // Draw everything again from state.series (another x axis): same traces, same order.
  function rebuild() {
    for (const key of Object.keys(charts)) {
      charts[key].reset(X_MODES[xMode(key)]);
      charts[key].setIntegerX(xMode(key) !== "time");
      for (const mark of state.marks) markOn(key, mark);
      for (const [trace, series] of state.series[key] || new Map()) {
        for (let i = 0; i < series.x.length; i++) draw(key, trace, series, i, specOf[key].scale);
      }
    }
  }

  // -- the verdict box: paired Δ (student − baseline), live on validation, final on test

  // Mean, 95% CI (Student t, k − 1 df, from the server's table) and verdict of the
  // per-seed deltas, in points; the same rule as app/distill/stats.py.
  function pairedDeltas(deltas) {
    const n = deltas.length;
    const { mean, sd } = meanSd(deltas);
    if (n < 2) return { mean, ciLow: null, ciHigh: null, verdict: "one_seed" };
    const t = boot.t975[n - 2];
    if (t === undefined) return null;
    const half = (t * sd) / Math.sqrt(n);
    const ciLow = mean - half, ciHigh = mean + half;
    // Below 3 seeds, or with every seed the same Δ, the interval is no evidence.
    const verdict = n < 3 ? "few_seeds" : sd === 0 ? "zero_width"
      : ciLow > 0 ? "beats" : ciHigh < 0 ? "worse" : "unclear";
    return { mean, ciLow, ciHigh, verdict };
  }

  const signed = (v) => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(2)}`;

  function showVerdict(scope, scopeText, result, label) {
    const box = $("verdict-box");
    box.hidden = false;
    box.dataset.scope = scope;
    box.dataset.verdict = result.verdict;
    $("verdict-scope").textContent = scopeText;
    $("verdict-mean").textContent = signed(result.mean);
    $("verdict-ci").textContent = result.ciLow === null ? ""
      : T("ci", { low: signed(result.ciLow), high: signed(result.ciHigh) });
    $("verdict-label").textContent = label;
    $("verdict-label").className = `verdict verdict-${result.verdict}`;
  }

  // Each train-phase epoch: Δ on the latest epoch's validation accuracy, per seed.
  function liveVerdict(event) {
    if (state.final || event.phase !== "train") return;
    const models = event.models || {};
    const student = asList(models.student && models.student.acc);
    const baseline = asList(models.baseline && models.baseline.acc);
    const finite = (v) => typeof v === "number" && Number.isFinite(v);
    if (!student.length || student.length !== baseline.length) return;
    if (![...student, ...baseline].every(finite)) return;
    const result = pairedDeltas(student.map((s, i) => (s - baseline[i]) * 100));
    if (!result) return;
    showVerdict("val", T("val_scope", { epoch: event.epoch }), result, boot.verdicts[result.verdict]);
  }

  // The summary's delta: student vs baseline on the test split, final models.
  function finalVerdict(summary) {
    const delta = summary && summary.delta;
    if (!delta || typeof delta.mean !== "number" || !(delta.verdict in boot.verdicts)) return;
    const points = (v) => (typeof v === "number" ? v * 100 : null);
    state.final = {
      mean: delta.mean * 100, ciLow: points(delta.ci_low), ciHigh: points(delta.ci_high),
      verdict: delta.verdict,
    };
    if (state.final.ciHigh === null) state.final.ciLow = null;
    showVerdict("test", T("test_scope"), state.final, boot.verdicts[delta.verdict]);
  }

  function setStatus(status) {
    const badge = $("run-status");
    badge.textContent = STATUS[status] || status;
    badge.dataset.status = status;
    badge.className = `badge status-${status}`;
    $("cancel-form").hidden = !(status === "queued" || status === "running");
    if (status !== "queued") $("run-position").textContent = "";
  }

  // One bar and one ETA for the whole run, teacher and student phases together: the
  // server puts the run's `whole` progress on each event (app/runs/progress.py), and
  // the run's end stops the bar with its real time.
  // A time left is rounded up (never promise less); a time taken to the nearest second,
  // as the server's own render of the page says it.
  function duration(seconds, up) {
    if (seconds >= 60) return T("minutes", { n: (seconds / 60).toFixed(1) });
    return T("seconds", { n: up ? Math.ceil(seconds) : Math.round(seconds) });
  }

  function setProgress(whole, step, steps, epoch, epochs) {
    if (state.ended) return;
    const seeds = state.seeds ? " " + T("progress_seeds", { n: state.seeds.length }) : "";
    let text = T("progress", { phase: state.phase, seeds, epoch, epochs, step, steps });
    if (whole && typeof whole.done === "number") {
      $("run-progress").value = whole.done;
      text += " " + (typeof whole.left_s === "number"
        ? T("eta", { time: duration(whole.left_s, true) }) : T("eta_unknown"));
    }
    $("run-progress-label").textContent = text;
  }

  function endProgress(event) {
    state.ended = true;
    const whole = event.whole;
    if (event.type === "done") $("run-progress").value = 1;
    else if (whole && typeof whole.done === "number") $("run-progress").value = whole.done;
    if (whole && typeof whole.elapsed_s === "number") {
      $("run-progress-label").textContent = T("took", { time: duration(whole.elapsed_s, false) });
    }
  }

  function onPhase(event) {
    if (event.state !== "start") return;
    state.phase = event.phase;
    state.seeds = Array.isArray(event.seeds) ? event.seeds : null;
    state.phaseSteps = event.steps;
    state.phaseEpochs = event.epochs;
    state.epochBase = state.epoch;
    const time = elapsed(event.t);
    const mark = {
      label: event.phase,
      step: { step: state.step + 0.5, epoch: state.epoch, time },
      epoch: { epoch: state.epoch + 0.5, time },
    };
    state.marks.push(mark);
    for (const key of Object.keys(charts)) markOn(key, mark);
    setStatus("running");
    setProgress(event.whole, 0, event.steps, 0, event.epochs);
  }

  // Every chart fed by this kind of metric event: one trace per model (a chart of one
  // metric), per model and metric (`main` with its seeds' lines, the rest hidden), or,
  // faceted, one chart per metric with a trace per model.
  function recordGroups(kind, event, xs) {
    for (const spec of SPECS.filter((s) => s.kind === kind)) {
      for (const [model, metrics] of Object.entries(event[spec.group] || {})) {
        if (!metrics) continue;
        if (spec.facet) { recordFacets(spec, model, metrics, xs); continue; }
        if (spec.metric !== null) {
          if (metrics[spec.metric] === undefined) continue;
          const style = { model, seedLines: true, plotly: spec.markers ? { mode: "lines+markers" } : {} };
          record(spec.id, model, model, style, xs, metrics[spec.metric], spec.scale);
          continue;
        }
        for (const [name, value] of Object.entries(metrics)) {
          const main = name === spec.main;
          const style = { model, seedLines: main, plotly: main ? {} : { visible: "legendonly" } };
          record(spec.id, `${model}·${name}`, `${model} · ${name}`, style, xs, value, spec.scale);
        }
      }
    }
  }

  // A model's `main` that sums nothing but the excluded metrics (the baseline's total,
  // its CE) is not drawn again; every other metric goes to its own chart.
  function recordFacets(spec, model, metrics, xs) {
    const names = Object.keys(metrics);
    const onlyExcluded = names.length > 1 && names.every((n) => n === spec.main || spec.exclude.includes(n));
    for (const name of names) {
      if (spec.exclude.includes(name) || (name === spec.main && onlyExcluded)) continue;
      const key = ensureChart(spec, name);
      record(key, model, model, { model, seedLines: true, plotly: {} }, xs, metrics[name], spec.scale);
    }
  }

  function onStep(event) {
    state.step += 1;
    // Epochs as a fraction: this phase's epochs so far plus the share of its steps done.
    const epochs = state.phaseEpochs || 1, steps = event.steps || state.phaseSteps || 1;
    const xs = {
      step: state.step, epoch: state.epochBase + (event.step / steps) * epochs, time: elapsed(event.t),
    };
    recordGroups("step", event, xs);
    setProgress(event.whole, event.step, event.steps, event.epoch, state.phaseEpochs || "?");
  }

  function onEpoch(event) {
    state.epoch += 1;
    const xs = { step: state.step, epoch: state.epoch, time: elapsed(event.t) };
    recordGroups("epoch", event, xs);
    liveVerdict(event);
  }

  // The result block is the server's (run.html), so it reads the same live and after a
  // reload: when a watched run ends, fetch the page again and take its block.
  async function showSummary() {
    const section = $("run-summary");
    if (!section.hidden) return; // rendered with the page
    try {
      const response = await fetch(`${ROOT}/runs/${encodeURIComponent(boot.id)}`, {
        headers: { accept: "text/html" },
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("run-summary");
      if (!fresh) throw new Error("no result block in the page");
      section.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)));
    } catch (error) {
      $("summary-facts").textContent = T("saved");
    }
    section.hidden = false;
  }

  // A sweep trains its grid points one after another: the curves show the point in
  // training, and sweep.js draws every point's Δ (it hears each event from here).
  function startPoint(point) {
    state.point = point;
    Object.assign(state, { step: 0, epoch: 0, epochBase: 0, marks: [] });
    state.series = Object.fromEntries(Object.keys(charts).map((key) => [key, new Map()]));
    rebuild();
  }

  function onEvent(event) {
    if (event.seq <= state.lastSeq) return; // never draw a point twice
    state.lastSeq = event.seq;
    if (event.point !== undefined && event.point !== state.point) startPoint(event.point);
    document.dispatchEvent(new CustomEvent("run-event", { detail: event }));
    if (event.type === "phase") onPhase(event);
    else if (event.type === "metric" && event.kind === "step") onStep(event);
    else if (event.type === "metric" && event.kind === "epoch") onEpoch(event);
    if (TERMINAL.has(event.type)) endProgress(event);
    if (event.type === "done") {
      setStatus("succeeded");
      finalVerdict(event.summary);
      showSummary();
    }
    else if (event.type === "failed") {
      setStatus(event.status || "failed");
      $("run-error").textContent = event.error || T("run_failed");
      $("run-error").hidden = false;
    } else if (event.type === "cancelled") setStatus("cancelled");
  }

  function follow() {
    const source = new EventSource(`${ROOT}/api/runs/${encodeURIComponent(boot.id)}/events`);
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
      const run = await (await fetch(`${ROOT}/api/runs/${encodeURIComponent(boot.id)}`)).json();
      if (run.status === "queued" && run.position) {
        $("run-position").textContent = T("position", { n: run.position });
      }
    } catch (error) { /* the next poll tries again */ }
    window.setTimeout(pollQueue, 2000);
  }

  function drawVirtualTeacher() {
    const probs = boot.virtual_teacher;
    if (!probs) return;
    $("teacher-chart-wrap").hidden = false;
    const labels = probs.map((_, i) => (i === 0 ? T("true_class") : T("other_class", { i })));
    window.Plotly.newPlot($("teacher-chart"), [{
      type: "bar", x: labels, y: probs, marker: { color: probs.map((_, i) => (i ? "#6c757d" : "#d1495b")) },
    }], window.KDCharts.themeLayout({ yaxis: { range: [0, 1], title: { text: T("probability") }, automargin: true } }),
    window.KDCharts.plotConfig());
  }

  // The controls start from the URL's view, and each change goes back into the URL.
  function setupControls() {
    $("x-axis").value = view.x;
    $("log-y").checked = view.log;
    $("smoothing").value = String(view.smoothing);
    $("smoothing-value").textContent = String(view.smoothing);
    // The charts that follow a control, faceted ones made since included.
    const logged = () => Object.keys(charts).filter((key) => specOf[key].log_y).map((key) => charts[key]);
    const smoothed = () => Object.keys(charts).filter((key) => specOf[key].smoothing).map((key) => charts[key]);
    $("x-axis").addEventListener("change", (e) => {
      view.x = e.target.value in X_MODES ? e.target.value : "step";
      writeView();
      rebuild();
    });
    $("log-y").addEventListener("change", (e) => {
      view.log = e.target.checked;
      writeView();
      logged().forEach((c) => c.setYType(view.log ? "log" : "linear"));
    });
    $("smoothing").addEventListener("input", (e) => {
      view.smoothing = Number(e.target.value);
      $("smoothing-value").textContent = e.target.value;
      smoothed().forEach((c) => c.setSmoothing(view.smoothing));
    });
    // The URL only when the slider is let go: replaceState on every input event would
    // be throttled by the browser.
    $("smoothing").addEventListener("change", writeView);
    $("chart-controls").addEventListener("submit", (e) => e.preventDefault());
  }

  $("cancel-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("cancel-button").disabled = true;
    const headers = { accept: "application/json" };
    const token = e.target.querySelector("[name=token]");
    if (token && token.value) headers["x-run-token"] = token.value;
    const response = await fetch(e.target.action, { method: "POST", headers });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      $("run-error").textContent = body.detail || T("cancel_failed", { status: response.status });
      $("run-error").hidden = false;
    }
    $("cancel-button").disabled = false;
  });

  setupControls();
  finalVerdict(boot.summary);
  Object.values(charts).forEach((c) => c.redraw());
  drawVirtualTeacher();
  follow();
  pollQueue();
})();
