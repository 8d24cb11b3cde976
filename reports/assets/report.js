// Draws the report's charts with uPlot (inlined above) from the JSON in
// #report-data. Each chart goes into a div[data-chart]; a chart that has
// drawn gets data-rendered="1" (the browser test checks for it).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

  function width(el) { return Math.max(320, Math.min(el.clientWidth || 760, 1100)); }

  function draw(el, title, opts, series, cols) {
    // A static page has no cursor: a live legend would show "--" for
    // every value, so the legend names the series only.
    opts = Object.assign({ title: title, width: width(el), height: 260, series: series, legend: { live: false } }, opts);
    var u = new uPlot(opts, cols, el);
    el.setAttribute("data-rendered", "1");
    return u;
  }

  function col(points, key) { return points.map(function (p) { return p[key]; }); }

  function timeChart(el, run, title, keys, labels, axisLabel) {
    var xs = col(run.series, "t");
    var cols = [xs];
    var series = [{ label: "s" }];
    keys.forEach(function (k, i) {
      cols.push(col(run.series, k));
      series.push({ label: labels[i], stroke: palette[i], width: 2 });
    });
    draw(el, title, { scales: { x: { time: false } }, axes: [{ label: "seconds" }, { label: axisLabel }] }, series, cols);
  }

  try {
  data.loads.forEach(function (run, r) {
    var q = function (name) { return document.querySelector('[data-run="' + r + '"][data-chart="' + name + '"]'); };
    if (run.series.length > 0) {
      timeChart(q("throughput"), run, "Operations per second (non-Ping)", ["ops"], ["ops/s"], "ops/s");
      timeChart(q("latency"), run, "Latency p50 and p99 per second (non-Ping, ms)", ["p50", "p99"], ["p50 ms", "p99 ms"], "ms");
      timeChart(q("errors"), run, "Errors per second", ["errors"], ["errors/s"], "errors/s");
      timeChart(q("pings"), run, "Pings in flight and devices arrived", ["pings", "devices"], ["Pings in flight", "devices arrived"], "count");
    }
    if (run.curves.length > 0) {
      // One x column (1/(1-q)) for all curves; shorter curves end in nulls.
      var longest = run.curves.reduce(function (a, c) { return c.points.length > a.points.length ? c : a; });
      var xs = longest.points.map(function (p) { return 100 / (100 - p.p); });
      var cols = [xs];
      var series = [{ label: "percentile", value: function (u, v) { return v == null ? "" : (100 - 100 / v).toFixed(3) + "%"; } }];
      run.curves.forEach(function (c, i) {
        var ys = xs.map(function (_, j) { return j < c.points.length ? c.points[j].ms : null; });
        cols.push(ys);
        series.push({ label: c.label + " ms", stroke: palette[i % palette.length], width: 2 });
      });
      var decades = function (u) {
        var out = [];
        for (var v = 1; v <= u.scales.x.max * 1.0001; v *= 10) { out.push(v); }
        return out;
      };
      draw(q("hdr"), "HDR latency by percentile (log scales)", {
        scales: {
          x: { time: false, distr: 3, range: function (u, min, max) { return [1, Math.pow(10, Math.ceil(Math.log10(Math.max(max, 10))))]; } },
          y: { distr: 3 }
        },
        axes: [{ label: "percentile", splits: decades,
                 values: function (u, vals) { return vals.map(function (v) { return v == null ? "" : (100 - 100 / v).toPrecision(6).replace(/\.?0+$/, "") + "%"; }); } },
               { label: "ms" }]
      }, series, cols);
    }
    if (run.gateway) {
      var g = run.gateway;
      draw(q("gateway"), "Gateway device cache size and heap MB (peaks so far, " + g.source + ")", {
        scales: { x: { time: false }, mb: {} },
        axes: [{ label: "seconds" }, { label: "cache entries" }, { side: 1, scale: "mb", label: "heap MB", grid: { show: false } }]
      }, [{ label: "s" },
          { label: "device cache size", stroke: palette[0], width: 2 },
          { label: "heap MB", stroke: palette[1], width: 2, scale: "mb" }],
      [g.t, g.cache, g.heap]);
    }
  });
  } finally {
    // Set even when a chart throws, so a test sees the exception at once.
    document.body.setAttribute("data-charts-done", "1");
  }
})();
