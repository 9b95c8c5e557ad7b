/* 热点与未诉先办: bar charts (vendored ECharts) of each period's clusters, this period vs the previous
 * one, from the numbers the tables beside them show (#hotspot-chart). Surge alerts are refreshed by
 * live.js (data-live-refresh="hotspot.surge"); here the page also says so in its title. */
(function () {
  "use strict";
  function draw(id, rows) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return;
    if (!rows.length) { el.style.display = "none"; return; }
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    var labels = rows.map(function (r) { return r.label; });
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [el.dataset.now || "本期", el.dataset.before || "上期"] },
      grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: labels, inverse: true, axisLabel: { width: 150, overflow: "truncate" } },
      series: [
        { name: el.dataset.now || "本期", type: "bar", data: rows.map(function (r) { return r.size; }), itemStyle: { color: "#b42318" } },
        { name: el.dataset.before || "上期", type: "bar", data: rows.map(function (r) { return r.previous; }), itemStyle: { color: "#98a2b3" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var data = JSON.parse(document.getElementById("hotspot-chart").textContent);
    draw("chart-today", data.today || []);
    draw("chart-week", data.week || []);
    var title = document.title;
    document.addEventListener("hotline:live", function (e) {
      if (e.detail && e.detail.type === "hotspot.surge") document.title = "⚠ " + title;
    });
  });
})();
