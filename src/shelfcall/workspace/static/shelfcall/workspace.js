// Workspace behaviour, all progressive: pages work by reload without this file.
(function () {
  "use strict";
  var MUTE_KEY = "shelfcall.mute";

  function onReady(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  function announce(text) {
    var note = document.getElementById("live-note");
    if (note) note.textContent = text;
  }

  // Ages tick by themselves ("4 min"), in the page's language.
  function tickAges() {
    var format = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(document.documentElement.lang, { numeric: "auto", style: "short" }) : null;
    document.querySelectorAll("time[data-age]").forEach(function (el) {
      var minutes = Math.round((Date.now() - Date.parse(el.getAttribute("datetime"))) / 60000);
      el.textContent = format ? format.format(-minutes, "minute") : minutes + " min";
    });
  }

  function beep() {
    if (localStorage.getItem(MUTE_KEY) === "1") return;
    try {
      var audio = new (window.AudioContext || window.webkitAudioContext)();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.2;
      tone.connect(gain); gain.connect(audio.destination);
      tone.start(); tone.stop(audio.currentTime + 0.25);
    } catch (e) { /* no audio on this device */ }
    if (navigator.vibrate) navigator.vibrate([150, 80, 150]);
  }

  function setupMute(button) {
    function show() {
      var muted = localStorage.getItem(MUTE_KEY) === "1";
      button.setAttribute("aria-pressed", muted ? "true" : "false");
      button.textContent = muted ? button.dataset.offText : button.dataset.onText;
    }
    button.dataset.onText = button.textContent;
    button.dataset.offText = button.dataset.mutedText || "🔇";
    button.addEventListener("click", function () {
      localStorage.setItem(MUTE_KEY, localStorage.getItem(MUTE_KEY) === "1" ? "0" : "1");
      show();
    });
    show();
  }

  // A live region: when the server says something changed, re-read the region's fragment. A region
  // holding the focus (someone typing) waits until the focus leaves it.
  function followLive(region) {
    if (!window.EventSource || !window.shelfcallFollow) return;
    var pending = false;
    function refresh() {
      if (region.contains(document.activeElement) && document.activeElement.matches("input,select,textarea")) {
        pending = true;
        return;
      }
      pending = false;
      fetch(region.dataset.liveRefresh, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return;
          var checked = Array.prototype.map.call(region.querySelectorAll("input[type=checkbox]:checked"), function (box) { return box.value; });
          region.innerHTML = html;
          checked.forEach(function (value) {
            var box = region.querySelector('input[type=checkbox][value="' + value + '"]');
            if (box) box.checked = true;
          });
          tickAges();
        });
    }
    region.addEventListener("focusout", function () { if (pending) setTimeout(refresh, 0); });
    // A lost stream is reopened (live.js) from the last event, whose replay then refreshes the region.
    window.shelfcallFollow({
      url: region.dataset.liveEvents,
      lastEventId: region.dataset.lastEventId,
      notice: document.getElementById("live-notice"),
      handlers: {
        change: function (message) {
          var data = JSON.parse(message.data);
          if (data.types.indexOf("order.created") >= 0 && region.id === "queue") {
            beep();
            announce(region.dataset.newOrderText || "New order");
          }
          refresh();
        }
      }
    });
  }

  // Camera scanning: the browser's BarcodeDetector, or our self-hosted polyfill (zxing, WebAssembly)
  // loaded on first use. A keyboard-wedge scanner needs none of this: it types the code and Enter.
  var detectorLoading = null;
  function barcodeDetector() {
    if ("BarcodeDetector" in window) return Promise.resolve(window.BarcodeDetector);
    if (!detectorLoading) {
      detectorLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = document.body.dataset.scanPolyfill;
        script.onload = function () {
          window.BarcodeDetectionAPI.setZXingModuleOverrides({
            locateFile: function (path, prefix) { return path.endsWith(".wasm") ? document.body.dataset.scanWasm : prefix + path; }
          });
          resolve(window.BarcodeDetector);
        };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return detectorLoading;
  }
  window.shelfcallBarcodeDetector = barcodeDetector;

  function setupCamera(form) {
    var button = form.querySelector("[data-camera]");
    var video = form.querySelector("[data-camera-view]");
    var input = form.querySelector("input[name=code]");
    if (!button || !video || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      Promise.all([barcodeDetector(), navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })])
        .then(function (ready) {
          var detector = new ready[0]();
          var stream = ready[1];
          video.srcObject = stream;
          video.hidden = false;
          video.play();
          var timer = setInterval(function () {
            detector.detect(video).then(function (codes) {
              if (!codes.length) return;
              clearInterval(timer);
              stream.getTracks().forEach(function (track) { track.stop(); });
              video.hidden = true;
              input.value = codes[0].rawValue;
              form.submit();
            });
          }, 250);
        })
        .catch(function () { button.hidden = true; input.focus(); });
    });
  }

  // Signature: drawn with a finger or a stylus, sent as an SVG path.
  function setupSignature(form) {
    var box = form.querySelector("[data-signature]");
    var canvas = box && box.querySelector("canvas");
    var field = form.querySelector("input[name=signature]");
    if (!canvas || !field) return;
    box.hidden = false;
    var ctx = canvas.getContext("2d");
    var path = [];
    var drawing = false;
    ctx.lineWidth = 3;
    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return [Math.round((event.clientX - rect.left) * canvas.width / rect.width), Math.round((event.clientY - rect.top) * canvas.height / rect.height)];
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      var p = point(event);
      path.push("M" + p[0] + " " + p[1]);
      ctx.beginPath(); ctx.moveTo(p[0], p[1]);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var p = point(event);
      path.push("L" + p[0] + " " + p[1]);
      ctx.lineTo(p[0], p[1]); ctx.stroke();
    });
    window.addEventListener("pointerup", function () { drawing = false; field.value = path.join(" "); });
    box.querySelector("[data-signature-clear]").addEventListener("click", function () {
      path = []; field.value = ""; ctx.clearRect(0, 0, canvas.width, canvas.height);
    });
  }

  onReady(function () {
    tickAges();
    setInterval(tickAges, 30000);
    document.querySelectorAll("[data-live-events]").forEach(followLive);
    document.querySelectorAll("[data-mute]").forEach(setupMute);
    document.querySelectorAll("form[data-scan]").forEach(setupCamera);
    document.querySelectorAll("form[data-signature-form]").forEach(setupSignature);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
