// Live Plotly charts shared by the run page and the run history.
// A LiveChart keeps every raw point, shows them smoothed (EMA) and, past MAX_POINTS
// per trace, downsampled to min/max per bucket so spikes stay visible. New points are
// batched and drawn once per animation frame with Plotly.extendTraces.
// A trace may have companions (addBand, addSeeds): a ±sd band, the raw series drawn
// faintly under the smoothed one, and its seeds' thin lines (one trace, the lines
// joined by gaps). They come after the main traces in Plotly's data, so data[i] is
// traces[i] for the main ones.
// What a frame costs is mostly Plotly redrawing, which grows with every trace it
// holds. So a hidden trace (legendonly) carries one point until the reader shows it,
// and the charts of a page take turns: one chart draws per animation frame.
(function () {
  "use strict";

  const MAX_POINTS = 2000;
  const PALETTE = {
    student: "#d1495b", baseline: "#6c757d", teacher: "#8e5ccf", peer: "#2a9d8f",
    exit1: "#5fa8d3", exit2: "#1b6ca8", exit3: "#0b3c6d",
  };
  const EXTRA = ["#e9a03b", "#3a86ff", "#8ac926", "#ff595e", "#6a4c93", "#1982c4"];

  function colorFor(model, index) {
    return PALETTE[model] || EXTRA[index % EXTRA.length];
  }

  // TensorBoard-style exponential moving average with bias correction, so the first
  // points are not pulled towards zero.
  // "#d1495b" -> "rgba(209, 73, 91, alpha)", for fills and faint lines.
  function withAlpha(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }

  // Mean and sample sd (n - 1) of finite numbers; sd is 0 for one value, so a band
  // collapses onto its mean instead of vanishing.
  function meanSd(values) {
    const n = values.length;
    if (!n) return null;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    if (n === 1) return { mean, sd: 0 };
    const ss = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
    return { mean, sd: Math.sqrt(ss / (n - 1)) };
  }

  function smooth(values, weight) {
    if (!weight) return values.slice();
    const out = new Array(values.length);
    let last = 0;
    for (let i = 0; i < values.length; i++) {
      last = last * weight + (1 - weight) * values[i];
      out[i] = last / (1 - Math.pow(weight, i + 1));
    }
    return out;
  }

  // Keep the first and last point and, per bucket, the min and the max in x order.
  function downsample(xs, ys, target) {
    if (xs.length <= target) return { x: xs.slice(), y: ys.slice() };
    const buckets = Math.max(1, Math.floor(target / 2));
    const size = xs.length / buckets;
    const x = [], y = [];
    for (let b = 0; b < buckets; b++) {
      const start = Math.floor(b * size), end = Math.min(xs.length, Math.floor((b + 1) * size));
      if (end <= start) continue;
      let lo = start, hi = start;
      for (let i = start; i < end; i++) {
        if (ys[i] < ys[lo]) lo = i;
        if (ys[i] > ys[hi]) hi = i;
      }
      for (const i of lo <= hi ? [lo, hi] : [hi, lo]) {
        if (x.length && x[x.length - 1] === xs[i]) continue;
        x.push(xs[i]); y.push(ys[i]);
      }
    }
    return { x, y };
  }

  // The mean over seeds of one metric; null unless every seed has a finite number
  // (the worker stores NaN as null), since a mean over the seeds that survived would
  // not be the mean across seeds. A plain number (runs stored before seeds) is itself.
  function seedMean(values) {
    const list = Array.isArray(values) ? values : [values];
    if (!list.length || !list.every((v) => typeof v === "number" && Number.isFinite(v))) return null;
    return list.reduce((a, b) => a + b, 0) / list.length;
  }

  // The page's theme: the reader's choice (static/js/theme.js), else the system's.
  function themeColours() {
    const dark = window.kdTheme ? window.kdTheme.isDark()
      : Boolean(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
    return { fg: dark ? "#e6e4df" : "#1d1f23", grid: dark ? "#30343c" : "#e3e0d8" };
  }

  // When the theme changes, every chart on the page takes its colours (LiveCharts keep
  // them for their next redraws too).
  const liveCharts = [];
  window.addEventListener("themechange", () => {
    const { fg, grid } = themeColours();
    const colours = { "font.color": fg, "xaxis.gridcolor": grid, "yaxis.gridcolor": grid };
    for (const chart of liveCharts) {
      chart.layout.font = Object.assign({}, chart.layout.font, { color: fg });
      chart.layout.xaxis = Object.assign({}, chart.layout.xaxis, { gridcolor: grid });
      chart.layout.yaxis = Object.assign({}, chart.layout.yaxis, { gridcolor: grid });
    }
    if (!window.Plotly) return;
    document.querySelectorAll(".js-plotly-plot").forEach((el) => window.Plotly.relayout(el, colours));
  });

  // The legend sits above the plot, where it pushes the margin (Plotly's autoexpand)
  // instead of covering the x axis's title, and the axes make room for their titles
  // (automargin), so a narrow screen cuts neither.
  function themeLayout(extra) {
    const { fg, grid } = themeColours();
    return Object.assign({
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: fg, size: 12 }, margin: { l: 50, r: 10, t: 10, b: 40 },
      legend: { orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom" },
      hovermode: "x unified",
      xaxis: { gridcolor: grid, zeroline: false, automargin: true },
      yaxis: { gridcolor: grid, zeroline: false, automargin: true },
      shapes: [], annotations: [],
    }, extra || {});
  }

  // Plotly's options for every chart of the site. On a narrow screen its toolbar would
  // sit on the chart's top (a touch shows it, and there is no hover to hide it): none
  // there; the charts still zoom by pinching and reset by a double tap.
  const NARROW = "(max-width: 760px)";
  function plotConfig() {
    const narrow = Boolean(window.matchMedia && window.matchMedia(NARROW).matches);
    return { responsive: true, displaylogo: false, displayModeBar: narrow ? false : "hover" };
  }

  // Whole-number ticks (steps, epochs): about six of them, at 1, 2 or 5 times a power
  // of ten, never between two whole numbers.
  function integerStep(maxX) {
    const rough = Math.max(1, maxX / 6);
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    for (const m of [1, 2, 5, 10]) if (m * power >= rough) return m * power;
    return 10 * power;
  }

  // One chart draws per animation frame; another that is waiting draws on the next.
  const waiting = [];
  let frameAsked = false;
  function askFrame(chart) {
    if (!waiting.includes(chart)) waiting.push(chart);
    if (!frameAsked) { frameAsked = true; window.requestAnimationFrame(drawOne); }
  }
  function drawOne() {
    frameAsked = false;
    const chart = waiting.shift();
    if (waiting.length) { frameAsked = true; window.requestAnimationFrame(drawOne); }
    if (chart) chart.flush();
  }

  class LiveChart {
    constructor(element, options) {
      this.el = element;
      this.options = Object.assign({ smoothing: 0, xTitle: "", yTitle: "" }, options);
      this.traces = [];          // {key, name, raw: {x, y}, shown: number, visible}
      this.index = new Map();    // key -> trace position
      this.extras = [];          // companions, same shape plus {parent, kind}
      this.extraIndex = new Map();
      this.position = new Map(); // key -> index in Plotly's data, as last drawn
      this.pending = new Map();  // key -> {x: [], y: []} not yet drawn
      this.frame = null;
      this.needsRedraw = true;
      liveCharts.push(this);
      this.maxX = 0;
      this.layout = themeLayout({
        xaxis: Object.assign(themeLayout().xaxis, { title: { text: this.options.xTitle } }),
        yaxis: Object.assign(themeLayout().yaxis, { title: { text: this.options.yTitle } },
          this.options.yRange ? { range: this.options.yRange } : {}),
      });
      // Axes at once, before any point: Plotly's first draw of a page is its dearest,
      // and done now it is not in the way of the points arriving.
      this.schedule();
    }

    addTrace(key, name, style) {
      if (this.index.has(key)) return;
      this.index.set(key, this.traces.length);
      this.traces.push({
        key, name, raw: { x: [], y: [] }, shown: 0, style: style || {}, ema: 0, n: 0,
      });
      this.needsRedraw = true;
    }

    // A companion of main trace `parent`: kind is "lower"/"upper" (the band's edges),
    // "raw" (the unsmoothed mean) or "seeds" (every seed's values, `lines` by seed).
    addExtra(key, parent, kind, name) {
      if (this.extraIndex.has(key)) return;
      this.extraIndex.set(key, this.extras.length);
      this.extras.push({
        key, parent, kind, name, raw: { x: [], y: [] }, shown: 0, ema: 0, n: 0, lines: new Map(),
      });
      this.needsRedraw = true;
    }

    // The band and the faint raw line of a main trace, created together so that the
    // band's lower edge is always just before its upper edge (fill: "tonexty").
    addBand(parent) {
      this.addExtra(`${parent}#lower`, parent, "lower", "");
      this.addExtra(`${parent}#upper`, parent, "upper", "");
      this.addExtra(`${parent}#raw`, parent, "raw", "");
    }

    addSeeds(parent, name) {
      this.addExtra(`${parent}#seeds`, parent, "seeds", name);
    }

    // One seed's point on its thin line. The lines share a trace, so a new point lands
    // mid-trace: shown, the trace is drawn anew; hidden (the default), it costs nothing.
    pushSeed(parent, seed, x, y) {
      const trace = this.find(`${parent}#seeds`);
      if (!trace.lines.has(seed)) trace.lines.set(seed, { x: [], y: [] });
      const line = trace.lines.get(seed);
      line.x.push(x);
      line.y.push(y);
      if (!trace.hidden) { this.needsRedraw = true; this.schedule(); }
    }

    // One point of a main trace and its band: the mean over seeds and their sd.
    pushBand(key, x, mean, sd) {
      this.push(key, x, mean);
      this.push(`${key}#lower`, x, mean - sd);
      this.push(`${key}#upper`, x, mean + sd);
      this.push(`${key}#raw`, x, mean);
    }

    find(key) {
      if (this.index.has(key)) return this.traces[this.index.get(key)];
      return this.extras[this.extraIndex.get(key)];
    }

    // Position in Plotly's data as last drawn: the main traces first, then the
    // companions that are not left out.
    dataIndex(key) {
      return this.position.get(key);
    }

    // The raw companion is never smoothed: it is what the smoothed line hides.
    weightOf(trace) {
      return trace.kind === "raw" ? 0 : this.options.smoothing;
    }

    // Whole-number ticks on the x axis (steps, epochs), or Plotly's own (seconds).
    setIntegerX(on) {
      this.options.integerX = on;
      this.needsRedraw = true;
      this.schedule();
    }

    // The x axis's ticks for the points so far; true when they changed.
    fitTicks() {
      const axis = this.layout.xaxis;
      if (!this.options.integerX) {
        const had = axis.dtick !== undefined;
        delete axis.tickmode; delete axis.tick0; delete axis.dtick;
        return had;
      }
      const dtick = integerStep(this.maxX);
      if (axis.dtick === dtick) return false;
      Object.assign(axis, { tickmode: "linear", tick0: 0, dtick });
      return true;
    }

    push(key, x, y) {
      if (typeof x === "number" && x > this.maxX) this.maxX = x;
      const trace = this.find(key);
      trace.raw.x.push(x);
      trace.raw.y.push(y);
      // The EMA of the next point needs only the previous one, so smoothed points can
      // be appended too; changing the weight recomputes everything (redraw).
      const w = this.weightOf(trace);
      trace.ema = trace.ema * w + (1 - w) * y;
      trace.n += 1;
      if (!this.pending.has(key)) this.pending.set(key, { x: [], y: [] });
      const batch = this.pending.get(key);
      batch.x.push(x);
      batch.y.push(w ? trace.ema / (1 - Math.pow(w, trace.n)) : y);
      this.schedule();
    }

    mark(x, label) {
      this.layout.shapes.push({
        type: "line", xref: "x", yref: "paper", x0: x, x1: x, y0: 0, y1: 1,
        line: { width: 1, dash: "dot", color: "#999" },
      });
      this.layout.annotations.push({
        x, y: 1, xref: "x", yref: "paper", text: label, showarrow: false,
        xanchor: "left", yanchor: "top", font: { size: 11, color: "#888" },
      });
      this.needsRedraw = true;
      this.schedule();
    }

    setSmoothing(weight) {
      this.options.smoothing = weight;
      this.needsRedraw = true;
      this.schedule();
    }

    // "linear" or "log".
    setYType(type) {
      this.layout.yaxis.type = type;
      this.needsRedraw = true;
      this.schedule();
    }

    // Forget every point and marker (to draw the run again on another x axis).
    reset(xTitle) {
      this.traces = []; this.index = new Map();
      this.extras = []; this.extraIndex = new Map();
      this.pending.clear();
      this.maxX = 0;
      this.layout.shapes = []; this.layout.annotations = [];
      if (xTitle !== undefined) this.layout.xaxis.title = { text: xTitle };
      this.needsRedraw = true;
      this.schedule();
    }

    schedule() {
      if (this.frame === null) { this.frame = true; askFrame(this); }
    }

    // Nothing left to draw: every point kept is in Plotly (hidden traces excepted).
    settled() {
      return this.frame === null && !this.needsRedraw && this.pending.size === 0;
    }

    display(trace) {
      if (trace.kind === "seeds") return this.joinLines(trace);
      const y = smooth(trace.raw.y, this.weightOf(trace));
      return downsample(trace.raw.x, y, MAX_POINTS);
    }

    // Each seed's line smoothed on its own, then all joined with a gap between them.
    joinLines(trace) {
      const x = [], y = [];
      const per = Math.max(2, Math.floor(MAX_POINTS / Math.max(1, trace.lines.size)));
      for (const line of trace.lines.values()) {
        if (x.length) { x.push(null); y.push(null); }
        const shown = downsample(line.x, smooth(line.y, this.weightOf(trace)), per);
        x.push(...shown.x); y.push(...shown.y);
      }
      return { x, y };
    }

    all() {
      return this.traces.concat(this.extras);
    }

    pointCount() {
      return this.traces.reduce((n, t) => n + t.raw.x.length, 0);
    }

    flush() {
      this.frame = null;
      if (!window.Plotly) return this.schedule();
      const tooMany = this.all().some((t) => t.shown + (this.pending.get(t.key)?.x.length || 0) > MAX_POINTS);
      if (this.needsRedraw || tooMany) return this.redraw();
      const keys = [...this.pending.keys()].filter((key) => !this.find(key).hidden);
      if (!keys.length) return this.pending.clear();
      const update = { x: [], y: [] }, indices = [];
      for (const key of keys) {
        const batch = this.pending.get(key);
        update.x.push(batch.x); update.y.push(batch.y); indices.push(this.dataIndex(key));
        this.find(key).shown += batch.x.length;
      }
      this.pending.clear();
      window.Plotly.extendTraces(this.el, update, indices);
      if (this.fitTicks()) window.Plotly.relayout(this.el, { xaxis: this.layout.xaxis });
    }

    redraw() {
      this.pending.clear();
      this.needsRedraw = false;
      // What the reader toggled in the legend survives a redraw (Plotly.react would
      // otherwise put every trace back to its initial visibility).
      const toggled = new Map((this.el.data || []).map((d) => [d.uid, d.visible]));
      const colors = new Map(this.traces.map((t, i) => [t.key, colorFor(t.style.model || t.key, i)]));
      const visible = new Map();  // key -> Plotly's visible, main traces first
      const data = [];
      this.position = new Map();
      for (const t of this.all()) {
        // A band or raw line follows its model, and is left out while the model is hidden.
        t.omitted = Boolean(t.kind) && t.kind !== "seeds" && visible.get(t.parent) === "legendonly";
        if (t.omitted) { t.hidden = true; t.shown = 0; continue; }
        const trace = t.kind ? this.extraTrace(t, colors.get(t.parent)) : this.mainTrace(t, colors.get(t.key));
        trace.uid = t.key;
        if (toggled.has(t.key)) trace.visible = toggled.get(t.key);
        else if (t.kind && t.kind !== "seeds") trace.visible = visible.get(t.parent);
        visible.set(t.key, trace.visible);
        t.hidden = trace.visible === "legendonly";
        const shown = t.hidden ? this.placeholder(t) : this.display(t);
        t.shown = shown.x.length;
        const w = this.weightOf(t);
        t.ema = 0;
        t.n = 0;
        for (const y of t.raw.y) { t.ema = t.ema * w + (1 - w) * y; t.n += 1; }
        trace.x = shown.x;
        trace.y = shown.y;
        this.position.set(t.key, data.length);
        data.push(trace);
      }
      this.fitTicks();
      window.Plotly.react(this.el, data, this.layout, plotConfig());
      this.listen();
    }

    // A hidden trace is drawn with one point, not none: Plotly leaves a trace without
    // points out of the legend, and then the reader could not show it.
    placeholder(t) {
      const line = t.kind === "seeds" ? t.lines.values().next().value : t.raw;
      return line && line.x.length ? { x: [line.x[0]], y: [line.y[0]] } : { x: [], y: [] };
    }

    // A hidden trace (or a left-out band) whose model the reader shows from the legend
    // gets its points.
    listen() {
      if (this.listening || typeof this.el.on !== "function") return;
      this.listening = true;
      this.el.on("plotly_restyle", () => {
        const now = new Map((this.el.data || []).map((d) => [d.uid, d.visible]));
        const revealed = this.all().some((t) => {
          const key = t.omitted ? t.parent : t.key;
          return t.hidden && now.has(key) && now.get(key) !== "legendonly";
        });
        if (revealed) { this.needsRedraw = true; this.schedule(); }
      });
    }

    mainTrace(t, color) {
      return Object.assign({
        type: "scatter", mode: "lines", name: t.name, legendgroup: t.key,
        line: { width: 1.6, color },
      }, t.style.plotly || {});
    }

    // Companions share the main trace's legend group, so hiding a model hides its band
    // too; the seeds' lines have a group of their own, one legend entry per model.
    extraTrace(t, color) {
      const parent = this.find(t.parent);
      const visible = (parent.style.plotly || {}).visible;
      const base = { type: "scatter", mode: "lines", hoverinfo: "skip", showlegend: false };
      if (t.kind === "seeds") {
        return Object.assign(base, {
          name: t.name, legendgroup: t.key, showlegend: true, visible: "legendonly",
          connectgaps: false, hoverinfo: "x+y+name", line: { width: 0.8, color: withAlpha(color, 0.7) },
        });
      }
      const group = { legendgroup: t.parent, visible: visible === undefined ? true : visible };
      if (t.kind === "raw") {
        return Object.assign(base, group, { line: { width: 1, color: withAlpha(color, 0.25) } });
      }
      return Object.assign(base, group, {
        line: { width: 0, color: "rgba(0, 0, 0, 0)" },
        fill: t.kind === "upper" ? "tonexty" : "none",
        fillcolor: withAlpha(color, 0.15),
      });
    }
  }

  window.KDCharts = {
    LiveChart, colorFor, smooth, downsample, seedMean, meanSd, themeLayout, plotConfig,
    integerStep, MAX_POINTS,
  };
})();
