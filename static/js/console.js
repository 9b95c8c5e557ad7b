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
