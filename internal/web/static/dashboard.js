// The SMS dashboard's charts. Each chart's figures come from its
// data-chart attribute (written by the server, the same figures as the
// table beside it); without this file the tables are the dashboard.
(function () {
  "use strict";

  // The palette lives in the stylesheet (--chart-1 …), with the other
  // design tokens.
  function tone(n) {
    var c = getComputedStyle(document.documentElement).getPropertyValue("--chart-" + n).trim();
    return c || "#2f5bd3";
  }

  // Tick steps for counts: 1, 2, 5, 10, 20, 50…
  var COUNT_STEPS = [];
  for (var p = 1; p <= 1e9; p *= 10) COUNT_STEPS.push(p, 2 * p, 5 * p);

  function format(unit, v) {
    if (v == null) return "—";
    if (unit === "percent") return v.toFixed(1) + " %";
    return Math.round(v).toLocaleString();
  }

  function options(el, data) {
    var labels = data.labels;
    var series = [{
      label: "Period",
      value: function (u, x) { return x == null ? "" : labels[x] || ""; },
    }];
    data.series.forEach(function (s) {
      series.push({
        label: s.label,
        stroke: tone(s.tone),
        width: 2,
        spanGaps: false,
        points: { show: labels.length <= 62 },
        value: function (u, v) { return format(data.unit, v); },
      });
    });
    var y = { scale: "y", values: function (u, ticks) { return ticks.map(function (t) { return format(data.unit, t); }); }, size: 64 };
    if (data.unit === "count") y.incrs = COUNT_STEPS; // whole messages only
    return {
      width: Math.max(el.clientWidth, 280),
      height: 260,
      series: series,
      scales: {
        x: { time: false },
        y: data.unit === "percent" ? { range: [0, 100] } : { range: function (u, min, max) { return [0, Math.max(max, 1)]; } },
      },
      axes: [
        {
          // One label per bucket would collide; uPlot picks the ticks and
          // each tick shows its bucket's name.
          values: function (u, ticks) { return ticks.map(function (t) { return Number.isInteger(t) ? labels[t] || "" : ""; }); },
          space: 90,
        },
        y,
      ],
      cursor: { drag: { x: false, y: false } },
    };
  }

  function draw(el) {
    var data;
    try {
      data = JSON.parse(el.dataset.chart);
    } catch (e) {
      return;
    }
    if (!window.uPlot || !data.labels || data.labels.length === 0) return;
    var xs = data.labels.map(function (_, i) { return i; });
    var columns = [xs].concat(data.series.map(function (s) { return s.values; }));
    var plot = new uPlot(options(el, data), columns, el);
    // The chart now shows the figures: fold their table away (it stays one
    // click away, and screen readers still find it).
    var table = el.parentElement.querySelector("details.dash-table");
    if (table) table.open = false;
    return plot;
  }

  function start() {
    var plots = [];
    document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      var p = draw(el);
      if (p) plots.push({ el: el, plot: p });
    });
    var pending = 0;
    window.addEventListener("resize", function () {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(function () {
        plots.forEach(function (p) {
          p.plot.setSize({ width: Math.max(p.el.clientWidth, 280), height: 260 });
        });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
