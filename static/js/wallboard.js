/* 话务大屏: queue per desk, operators by state (live event "wallboard", pushed to supervisors;
 * also re-read every 15 s), today's service levels against the targets, and ECharts for the day
 * (by hour) and the month (by day) from /board/callcentre/data/. Text only (no innerHTML). */
(function () {
  "use strict";
  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
  function val(v) { return v === null || v === undefined ? "—" : String(v); }

  function root() { return document.getElementById("wallboard"); }

  function drawSnapshot(snap) {
    (snap.desks || []).forEach(function (d) {
      var row = document.querySelector('#wallboard tr[data-desk="' + d.code + '"]');
      if (!row) return;
      row.querySelector("[data-waiting]").textContent = d.waiting;
      row.querySelector("[data-longest]").textContent = d.longest_wait;
    });
    (snap.seats || []).forEach(function (s) {
      var li = document.querySelector('#wallboard li[data-state="' + s.state + '"] [data-count]');
      if (li) li.textContent = s.count;
    });
  }

  function setFigure(name, text) {
    var el = document.querySelector('#wallboard [data-figure="' + name + '"]');
    if (el) el.textContent = text;
  }

  function drawLevels(total) {
    setFigure("offered", val(total.offered));
    setFigure("answered", val(total.answered));
    setFigure("service_level", pct(total.service_level));
    setFigure("connection_rate", pct(total.connection_rate));
    setFigure("loss_rate", pct(total.loss_rate));
    setFigure("abandoned_split", total.abandoned_within_target + " / " + total.abandoned_after_target);
    setFigure("average_wait", val(total.average_wait));
    setFigure("longest_wait", val(total.longest_wait));
    setFigure("average_handle", val(total.average_handle));
    setFigure("callbacks", total.callbacks_within_target + " / " + total.callbacks_due);
    setFigure("rule", total.rule || "");
  }

  function chart(id, rows, target, bars) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return;
    var c = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
    var series = [];
    if (bars) {
      series.push({ name: "呼入量", type: "bar", data: rows.map(function (r) { return r.offered; }) });
      series.push({ name: "接通量", type: "bar", data: rows.map(function (r) { return r.answered; }) });
    }
    series.push({ name: "15秒接通率", type: "line", yAxisIndex: bars ? 1 : 0, data: rows.map(function (r) { return r.service_level === null ? null : Math.round(r.service_level * 1000) / 10; }) });
    series.push({ name: "接通率", type: "line", yAxisIndex: bars ? 1 : 0, data: rows.map(function (r) { return r.connection_rate === null ? null : Math.round(r.connection_rate * 1000) / 10; }),
      markLine: { symbol: "none", data: [{ yAxis: target * 100, name: "目标" }] } });
    var axes = [{ type: "value", name: bars ? "通" : "%", max: bars ? null : 100 }];
    if (bars) axes.push({ type: "value", name: "%", max: 100 });
    c.setOption({ tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: rows.map(function (r) { return r.key; }) }, yAxis: axes, series: series }, true);
  }

  function load() {
    var r = root();
    if (!r) return;
    var target = parseFloat(r.getAttribute("data-target-rate")) || 0.95;
    var tp = document.querySelector("[data-target-percent]");
    if (tp) tp.textContent = (target * 100).toFixed(0) + "%";
    fetch(r.getAttribute("data-url") + "?period=day", { credentials: "same-origin" })
      .then(function (x) { return x.json(); })
      .then(function (body) {
        drawSnapshot(body.snapshot);
        drawLevels(body.levels.total);
        chart("chart-day", body.levels.by_hour, target, true);
        r.setAttribute("data-loaded", "1");
      }).catch(function () {});
    fetch(r.getAttribute("data-url") + "?period=month", { credentials: "same-origin" })
      .then(function (x) { return x.json(); })
      .then(function (body) { chart("chart-month", body.levels.by_day, target, false); })
      .catch(function () {});
  }

  document.addEventListener("hotline:live", function (ev) {
    var data = ev.detail;
    if (data && data.type === "wallboard") drawSnapshot(data);
  });
  document.addEventListener("DOMContentLoaded", function () { load(); setInterval(load, 15000); });
})();
