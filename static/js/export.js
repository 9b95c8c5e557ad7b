/* Export buttons with progress ([data-export-url]): the file is fetched as a stream and counted as it
 * arrives (rows against the X-Export-Rows header for CSV, bytes against Content-Length otherwise),
 * then offered for download. A refusal (400/403/409/503) shows the server's Chinese message. */
(function () {
  "use strict";

  function kb(bytes) { return (bytes / 1024).toFixed(1) + " KB"; }

  function fileName(response, fallback) {
    var cd = response.headers.get("Content-Disposition") || "";
    var m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
    return m ? decodeURIComponent(m[1]) : fallback;
  }

  function refusal(response) {
    return response.text().then(function (text) {
      var detail = "";
      try { var body = JSON.parse(text); detail = body.detail || body.message || ""; if (typeof detail !== "string") detail = JSON.stringify(detail); } catch (e) { detail = ""; }
      var what = response.status === 403 ? "没有导出权限" : response.status === 429 ? "导出过于频繁，请稍后再试" : "导出被拒绝";
      return what + "（HTTP " + response.status + "）" + (detail ? "：" + detail : "");
    });
  }

  function start(box) {
    var button = box.querySelector("[data-export-start]");
    var bar = box.querySelector("progress");
    var msg = box.querySelector(".export-msg");
    var url = box.getAttribute("data-export-url");
    button.disabled = true;
    bar.hidden = false; bar.removeAttribute("value");
    msg.className = "export-msg"; msg.textContent = "正在导出……";
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) return refusal(response).then(function (text) { throw new Error(text); });
      var rows = parseInt(response.headers.get("X-Export-Rows") || "", 10);
      var length = parseInt(response.headers.get("Content-Length") || "", 10);
      var isCsv = /text\/csv/.test(response.headers.get("Content-Type") || "");
      var reader = response.body.getReader();
      var chunks = [], bytes = 0, lines = 0;
      function pump() {
        return reader.read().then(function (part) {
          if (part.done) return;
          chunks.push(part.value);
          bytes += part.value.length;
          if (isCsv) for (var i = 0; i < part.value.length; i++) if (part.value[i] === 10) lines++;
          var pct = null;
          if (isCsv && rows >= 0) pct = Math.min(99, Math.round(100 * Math.max(lines - 1, 0) / Math.max(rows, 1)));
          else if (length > 0) pct = Math.min(99, Math.round(100 * bytes / length));
          if (pct !== null) bar.value = pct;
          msg.textContent = "正在导出：" + (isCsv ? "已收到 " + Math.max(lines - 1, 0) + (rows >= 0 ? " / " + rows : "") + " 行，" : "") + kb(bytes) + (pct !== null ? "（" + pct + "%）" : "");
          return pump();
        });
      }
      return pump().then(function () {
        var blob = new Blob(chunks, { type: response.headers.get("Content-Type") || "application/octet-stream" });
        var name = fileName(response, "export");
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = name;
        link.textContent = "保存 " + name;
        link.className = "export-link";
        bar.value = 100;
        msg.className = "export-msg ok";
        msg.textContent = "导出完成：" + (rows >= 0 ? rows + " 行，" : "") + kb(bytes) + "。";
        msg.appendChild(link);
        link.click();
      });
    }).catch(function (err) {
      bar.hidden = true;
      msg.className = "export-msg error";
      msg.textContent = err && err.message && /[\u4e00-\u9fff]/.test(err.message) ? err.message : "导出失败：网络中断，请重试";
    }).then(function () { button.disabled = false; });
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("[data-export-start]");
    if (button) start(button.closest("[data-export-url]"));
  });
})();
