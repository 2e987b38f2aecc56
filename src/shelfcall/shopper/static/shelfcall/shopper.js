// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  // Live status: replace the panel when the order changes, or only its promise when its place in the
  // queue moved; a lost stream is reopened (live.js) from the last event. While the shopper is typing in
  // the panel (say, where they parked) updates wait, in order: a panel makes those before it moot.
  function followStatus(panel) {
    if (!window.EventSource || !window.shelfcallFollow) return;
    var note = document.getElementById("status-note");
    var held = [];
    function typing() {
      return panel.contains(document.activeElement) && document.activeElement.matches("input,select,textarea");
    }
    function putPromise(html) {
      var shown = panel.querySelector("#promise");
      var template = document.createElement("template");
      template.innerHTML = html.trim();
      var fresh = template.content.firstElementChild;
      if (shown) {
        if (fresh) shown.replaceWith(fresh); else shown.remove();
      } else if (fresh) {
        var before = panel.querySelector(".sub-status") || panel.querySelector(".next-step");
        if (before) before.after(fresh); else panel.prepend(fresh);
      }
    }
    function show(data, id) {
      if (data.html !== undefined) panel.innerHTML = data.html; else putPromise(data.promise || "");
      panel.dataset.lastEventId = id;
      var nextStep = panel.querySelector(".next-step");
      var position = panel.querySelector(".queue-position"); // the promise: moves without a step of its own
      if (note && nextStep) note.textContent = nextStep.textContent + (position ? " " + position.textContent : "");
      if (data.html !== undefined && data.status === "ready" && navigator.vibrate) navigator.vibrate([200, 100, 200]);
    }
    function release(updates) {
      held = [];
      delete panel.dataset.pending;
      updates.forEach(function (update) { show(update[0], update[1]); });
    }
    function apply(data, id) {
      if (!typing()) return release(held.concat([[data, id]]));
      if (data.html !== undefined) held = [];
      held.push([data, id]);
      panel.dataset.pending = "1";
    }
    panel.addEventListener("focusout", function () {
      setTimeout(function () { if (held.length && !typing()) release(held); }, 0);
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
