/* 呼叫中心 on the operator console: the seat panel (tickets/templates/tickets/console/_seat.html).
 *  - 来电弹屏: the live event call.bridged (sent to this operator's seat group only, on the bridge)
 *    opens the caller panel (number as my role may see it, open and recent tickets, 重复来电,
 *    退订, 保密 history) and pre-fills the new-ticket form with the number and the CallSid;
 *  - a console that (re)loads mid-call reads the call it is on from /console/seat/call/;
 *  - 转接 / 三方通话: the caller panel's two forms (htmx, the seat panel re-rendered with the
 *    result); a new pop clears their choices, and the page asks before a transfer;
 *  - the softphone: Twilio Voice JS SDK (static/vendor/twilio-voice), token from /console/seat/token/,
 *    refreshed before it expires. Text only (no innerHTML). */
(function () {
  "use strict";
  var device = null, activeCall = null;

  function panel() { return document.getElementById("seat-panel"); }

  function setFormCall(call) {
    var form = document.getElementById("new-ticket");
    if (!form) return;
    var input = form.querySelector("input[name=call_sid]");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "call_sid";
      form.appendChild(input);
    }
    input.value = call.call_sid;
    var phone = document.getElementById("f-phone");
    if (phone && call.phone && call.phone.indexOf("*") < 0) phone.value = call.phone.replace(/^\+86/, "");
  }

  function showCaller(call) {
    var box = document.getElementById("caller-panel");
    if (!box) return;
    box.hidden = false;
    box.setAttribute("data-call-sid", call.call_sid);
    box.querySelector("[data-caller-phone]").textContent = call.phone_display || (call.phone || "").replace(/^\+86/, "") || "未显示号码";
    box.querySelector("[data-caller-desk]").textContent = call.desk || "";
    var flags = [];
    if (call.repeat_caller) flags.push("重复来电");
    if (call.opted_out) flags.push("已退订短信");
    if (call.confidential_history) flags.push("曾要求保密/匿名");
    if (call.wait_seconds !== undefined) flags.push("排队 " + call.wait_seconds + " 秒");
    box.querySelector("[data-caller-flags]").textContent = flags.join(" · ");
    var list = box.querySelector("[data-testid=caller-tickets]");
    list.textContent = "";
    (call.history || []).forEach(function (t) {
      var li = document.createElement("li");
      li.textContent = t.number + " · " + (t.title || "") + " · " + t.state + " ";
      var link = document.createElement("button");
      link.type = "button";
      link.className = "link-call";
      link.setAttribute("data-ticket", t.id);
      link.textContent = "关联本次来电";
      li.appendChild(link);
      list.appendChild(li);
    });
    if (!(call.history || []).length) {
      var none = document.createElement("li");
      none.textContent = "无历史工单";
      list.appendChild(none);
    }
    setFormCall(call);
    box.querySelectorAll(".seat-call-actions select").forEach(function (sel) { sel.selectedIndex = 0; });
  }

  // A refused seat action (400/404/409) answers the panel with the reason in it: show it (htmx
  // swaps only 2xx answers by default, and the operator saw nothing happen).
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var target = ev.detail && ev.detail.target;
    var status = ev.detail && ev.detail.xhr ? ev.detail.xhr.status : 0;
    if (target && target.id === "seat-panel" && (status === 400 || status === 404 || status === 409)) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });

  // 转接 moves the caller away from this seat: confirm first (htmx honours hx-confirm-like events)
  document.addEventListener("htmx:confirm", function (ev) {
    var form = ev.target && ev.target.closest && ev.target.closest("[data-testid=transfer-form]");
    if (!form) return;
    var sel = form.querySelector("select");
    var name = sel && sel.selectedIndex > 0 ? sel.options[sel.selectedIndex].text : "";
    if (!name) return;
    ev.preventDefault();
    if (window.confirm("确认将来电人转接到" + name + "？")) ev.detail.issueRequest(true);
  });

  function loadCurrent() {
    var p = panel();
    var box = document.getElementById("caller-panel");
    if (!p || !box || !box.getAttribute("data-call-sid")) return;
    fetch(p.getAttribute("data-call-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { call: null }; })
      .then(function (body) { if (body.call) showCaller(body.call); })
      .catch(function () {});
  }

  document.addEventListener("hotline:live", function (ev) {
    var data = ev.detail;
    if (!data || data.type !== "call.bridged") return;
    var p = panel();
    if (p && String(data.operator) !== p.getAttribute("data-user")) return;
    showCaller(data);
    if (p) p.querySelector("[data-testid=seat-state]").textContent = "通话中";
  });

  // --- softphone ---------------------------------------------------------------------------
  function status(text) { var el = document.getElementById("softphone-status"); if (el) el.textContent = text; }
  function toggle(id, on) { var el = document.getElementById(id); if (el) el.hidden = !on; }

  function token() {
    return fetch(panel().getAttribute("data-token-url"), { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function softphoneOn() {
    if (!window.Twilio || !window.Twilio.Device) { status("软电话组件未加载"); return; }
    token().then(function (body) {
      device = new window.Twilio.Device(body.token, { closeProtection: true });
      device.on("registered", function () { status("软电话已就绪"); });
      // The phone library's own message is English: the operator reads what to do, the code is for support.
      device.on("error", function (err) {
        status("软电话未连接，请检查网络后点击“启用软电话”重试" + (err && err.code ? "（错误代码 " + err.code + "）" : ""));
      });
      device.on("tokenWillExpire", function () {
        token().then(function (fresh) { device.updateToken(fresh.token); }).catch(function () {});
      });
      device.on("incoming", function (call) {
        activeCall = call;
        status("来电振铃");
        toggle("softphone-accept", true);
        call.on("disconnect", function () { activeCall = null; toggle("softphone-hangup", false); status("通话结束"); });
      });
      device.register();
      status("正在连接软电话……");
    }).catch(function () { status("无法启用软电话：与服务器的连接中断，请稍后重试"); });
  }

  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function linkCall(button) {
    var box = document.getElementById("caller-panel");
    var body = new URLSearchParams({ ticket: button.getAttribute("data-ticket"), call_sid: box.getAttribute("data-call-sid") });
    fetch(panel().getAttribute("data-link-url"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRFToken": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
    }).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); })
      .then(function (res) { button.textContent = res[0] ? "已关联" : (res[1].detail || "关联失败"); button.disabled = res[0]; })
      .catch(function () { button.textContent = "关联失败"; });
  }

  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.classList && ev.target.classList.contains("link-call")) { linkCall(ev.target); return; }
    var id = ev.target && ev.target.id;
    if (id === "softphone-on") softphoneOn();
    if (id === "softphone-accept" && activeCall) { activeCall.accept(); toggle("softphone-accept", false); toggle("softphone-hangup", true); status("通话中"); }
    if (id === "softphone-hangup" && activeCall) { activeCall.disconnect(); }
  });

  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.target && (ev.target.id === "seat-panel" || ev.target.querySelector && ev.target.querySelector("#seat-panel"))) loadCurrent();
  });
  document.addEventListener("DOMContentLoaded", loadCurrent);
})();
