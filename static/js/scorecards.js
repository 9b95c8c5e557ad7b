/* 考核与红黑榜: charts (Apache ECharts, vendored) and tables from the metrics APIs.
 *   三率 trend        GET /api/metrics/trends/?metric=<rate>&months=6&end=<YYYY-MM>&group=<g> (per rate), or where
 *                     the server lacks it, GET /api/metrics/units/?period=month&date=<month>-01 (per month)
 *   on-time by unit   the same call for the chosen month, one bar pair per unit; click → the unit's tickets
 *   红榜 / 黑榜       GET /api/metrics/ranking/?month=<YYYY-MM>&group=<g>
 * Every chart has the same numbers in a table next to it (screen readers, keyboard, printing). */
(function () {
  "use strict";
  var TREND_MONTHS = 6;

  var NO_DATA = "无数据";  // a rate with nothing to count yet (no rating, no deadline due), said in words
  function pct(v) { return v === null || v === undefined ? NO_DATA : (v * 100).toFixed(1) + "%"; }
  /* The server's clock when it read the figures (the scorecards are kept per event, so this is the data time). */
  function dataTime(header) {
    var at = header ? new Date(header) : new Date();
    if (isNaN(at.getTime())) at = new Date();
    var parts = {};
    new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hour12: false }).formatToParts(at).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
  }
  function num(v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) throw new Error((body && body.detail) || ("HTTP " + r.status));
        if (body && typeof body === "object") Object.defineProperty(body, "readAt", { value: r.headers.get("Date") });
        return body;
      });
    });
  }

  function monthsBack(month, n) {
    var parts = month.split("-"), y = +parts[0], m = +parts[1], out = [];
    for (var i = n - 1; i >= 0; i--) {
      var mm = m - i, yy = y;
      while (mm < 1) { mm += 12; yy -= 1; }
      out.push(yy + "-" + (mm < 10 ? "0" : "") + mm);
    }
    return out;
  }

  function cell(row, text, tag) {
    var td = document.createElement(tag || "td");
    if (tag === "th") td.scope = "row";
    if (text instanceof Node) td.appendChild(text); else td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function chart(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    var c = window.echarts.init(el, null, { renderer: "svg" });
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }

  function drawTrend(root, months, totals) {
    var body = root.querySelector("[data-testid=trend-table] tbody");
    body.textContent = "";
    months.forEach(function (m, i) {
      var tr = document.createElement("tr");
      cell(tr, m, "th");
      cell(tr, pct(totals[i].response_rate)); cell(tr, pct(totals[i].solved_rate)); cell(tr, pct(totals[i].satisfaction_rate));
      body.appendChild(tr);
    });
    var c = chart("chart-trend");
    if (!c) return;
    function series(name, key) {
      return { name: name, type: "line", connectNulls: false, data: totals.map(function (t) { return num(t[key]); }) };
    }
    c.setOption({
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? NO_DATA : v + "%"; } },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 32, bottom: 28 },
      xAxis: { type: "category", data: months },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      color: ["#0b57d0", "#1e7b34", "#b35c00"],
      series: [series("响应率", "response_rate"), series("解决率", "solved_rate"), series("满意率", "satisfaction_rate")]
    });
  }

  function drawUnits(root, cards, month) {
    var drill = root.getAttribute("data-drill");
    var body = root.querySelector("[data-testid=units-table] tbody");
    body.textContent = "";
    var units = cards.units || [];
    units.forEach(function (u) {
      var tr = document.createElement("tr");
      tr.id = "unit-" + u.unit;
      var link = document.createElement("a");
      link.href = drill.replace("UNIT", encodeURIComponent(u.unit)) + "?month=" + month;
      link.textContent = u.unit_name;
      cell(tr, link, "th");
      cell(tr, String(u.dispatched));
      cell(tr, pct(u.sign_on_time_rate)); cell(tr, pct(u.reply_on_time_rate));
      cell(tr, pct(u.response_rate)); cell(tr, pct(u.solved_rate));
      cell(tr, pct(u.satisfaction_rate)).dataset.testid = "satisfaction-" + u.unit;
      cell(tr, pct(u.composite)).dataset.testid = "composite-" + u.unit;
      body.appendChild(tr);
    });
    if (!units.length) {
      var none = document.createElement("tr");
      cell(none, "本组没有单位").colSpan = 8;
      body.appendChild(none);
    }
    var c = chart("chart-ontime");
    if (!c) return;
    var shown = units.filter(function (u) { return u.dispatched > 0; });
    if (!shown.length) shown = units.slice(0, 12);
    c.setOption({
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? NO_DATA : v + "%"; } },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 32, bottom: 64 },
      xAxis: { type: "category", data: shown.map(function (u) { return u.unit_name; }), axisLabel: { rotate: 30, interval: 0 } },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      color: ["#123a6b", "#1e7b34"],
      series: [
        { name: "按时签收率", type: "bar", barMaxWidth: 36, data: shown.map(function (u) { return num(u.sign_on_time_rate); }) },
        { name: "按时办结率", type: "bar", barMaxWidth: 36, data: shown.map(function (u) { return num(u.reply_on_time_rate); }) }
      ]
    });
    c.on("click", function (params) {
      var unit = shown[params.dataIndex];
      if (unit) location.href = drill.replace("UNIT", encodeURIComponent(unit.unit)) + "?month=" + month;
    });
  }

  function drawRanking(root, ranking) {
    function fill(list, rows, empty) {
      list.textContent = "";
      rows.forEach(function (r) {
        var li = document.createElement("li");
        var trend = r.trend === null || r.trend === undefined ? "（上月无数据）" : "（较上月 " + (r.trend >= 0 ? "+" : "") + (r.trend * 100).toFixed(1) + " 分）";
        li.textContent = "第 " + r.rank + " 名 " + r.unit_name + " · 综合 " + pct(r.composite) + " " + trend;
        list.appendChild(li);
      });
      if (!rows.length) { var li = document.createElement("li"); li.textContent = empty; list.appendChild(li); }
    }
    fill(root.querySelector("[data-testid=red-list]"), ranking.top || [], "本月尚无评价数据，暂不排名");
    fill(root.querySelector("[data-testid=black-list]"), ranking.bottom || [], "本月尚无评价数据，暂不排名");
  }

  /* The group's 三率 by month: GET /api/metrics/trends/ (one call per rate) where the server has it,
   * else one /api/metrics/units/ call per month. Resolves to one {response_rate, …} per month. */
  var TREND_KEYS = ["response_rate", "solved_rate", "satisfaction_rate"];
  function loadTrend(month, months, q) {
    var base = "/api/metrics/trends/?months=" + months.length + "&end=" + month + q + "&metric=";
    return Promise.all(TREND_KEYS.map(function (key) { return getJson(base + key); })).then(function (series) {
      return months.map(function (m, i) {
        var row = {};
        TREND_KEYS.forEach(function (key, k) { row[key] = (series[k].group_values || [])[i]; });
        return row;
      });
    }, function () {
      return Promise.all(months.map(function (m) {
        return getJson("/api/metrics/units/?period=month&date=" + m + "-01" + q).then(function (b) { return b.total || {}; });
      }));
    });
  }

  function load(root) {
    var month = root.getAttribute("data-month"), group = root.getAttribute("data-group");
    var status = root.querySelector("[data-testid=scorecards-status]");
    var months = monthsBack(month, TREND_MONTHS);
    var q = "&group=" + encodeURIComponent(group);
    var trend = loadTrend(month, months, q);
    var current = getJson("/api/metrics/units/?period=month&date=" + month + "-01" + q);
    var ranking = getJson("/api/metrics/ranking/?month=" + month + q);
    Promise.all([trend, current, ranking]).then(function (all) {
      drawTrend(root, months, all[0]);
      drawUnits(root, all[1], month);
      drawRanking(root, all[2]);
      status.textContent = "已加载 " + month + " 的考核数据（" + (all[1].units || []).length + " 个单位）· 数据时间："
        + dataTime(all[1].readAt) + "（按办理事件实时累计；“" + NO_DATA + "”表示本月尚无可计算的评价或到期派单）";
      root.dataset.loaded = "1";
    }).catch(function (err) {
      status.className = "errors";
      status.textContent = "考核数据加载失败：" + err.message + "。请刷新页面重试。";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("scorecards");
    if (root) load(root);
  });
})();
