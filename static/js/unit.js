/* 承办工作台: new tickets arriving through the live feed are noticed. After each refresh of the
 * inbox, rows not seen before get a highlight, the count of new tickets shows above the lists and
 * in the tab title ("(2) 承办工作台 …"), and an optional short tone plays (off unless the clerk
 * turns it on; the choice is kept in this browser). "知道了" clears the count and highlights.
 * Text only (no innerHTML). */
(function () {
  "use strict";
  var SOUND_KEY = "hotline.unit.sound";
  var known = null, fresh = {}, count = 0, latest = 0, baseTitle = document.title;

  function rows(root) { return Array.prototype.slice.call(root.querySelectorAll("tr[data-number]")); }

  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      var ctx = new Ctx(), osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.25);
      document.body.dataset.beeped = String((+document.body.dataset.beeped || 0) + 1);
    } catch (e) { /* no audio device: the highlight and the count still say it */ }
  }

  function show() {
    var bar = document.getElementById("new-arrivals");
    if (!bar) return;
    bar.hidden = count === 0;
    bar.querySelector("[data-new-count]").textContent = "新到工单 " + count + " 件";
    document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
  }

  function mark(root) {
    rows(root).forEach(function (tr) { tr.classList.toggle("row-new", !!fresh[tr.getAttribute("data-number")]); });
  }

  function scan(root) {
    // New = not listed before and dispatched after everything listed before. The lists show the
    // nearest deadlines only, so a row can also come into view because another left it (replied,
    // returned): that one was dispatched earlier and is not an arrival.
    var now = {};
    var arrived = 0, newest = latest;
    rows(root).forEach(function (tr) {
      var number = tr.getAttribute("data-number");
      var dispatched = +tr.getAttribute("data-dispatched") || 0;
      now[number] = true;
      if (dispatched > newest) newest = dispatched;
      if (known && !known[number] && !fresh[number] && dispatched >= latest) { fresh[number] = true; arrived += 1; }
    });
    known = now;
    latest = newest;
    if (arrived) {
      count += arrived;
      var sound = document.getElementById("new-sound");
      if (sound && sound.checked) beep();
    }
    mark(root);
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("unit-inbox");
    if (!root) return;
    scan(root);
    var sound = document.getElementById("new-sound");
    if (sound) {
      try { sound.checked = localStorage.getItem(SOUND_KEY) === "1"; } catch (e) {}
      sound.addEventListener("change", function () {
        try { localStorage.setItem(SOUND_KEY, sound.checked ? "1" : "0"); } catch (e) {}
      });
    }
    var ack = document.getElementById("new-ack");
    if (ack) ack.addEventListener("click", function () { fresh = {}; count = 0; mark(root); show(); });
    document.body.addEventListener("htmx:afterSwap", function (ev) { if (ev.target === root) scan(root); });
  });
})();
