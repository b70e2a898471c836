// tollgate dashboard: draws each chart of the page with uPlot from its JSON data block
// (<script type="application/json">, which the CSP allows because it is never run). The same
// numbers are in the table under each chart, so nothing is lost without JavaScript.
(function () {
  'use strict';
  // Okabe–Ito: distinguishable with the common colour-vision deficiencies; the page's legend
  // swatches (.s0 … .s7 in dashboard.css) use the same order.
  var PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
  var HEIGHT = 240;
  var plots = [];

  function widthOf(el) {
    return Math.max(260, Math.floor(el.getBoundingClientRect().width));
  }

  // Stacked bars: series i is drawn at the sum of series 0..i, the tallest first, so each colour
  // shows the band that is its own.
  function stackedData(spec) {
    var sums = spec.x.map(function () { return 0; });
    var cumulative = spec.series.map(function (s) {
      return s.values.map(function (v, i) { sums[i] += v; return Math.round(sums[i] * 1e6) / 1e6; });
    });
    return cumulative;
  }

  function options(spec, width) {
    var bars = spec.kind === 'bars';
    var order = spec.series.map(function (_, i) { return i; });
    if (bars) order.reverse();
    var series = [{}];
    order.forEach(function (i) {
      var colour = PALETTE[i % PALETTE.length];
      var s = { label: spec.series[i].label, stroke: colour, width: bars ? 0 : 2, points: { show: false } };
      if (bars) {
        s.fill = colour;
        s.paths = uPlot.paths.bars({ size: [0.8, 48], align: 0 });
      }
      series.push(s);
    });
    return {
      width: width,
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'); },
      // Half a slot of room each side, so the first and last bars are drawn whole.
      scales: { x: { time: true, range: function (u, min, max) { var h = (spec.slot === 'Day' ? 86400 : 3600) / 2; return [min - h, max + h]; } }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      axes: [{}, { label: spec.unit, size: 60 }],
      series: series,
    };
  }

  function draw(el) {
    var block = document.getElementById(el.getAttribute('data-chart'));
    if (!block) return;
    var spec = JSON.parse(block.textContent);
    if (!spec.series.length) return;
    var ys = spec.kind === 'bars' ? stackedData(spec) : spec.series.map(function (s) { return s.values; });
    var order = spec.series.map(function (_, i) { return i; });
    if (spec.kind === 'bars') order.reverse();
    var data = [spec.x].concat(order.map(function (i) { return ys[i]; }));
    var plot = new uPlot(options(spec, widthOf(el)), data, el);
    plots.push({ el: el, plot: plot });
  }

  function resize() {
    plots.forEach(function (p) { p.plot.setSize({ width: widthOf(p.el), height: HEIGHT }); });
  }

  function start() {
    if (typeof uPlot === 'undefined') return;
    var els = document.querySelectorAll('[data-chart]');
    for (var i = 0; i < els.length; i++) draw(els[i]);
    var t;
    window.addEventListener('resize', function () {
      clearTimeout(t);
      t = setTimeout(resize, 100);
    });
    document.documentElement.setAttribute('data-charts', String(plots.length));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
