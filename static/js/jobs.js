/* 后台任务: poll each unfinished job's progress record every second until it ends. Text only. */
(function () {
  "use strict";
  function poll(li) {
    fetch(li.getAttribute("data-job-url"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (job) {
        li.querySelector("progress").value = job.progress;
        li.querySelector("[data-job-percent]").textContent = job.progress + "%";
        li.querySelector("[data-job-state]").textContent = job.state_label;
        var msg = li.querySelector("[data-job-message]");
        msg.textContent = job.message;
        msg.className = job.state === "failed" ? "error-text" : "";
        li.classList.toggle("job-failed", job.state === "failed");
        var list = li.querySelector("[data-job-steps]");
        list.textContent = "";
        (job.steps || []).forEach(function (s) { var item = document.createElement("li"); item.textContent = s.text; list.appendChild(item); });
        if (job.finished) { li.setAttribute("data-finished", "1"); return; }
        setTimeout(function () { poll(li); }, 1000);
      })
      .catch(function () {
        li.querySelector("[data-job-message]").textContent = "暂时无法读取进度，正在重试……";
        setTimeout(function () { poll(li); }, 3000);
      });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-job-url]").forEach(function (li) {
      if (!li.getAttribute("data-finished")) poll(li);
    });
  });
})();
