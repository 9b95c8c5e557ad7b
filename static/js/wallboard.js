/* 话务大屏: queue per desk, operators by state (live event "wallboard", pushed to supervisors;
 * also re-read every 15 s), today's service levels against the targets, and ECharts for the day
 * (by hour) and the month (by day) from /board/callcentre/data/. Text only (no innerHTML). */
(function () {
  "use strict";
  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
  function val(v) { return v === null || v === undefined ? "—" : String(v); }

  function root() { return document.getElementById("wallboard"); }

  function addDesk(d) {
    var body = document.querySelector("#wallboard [data-testid=wallboard-desks] tbody");
    if (!body) return null;
    var row = document.createElement("tr");
    row.setAttribute("data-desk", d.code);
    var name = document.createElement("th");
    name.scope = "row";
    name.textContent = d.name;
    row.appendChild(name);
    ["data-waiting", "data-longest"].forEach(function (attr) {
      var cell = document.createElement("td");
      cell.setAttribute(attr, "");
      row.appendChild(cell);
    });
    body.appendChild(row);
    return row;
  }

  function drawSnapshot(snap) {
    (snap.desks || []).forEach(function (d) {
      var row = document.querySelector('#wallboard tr[data-desk="' + d.code + '"]');
      if (!row) row = addDesk(d);  // a desk made after the page was drawn (the first call makes 普通话)
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
      series.push({ name: "呼入量", type: "bar", barMaxWidth: 36, data: rows.map(function (r) { return r.offered; }) });
      series.push({ name: "接通量", type: "bar", barMaxWidth: 36, data: rows.map(function (r) { return r.answered; }) });
    }
    series.push({ name: "15秒接通率", type: "line", yAxisIndex: bars ? 1 : 0, data: rows.map(function (r) { return r.service_level === null ? null : Math.round(r.service_level * 1000) / 10; }) });
    series.push({ name: "接通率", type: "line", yAxisIndex: bars ? 1 : 0, data: rows.map(function (r) { return r.connection_rate === null ? null : Math.round(r.connection_rate * 1000) / 10; }),
      markLine: { symbol: "none", data: [{ yAxis: target * 100, name: "目标" }] } });
    var axes = [{ type: "value", name: bars ? "来电（通）" : "%", max: bars ? null : 100, minInterval: bars ? 1 : null }];
    if (bars) axes.push({ type: "value", name: "%", max: 100 });
    var empty = rows.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: "暂无来电数据", fill: "#667085", fontSize: 14 } }];
    c.setOption({ animation: false, graphic: empty, tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: rows.map(function (r) { return r.key; }) }, yAxis: axes, series: series }, true);
  }

  function target(r) { return parseFloat(r.getAttribute("data-target-rate")) || 0.95; }

  function loadDay(r) {
    fetch(r.getAttribute("data-url") + "?period=day", { credentials: "same-origin" })
      .then(function (x) { return x.json(); })
      .then(function (body) {
        drawSnapshot(body.snapshot);
        drawLevels(body.levels.total);
        chart("chart-day", body.levels.by_hour, target(r), true);
        r.setAttribute("data-loaded", "1");
      }).catch(function () {});
  }

  function load() {
    var r = root();
    if (!r) return;
    var tp = document.querySelector("[data-target-percent]");
    if (tp) tp.textContent = (target(r) * 100).toFixed(0) + "%";
    loadDay(r);
    fetch(r.getAttribute("data-url") + "?period=month", { credentials: "same-origin" })
      .then(function (x) { return x.json(); })
      .then(function (body) { chart("chart-month", body.levels.by_day, target(r), false); })
      .catch(function () {});
  }

  // The server pushes at most one snapshot a second and drops the changes inside that second:
  // 1.5 s after a push the page re-reads the snapshot (and today's figures, which a bridge or a
  // hang-up has just changed), so it never stays on a state already gone.
  var reread = null;
  function rereadSoon() {
    if (reread) clearTimeout(reread);
    reread = setTimeout(function () {
      reread = null;
      var r = root();
      if (!r) return;
      loadDay(r);
    }, 1500);
  }

  document.addEventListener("hotline:live", function (ev) {
    var data = ev.detail;
    if (data && data.type === "wallboard") { drawSnapshot(data); rereadSoon(); }
  });
  document.addEventListener("DOMContentLoaded", function () { load(); setInterval(load, 15000); });
})();
