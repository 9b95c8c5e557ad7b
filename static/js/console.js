/* 来电弹屏 on the operator console: a ringing call (live event call.incoming) shows the caller's
 * number and earlier tickets, and pre-fills the new-ticket form. Text only (no innerHTML). */
(function () {
  "use strict";
  document.addEventListener("hotline:live", function (ev) {
    var call = ev.detail;
    if (!call || call.type !== "call.incoming") return;
    var box = document.getElementById("incoming-call");
    if (!box) return;
    box.hidden = false;
    var national = (call.phone || "").replace(/^\+86/, "");
    box.querySelector("[data-phone]").textContent = national || "未显示号码";
    var list = box.querySelector("ol");
    list.textContent = "";
    (call.history || []).forEach(function (t) {
      var li = document.createElement("li");
      li.textContent = t.number + " · " + (t.title || "") + " · " + t.state;
      list.appendChild(li);
    });
    if (!(call.history || []).length) {
      var none = document.createElement("li");
      none.textContent = "无历史工单";
      list.appendChild(none);
    }
    var phone = document.getElementById("f-phone");
    if (phone && !phone.value) phone.value = national;
  });
})();

/* 分派中 (issue 17): a ticket just saved is accepted at once and routed a moment later by the routing
 * worker. The console's "工单号 N，当前状态：分派中" line follows the ticket's live events until it
 * is dispatched (办理中 · unit) or queued for a dispatcher (待派单). Text only (no innerHTML). */
(function () {
  "use strict";
  var LABELS = { in_progress: "办理中", dispatching: "待派单" };
  document.addEventListener("hotline:live", function (ev) {
    var event = ev.detail;
    if (!event || !event.ticket || !LABELS[event.ticket.state]) return;
    if (event.type !== "ticket.dispatched" && event.type !== "ticket.needs_dispatch") return;
    document.querySelectorAll(".messages li").forEach(function (li) {
      var text = li.textContent;
      if (text.indexOf(event.ticket.number) < 0 || text.indexOf("分派中") < 0) return;
      var unit = event.ticket.lead_unit ? " · " + event.ticket.lead_unit.name : "";
      li.textContent = text.replace("分派中", LABELS[event.ticket.state] + unit);
    });
  });
})();
