/* Live updates for the staff workspaces (no build step).
 *
 * Any element with data-live-refresh="<event types, comma-separated or *>" and hx-get is
 * re-fetched through htmx when a matching event arrives on /ws/live/ (session cookie auth).
 * After a reconnect the page asks /api/events/?after=<last cursor> for what it missed. That
 * answer also repeats recent events at or before the cursor (an event id can commit after a
 * later one), so the page remembers the cursors it has handled and drops repeats.
 * A refresh never throws away what someone is in the middle of: while a refreshed panel holds a
 * changed field (a category picked, a reason typed) or the focus is in one of its lists, its
 * refresh waits, a note above it says so (with a button to refresh at once, dropping the change),
 * and the refresh runs as soon as the change is sent or put back. A form refused by the server and
 * shown again as typed (its field aria-invalid) counts as changed until it is sent. A refresh also waits, without the
 * note, while a pointer is pressed in the panel: a click is a press and a release on the same
 * button, and a panel re-rendered between the two swallowed it (a busy queue refreshes often).
 * A panel marked data-stable-rows (待派单) is not re-laid out under a resting pointer or the
 * keyboard's focus: while the pointer is over it or the focus in it, a refresh marks the rows that
 * left (已由他人处理, their buttons disabled) and adds new rows at the end, so the button under the
 * pointer or the focus still belongs to the ticket it showed; the panel is re-drawn when both have
 * left it. With several dispatchers on one queue, a row dispatched by one used to pull every row
 * below it up, under the other's click.
 * Deadline badges ([data-due]) are recoloured every minute: amber within 24 h, red when overdue.
 * A dropped connection is shown (a bar at the foot of the page) until the socket is back, so nobody
 * trusts a page that has stopped updating; a page whose socket never opened says nothing.
 */
(function () {
  "use strict";
  var cursor = 0, greeted = false, backoff = 1000, socket = null;
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
        window.htmx.trigger(el, "live");  // held in htmx:beforeRequest while someone edits the panel
      }
    });
  }

  // --- holding a refresh while someone edits the panel ------------------------------------
  function changed(field) {
    var type = (field.type || "").toLowerCase();
    if (type === "hidden" || type === "submit" || type === "button" || type === "reset") return false;
    // A refused form shown again as typed (its field marked): the kept words are the page's defaults, yet
    // a refresh would drop them; the panel waits until the corrected form is sent.
    if (field.getAttribute("aria-invalid") === "true") return true;
    if (type === "checkbox" || type === "radio") return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") {
      var options = Array.prototype.slice.call(field.options);
      if (field.multiple) return options.some(function (o) { return o.selected !== o.defaultSelected; });
      var initial = options.findIndex(function (o) { return o.defaultSelected; });
      return field.selectedIndex !== (initial < 0 ? 0 : initial);
    }
    return field.value !== field.defaultValue;
  }

  var pressed = null;  // the refreshed panel a pointer is pressed in, until the release's click is done
  document.addEventListener("pointerdown", function (ev) {
    pressed = ev.target && ev.target.closest ? ev.target.closest("[data-live-refresh]") : null;
  }, true);
  ["pointerup", "pointercancel"].forEach(function (name) {
    document.addEventListener(name, function () {
      setTimeout(function () { pressed = null; releaseDone(); }, 0);  // after the click it ends
    }, true);
  });

  function editing(el) {
    if (el.dataset.liveForce) return false;
    if (pressed === el) return true;
    var active = document.activeElement;
    if (active && active.tagName === "SELECT" && el.contains(active)) return true;  // a list may be open
    return Array.prototype.some.call(el.querySelectorAll("input, select, textarea"), changed);
  }

  function note(el) {
    var id = "live-held-" + (el.id || "panel");
    var found = document.getElementById(id);
    if (found) return found;
    found = document.createElement("p");
    found.id = id;
    found.className = "live-held";
    found.setAttribute("role", "status");
    found.setAttribute("data-testid", id);
    found.hidden = true;
    found.appendChild(document.createTextNode("有新的变化，完成或撤销当前填写后自动更新。"));
    var now = document.createElement("button");
    now.type = "button";
    now.className = "secondary";
    now.textContent = "放弃填写，立即更新";
    now.addEventListener("click", function () {
      el.dataset.liveForce = "1";
      release(el);
    });
    found.appendChild(now);
    el.parentNode.insertBefore(found, el);
    return found;
  }

  function hold(el) {
    el.dataset.livePending = "1";
    if (pressed !== el) note(el).hidden = false;  // a press lasts a moment: no note for it
  }

  function release(el) {
    delete el.dataset.livePending;
    note(el).hidden = true;
    window.htmx.trigger(el, "live");
  }

  function releaseDone() {
    document.querySelectorAll("[data-live-pending]").forEach(function (el) {
      if (!editing(el)) release(el);
    });
  }

  ["change", "input", "reset", "focusout"].forEach(function (name) {
    document.addEventListener(name, function () { setTimeout(releaseDone, 0); }, true);
  });
  // Every re-fetch of a panel (a live event, its own "every 60s" timer) is held here while someone
  // edits it, and an answer that arrives after the editing began is set aside in beforeSwap.
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var el = ev.target;
    if (el && el.hasAttribute && el.hasAttribute("data-live-refresh") && editing(el)) {
      ev.preventDefault();
      hold(el);
    }
  });
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var el = ev.detail && ev.detail.target;
    var from = ev.detail && ev.detail.requestConfig ? ev.detail.requestConfig.elt : null;
    if (el && el === from && el.hasAttribute("data-live-refresh") && editing(el)) {  // its own re-fetch
      ev.detail.shouldSwap = false;
      hold(el);
    } else if (el && el === from && el.hasAttribute("data-stable-rows") && ev.detail.shouldSwap
               && !el.dataset.liveForce  // 放弃填写，立即更新 asked for the whole panel
               && inUse(el) && mergeRows(el, ev.detail.serverResponse)) {
      ev.detail.shouldSwap = false;
      el.dataset.liveCompact = "1";  // re-drawn when the pointer and the focus have left
    }
  });

  // --- rows that stay where the pointer is (data-stable-rows) ---------------------------------
  function markGone(row) {
    row.classList.add("gone");
    row.querySelectorAll("button, select, input, textarea").forEach(function (field) { field.disabled = true; });
    var cell = row.querySelector("td");
    if (cell && !cell.querySelector(".gone-tag")) {
      var tag = document.createElement("span");
      tag.className = "tag gone-tag";
      tag.textContent = "已由他人处理";
      cell.appendChild(document.createElement("br"));
      cell.appendChild(tag);
    }
  }

  function mergeRows(el, html) {
    var body = el.querySelector("tbody");
    if (!body || typeof html !== "string") return false;  // nothing listed: nothing can move under the pointer
    var answer = new DOMParser().parseFromString(html, "text/html");  // inert: nothing in it runs
    var incoming = {}, order = [];
    answer.querySelectorAll("tbody tr[id]").forEach(function (row) { incoming[row.id] = row; order.push(row.id); });
    var shown = {};
    body.querySelectorAll("tr[id]").forEach(function (row) {
      shown[row.id] = true;
      if (!incoming[row.id] && !row.classList.contains("gone")) markGone(row);
    });
    order.forEach(function (id) {  // new rows at the end, in the answer's order (oldest first)
      if (!shown[id]) body.appendChild(document.importNode(incoming[id], true));
    });
    return true;
  }

  function inUse(el) {  // the pointer rests on it, or the keyboard's focus is in it
    return el.matches(":hover") || el.contains(document.activeElement);
  }

  ["mouseout", "focusout"].forEach(function (name) {
    document.addEventListener(name, function (ev) {
      var el = ev.target && ev.target.closest ? ev.target.closest("[data-stable-rows]") : null;
      if (!el || !el.dataset.liveCompact || (ev.relatedTarget && el.contains(ev.relatedTarget))) return;
      setTimeout(function () {  // once the pointer and the focus have both left: re-draw
        if (!el.dataset.liveCompact || inUse(el)) return;
        delete el.dataset.liveCompact;
        window.htmx.trigger(el, "live");  // held as usual while someone edits
      }, 0);
    });
  });
  ["htmx:afterSwap", "htmx:responseError", "htmx:sendError"].forEach(function (name) {
    document.addEventListener(name, function (ev) {
      var el = ev.detail && ev.detail.target;
      if (el && el.dataset) delete el.dataset.liveForce;
    });
  });

  function handle(payload) {
    if (!firstTime(payload.cursor)) return;
    if (payload.cursor && payload.cursor > cursor) cursor = payload.cursor;
    refresh(payload.type);
    document.dispatchEvent(new CustomEvent("hotline:live", { detail: payload }));
  }

  function catchUp() {
    // Only after a first hello: its cursor is where this page's view stands, 0 on a system that
    // had no event yet (the page then catches up on everything since, not nothing).
    if (!greeted) return;
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
        if (data.type === "hello") greeted = true;
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
