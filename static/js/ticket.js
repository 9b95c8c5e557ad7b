// The ticket page: the attachment viewer (a <dialog> instead of leaving the page) and reply templates.
// No inline script (CSP): wired here on DOMContentLoaded.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }
  ready(function () {
    var dialog = document.getElementById("viewer");
    var img = document.getElementById("viewer-img");
    document.querySelectorAll("a[data-viewer]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (!dialog || typeof dialog.showModal !== "function") return; // old browser: open the file
        event.preventDefault();
        var thumb = link.querySelector("img");
        img.src = link.getAttribute("href");
        img.alt = thumb ? thumb.alt : "";
        dialog.showModal();
      });
    });
    if (dialog) {
      dialog.addEventListener("click", function (event) { if (event.target === dialog) dialog.close(); });
      dialog.addEventListener("close", function () { img.removeAttribute("src"); });
    }
    document.querySelectorAll("select[data-fills]").forEach(function (select) {
      select.addEventListener("change", function () {
        var target = document.getElementById(select.getAttribute("data-fills"));
        var option = select.options[select.selectedIndex];
        var body = option ? option.getAttribute("data-body") : "";
        if (!target || !body) return;
        // What the clerk typed is kept: the template is added after it. Only a template left as it was
        // filled (another one picked straight after) is replaced.
        var typed = target.value.trim();
        var untouched = !typed || typed === (target.getAttribute("data-filled") || "").trim();
        target.value = untouched ? body : target.value.replace(/\s+$/, "") + "\n" + body;
        target.setAttribute("data-filled", target.value);
        target.focus();
      });
    });
    // A refused form comes back as typed with its field marked: the focus goes there. (The browser's
    // own autofocus is skipped when the address names a part of the page, as #notes does.)
    var refused = document.querySelector('[aria-invalid="true"][autofocus]');
    if (refused) refused.focus();
    // Deadlines count down while the page stays open (live.js recolours the same badges).
    function span(ms) {
      var minutes = Math.floor(Math.abs(ms) / 60000), days = Math.floor(minutes / 1440);
      var hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
      if (days) return days + "天" + hours + "小时";
      if (hours) return hours + "小时" + mins + "分钟";
      return mins + "分钟";
    }
    function countdown() {
      document.querySelectorAll("[data-due] [data-countdown]").forEach(function (el) {
        var due = Date.parse(el.closest("[data-due]").getAttribute("data-due"));
        if (isNaN(due)) return;
        var left = due - Date.now();
        el.textContent = left < 0 ? "已超期 " + span(left) : "剩余 " + span(left);
      });
    }
    setInterval(countdown, 60000);
    var printNow = document.querySelector("[data-print-now]");
    if (printNow) printNow.addEventListener("click", function () { window.print(); });
  });
})();
