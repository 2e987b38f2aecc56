// Draws each insights chart (uPlot, self-hosted) from the figures of the table beside it.
(function () {
  "use strict";
  var COLOURS = ["#1F4E79", "#B35900", "#3B7A3B"];

  function draw(figure) {
    var data = JSON.parse(document.getElementById(figure.dataset.chart).textContent);
    var n = data.labels.length;
    var xs = data.labels.map(function (_label, i) { return i; });
    var count = data.series.length;
    var series = [{}].concat(data.series.map(function (s, i) {
      return {
        label: s[0],
        stroke: COLOURS[i % COLOURS.length],
        fill: COLOURS[i % COLOURS.length],
        width: 0,
        paths: uPlot.paths.bars({ size: [0.8 / count, 60], align: count === 1 ? 0 : (i === 0 ? -1 : 1) }),
        points: { show: false },
        value: function (_u, v) { return v == null ? "—" : v + " " + data.unit; },
      };
    }));
    var width = Math.max(figure.clientWidth, 240);
    var options = {
      width: width,
      height: Math.min(260, Math.round(width * 0.6)),
      series: series,
      scales: { x: { time: false, range: [-0.6, n - 0.4] }, y: { range: function (_u, _min, max) { return [0, Math.max(max, 1) * 1.1]; } } },
      axes: [
        { values: function (_u, splits) { return splits.map(function (i) { return data.labels[i] || ""; }); }, incrs: [1], rotate: 0, size: 40 },
        { label: data.unit },
      ],
      cursor: { show: false },
      legend: { show: true, live: false },
    };
    return new uPlot(options, [xs].concat(data.series.map(function (s) { return s[1]; })), figure);
  }

  function drawAll() {
    document.querySelectorAll("figure[data-chart]").forEach(function (figure) {
      if (figure.chart) { figure.chart.destroy(); }
      figure.chart = draw(figure);
    });
  }

  if (typeof uPlot === "undefined") { return; }
  drawAll();
  var pending;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(drawAll, 200);
  });
})();
