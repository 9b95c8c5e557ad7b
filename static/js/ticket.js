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
        if (target && body) { target.value = body; target.focus(); }
      });
    });
    var printNow = document.querySelector("[data-print-now]");
    if (printNow) printNow.addEventListener("click", function () { window.print(); });
  });
})();
