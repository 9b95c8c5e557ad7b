/* Live updates for the staff workspaces (no build step).
 *
 * Any element with data-live-refresh="<event types, comma-separated or *>" and hx-get is
 * re-fetched through htmx when a matching event arrives on /ws/live/ (session cookie auth).
 * After a reconnect the page asks /api/events/?after=<last cursor> for what it missed. That
 * answer also repeats recent events at or before the cursor (an event id can commit after a
 * later one), so the page remembers the cursors it has handled and drops repeats.
 * Deadline badges ([data-due]) are recoloured every minute: amber within 24 h, red when overdue.
 * A dropped connection is shown (a bar at the foot of the page) until the socket is back, so nobody
 * trusts a page that has stopped updating; a page whose socket never opened says nothing.
 */
(function () {
  "use strict";
  var cursor = 0, backoff = 1000, socket = null;
  var seen = {}, seenOrder = [], SEEN_MAX = 2000;

  function firstTime(id) {
    if (!id) return true;
    if (seen[id]) return false;
    seen[id] = true;
    seenOrder.push(id);
    if (seenOrder.length > SEEN_MAX) delete seen[seenOrder.shift()];
    return true;
  }

  function refresh(type) {
    document.querySelectorAll("[data-live-refresh]").forEach(function (el) {
      var wanted = el.getAttribute("data-live-refresh").split(",");
      if ((wanted.indexOf("*") >= 0 || wanted.indexOf(type) >= 0) && window.htmx) {
        window.htmx.trigger(el, "live");
      }
    });
  }

  function handle(payload) {
    if (!firstTime(payload.cursor)) return;
    if (payload.cursor && payload.cursor > cursor) cursor = payload.cursor;
    refresh(payload.type);
    document.dispatchEvent(new CustomEvent("hotline:live", { detail: payload }));
  }

  function catchUp() {
    if (!cursor) return;
    fetch("/api/events/?after=" + cursor, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { events: [] }; })
      .then(function (body) {
        (body.events || []).forEach(handle);
        if (body.cursor) cursor = Math.max(cursor, body.cursor);
        if (body.has_more) catchUp();
      })
      .catch(function () {});
  }

  var everOpen = false, statusBar = null;
  function liveStatus(text, ok) {
    if (!statusBar) {
      statusBar = document.createElement("div");
      statusBar.className = "live-status";
      statusBar.setAttribute("aria-live", "assertive");
      statusBar.setAttribute("data-testid", "live-status");
      document.body.appendChild(statusBar);
    }
    statusBar.textContent = text;
    statusBar.classList.toggle("ok", !!ok);
    statusBar.hidden = !text;
  }

  function connect() {
    if (!document.querySelector("[data-live-refresh]")) return;
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(proto + location.host + "/ws/live/");
    socket.onopen = function () {
      backoff = 1000; catchUp(); document.body.dataset.live = "on";
      if (everOpen) {
        liveStatus("实时连接已恢复", true);
        setTimeout(function () { if (document.body.dataset.live === "on") liveStatus("", true); }, 3000);
      }
      everOpen = true;
    };
    socket.onmessage = function (msg) {
      try { var data = JSON.parse(msg.data); } catch (e) { return; }
      if (data.type === "hello" || data.type === "pong" || /subscribed$/.test(data.type || "")) {
        if (data.cursor && !cursor) cursor = data.cursor;
        return;
      }
      if (data.type) handle(data);
    };
    socket.onclose = function (event) {
      document.body.dataset.live = "off";
      if (everOpen && event.code !== 4401) liveStatus("实时连接已断开，页面暂不自动更新，正在重新连接……", false);
      if (event.code === 4401) {  // signed out elsewhere, password changed or account disabled
        location.assign("/login/?next=" + encodeURIComponent(location.pathname));
        return;
      }
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  }

  function recolour() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now;
      el.classList.remove("due-ok", "due-amber", "due-red");
      el.classList.add(left < 0 ? "due-red" : left < 24 * 3600 * 1000 ? "due-amber" : "due-ok");
    });
  }

  document.addEventListener("DOMContentLoaded", function () { connect(); setInterval(recolour, 60000); });
})();
