/* The operator's console (话务台). Text only (no innerHTML).
 *
 * - 来电弹屏: a ringing call (live event call.incoming) shows the caller's number and earlier
 *   tickets beside the form and pre-fills 来电号码.
 * - 知识库答复 is a deliberate act: the article's button (out of the Tab path, never the form's
 *   default button) opens a confirmation showing the whole article and where the SMS goes; Enter
 *   in the form always registers the call (受理).
 * - Focus comes back to the form after each action (page load, closing the confirmation); after a
 *   refused submit it goes to the field the server named (aria-invalid).
 * - A hints box marked data-keep-same is not re-rendered when a refresh brings what it already shows:
 *   the links under the operator's pointer stay the same elements, so a click is never swallowed.
 * - What the operator typed is kept in sessionStorage until a submit stored it (the server marks
 *   the form data-saved), and a submit while the server cannot be reached is held back with a
 *   message instead of leaving the page for a browser error page.
 */
(function () {
  "use strict";
  var DRAFT_KEY = "hotline.console.draft";
  var FIELDS = ["kind", "urgency", "text", "citizen_phone", "citizen_name", "citizen_address"];
  var lastField = null;

  function nationalPhone(value) {
    var digits = (value || "").replace(/[^\d]/g, "").replace(/^(0086|86)(?=1\d{10}$)/, "");
    if (/^1\d{10}$/.test(digits)) return digits.slice(0, 3) + " " + digits.slice(3, 7) + " " + digits.slice(7);
    return (value || "").replace(/^\+86/, "");
  }

  function form() { return document.getElementById("new-ticket"); }

  function focusForm() {
    var f = form();
    if (!f) return;
    var target = lastField && document.body.contains(lastField) ? lastField : f.querySelector("#f-kind");
    if (target) target.focus();
  }

  /* --- drafts: never lose what the caller said --- */
  function saveDraft() {
    var f = form();
    if (!f) return;
    var data = {};
    FIELDS.forEach(function (name) { if (f.elements[name]) data[name] = f.elements[name].value; });
    data.confidential = f.elements.confidential && f.elements.confidential.checked;
    data.anonymous = f.elements.anonymous && f.elements.anonymous.checked;
    try { sessionStorage.setItem(DRAFT_KEY, JSON.stringify(data)); } catch (e) { /* private mode */ }
  }

  function restoreDraft() {
    var f = form();
    if (!f) return;
    if (f.getAttribute("data-saved")) { try { sessionStorage.removeItem(DRAFT_KEY); } catch (e) {} return; }
    var raw = null;
    try { raw = sessionStorage.getItem(DRAFT_KEY); } catch (e) { return; }
    if (!raw || f.elements.text.value) return;
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    if (!data || !data.text) return;
    FIELDS.forEach(function (name) { if (f.elements[name] && data[name] !== undefined) f.elements[name].value = data[name]; });
    if (f.elements.confidential) f.elements.confidential.checked = !!data.confidential;
    if (f.elements.anonymous) f.elements.anonymous.checked = !!data.anonymous;
    say("已恢复尚未提交的受理内容，请核对后提交。", false);
  }

  function say(text, isError) {
    var box = document.getElementById("form-alert");
    if (!box) return;
    box.textContent = text;
    box.className = "form-alert" + (isError ? " error-text" : "");
    box.hidden = !text;
  }

  /* --- a submit while the server is unreachable stays on the page --- */
  var checked = false, sending = false;
  function guardSubmit(ev) {
    // Enter pressed twice, a double click: the form goes once (the server also files it once).
    if (sending) { ev.preventDefault(); return; }
    if (checked) { checked = false; sending = true; return; }
    if (document.body.dataset.live === "on") { sending = true; return; }  // the live socket is up: so is the server
    ev.preventDefault();
    var f = form(), submitter = ev.submitter || null;
    saveDraft();
    fetch("/healthz", { cache: "no-store", credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      checked = true;
      if (f.requestSubmit) f.requestSubmit(submitter || undefined); else f.submit();
    }).catch(function () {
      say("与服务器的连接已中断，工单尚未提交。填写的内容已保留，连接恢复后请再次提交。", true);
      var dialog = document.getElementById("kb-confirm");
      if (dialog && dialog.open) dialog.close();
      focusForm();
    });
  }

  /* --- knowledge-base answer: confirm first --- */
  // A 投诉 or 举报 normally goes to the responsible unit: its answer here needs the box ticked (the
  // server refuses it otherwise). Other kinds never see the box, and a hidden box is never sent.
  function kindConfirm(dialog) {
    var box = dialog.querySelector("[data-kb-kind-confirm]");
    if (!box) return;
    var kind = (document.getElementById("f-kind") || {}).value || "";
    var asks = (box.getAttribute("data-kinds") || "").split(" ").indexOf(kind) >= 0;
    var check = box.querySelector("input[type=checkbox]");
    box.hidden = !asks;
    check.disabled = !asks;
    check.required = asks;
    check.checked = false;
  }

  function openConfirm(button) {
    var dialog = document.getElementById("kb-confirm");
    if (!dialog || !dialog.showModal) return;
    dialog.querySelector("[data-kb-question]").textContent = button.getAttribute("data-question");
    dialog.querySelector("[data-kb-answer-text]").textContent = button.getAttribute("data-answer");
    var sms = dialog.querySelector("[data-kb-sms]");
    var phone = (document.getElementById("f-phone") || {}).value || "";
    sms.textContent = phone.trim()
      ? sms.getAttribute("data-sms-to") + " " + nationalPhone(phone.trim()) + "。"
      : sms.getAttribute("data-sms-none");
    dialog.querySelector("[data-kb-confirm]").value = button.getAttribute("data-kb-answer");
    kindConfirm(dialog);
    dialog.showModal();
    dialog.querySelector("[data-kb-cancel]").focus();  // the safe choice has the focus
  }

  var shown = new WeakMap();
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var target = ev.detail.target;
    if (!target || !target.hasAttribute("data-keep-same") || !ev.detail.shouldSwap) return;
    if (shown.get(target) === ev.detail.serverResponse) ev.detail.shouldSwap = false;
    else shown.set(target, ev.detail.serverResponse);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var f = form();
    if (!f) return;
    restoreDraft();
    f.addEventListener("focusin", function (ev) { if (ev.target.name) lastField = ev.target; });
    f.addEventListener("input", saveDraft);
    f.addEventListener("change", saveDraft);
    f.addEventListener("change", function (ev) { ev.target.removeAttribute("aria-invalid"); });  // corrected
    f.addEventListener("submit", guardSubmit);
    window.addEventListener("pageshow", function () { sending = false; });  // back to a form kept in memory
    document.addEventListener("click", function (ev) {
      var button = ev.target.closest ? ev.target.closest("[data-kb-answer]") : null;
      if (button) { ev.preventDefault(); openConfirm(button); }
    });
    var dialog = document.getElementById("kb-confirm");
    if (dialog) {
      dialog.querySelector("[data-kb-cancel]").addEventListener("click", function () { dialog.close(); focusForm(); });
      dialog.addEventListener("close", focusForm);
      dialog.addEventListener("close", function () {  // closed unsent: the box must not hold up 受理
        var check = dialog.querySelector("[data-kb-kind-confirm] input[type=checkbox]");
        if (check) { check.disabled = true; check.required = false; }
      });
    }
    // A refused submit: the field at fault, the call form's or a panel's (补全, 驳回, 退回重办, 派单,
    // 回访, 登记回拨结果: marked data-refused-focus), never the call form in place of the panel's.
    var refused = f.querySelector('[aria-invalid="true"]') || document.querySelector("[data-refused-focus]");
    if (refused) {
      refused.focus();
    } else if (!document.activeElement || document.activeElement === document.body) {
      var first = f.querySelector(f.elements.text.value ? "#f-text" : "#f-kind");
      if (first) first.focus();
    }
  });

  document.addEventListener("hotline:live", function (ev) {
    var call = ev.detail;
    if (!call || call.type !== "call.incoming") return;
    var box = document.getElementById("incoming-call");
    if (!box) return;
    box.hidden = false;
    var national = (call.phone || "").replace(/^\+86/, "");
    box.querySelector("[data-phone]").textContent = national ? nationalPhone(national) : "未显示号码";
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
    var f = form();
    if (f && !f.contains(document.activeElement)) document.getElementById("f-text").focus();
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
