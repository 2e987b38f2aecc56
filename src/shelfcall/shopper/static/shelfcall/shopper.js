// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  // Live status: replace the panel when the order changes; a lost stream is reopened (live.js) from
  // the last event. While the shopper is typing in the panel (say, where they parked) the update waits.
  function followStatus(panel) {
    if (!window.EventSource || !window.shelfcallFollow) return;
    var note = document.getElementById("status-note");
    var waiting = null;
    function apply(data, id) {
      if (panel.contains(document.activeElement) && document.activeElement.matches("input,select,textarea")) {
        waiting = [data, id];
        panel.dataset.pending = "1";
        return;
      }
      waiting = null;
      delete panel.dataset.pending;
      panel.innerHTML = data.html;
      panel.dataset.lastEventId = id;
      var nextStep = panel.querySelector(".next-step");
      var position = panel.querySelector(".queue-position"); // the promise: moves without a step of its own
      if (note && nextStep) note.textContent = nextStep.textContent + (position ? " " + position.textContent : "");
      if (data.status === "ready" && navigator.vibrate) navigator.vibrate([200, 100, 200]);
    }
    panel.addEventListener("focusout", function () {
      if (waiting) setTimeout(function () { if (waiting) apply(waiting[0], waiting[1]); }, 0);
    });
    var stream = window.shelfcallFollow({
      url: panel.dataset.events,
      lastEventId: panel.dataset.lastEventId,
      notice: document.getElementById("live-notice"),
      handlers: {
        order: function (message) {
          var data = JSON.parse(message.data);
          apply(data, message.lastEventId);
          if (data.status !== "submitted" && data.status !== "picking" && data.status !== "ready") stream.close();
        }
      }
    });
  }

  // A form sent while offline waits, and is sent as soon as the connection is back: the cart is on the
  // server, so nothing the shopper chose is lost meanwhile.
  function holdFormsWhileOffline() {
    var banner;
    function showBanner() {
      if (banner) return;
      banner = document.createElement("p");
      banner.className = "offline";
      banner.setAttribute("role", "status");
      banner.textContent = document.body.dataset.offlineText;
      document.body.insertBefore(banner, document.body.firstChild);
    }
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (navigator.onLine !== false) {
        if (form.hasAttribute("data-once")) {
          if (form.dataset.sent) { event.preventDefault(); return; }
          form.dataset.sent = "1";
        }
        return;
      }
      event.preventDefault();
      showBanner();
      window.addEventListener("online", function () { form.submit(); }, { once: true });
    });
  }

  onReady(function () {
    var panel = document.getElementById("status-panel");
    if (panel) followStatus(panel);
    holdFormsWhileOffline();
    window.addEventListener("pageshow", function () {
      document.querySelectorAll("form[data-once]").forEach(function (form) { delete form.dataset.sent; });
    });
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
