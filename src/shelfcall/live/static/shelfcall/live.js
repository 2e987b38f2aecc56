// Live streams that come back after a blip. EventSource reconnects by itself after a network drop,
// but gives up for good on any answer other than 200 (a 503 while the database restarts, a 429 when
// too many streams are open). Then this opens the stream again after 1 s, 2 s, 4 s … up to 30 s (each
// wait drawn in its upper half, so a whole shop floor does not come back in the same second), from
// the last event received: a new EventSource cannot send Last-Event-ID, so the id goes in the query.
// While the stream is down for more than a moment, the notice (an aria-live region) says so.
(function () {
  "use strict";
  var FIRST_WAIT = 1000;
  var LONGEST_WAIT = 30000;
  var NOTICE_AFTER = 4000; // streams end every few minutes and the browser reopens them at once

  // options: url, lastEventId, handlers ({event name: function (message)}), notice (element, optional,
  // its text in data-text). Returns {close}.
  window.shelfcallFollow = function (options) {
    var lastId = options.lastEventId || "0";
    var wait = FIRST_WAIT;
    var source = null;
    var noticeTimer = null;
    var closed = false;

    function showNotice() {
      if (!options.notice || noticeTimer) return;
      noticeTimer = setTimeout(function () { options.notice.textContent = options.notice.dataset.text; }, NOTICE_AFTER);
    }
    function hideNotice() {
      clearTimeout(noticeTimer);
      noticeTimer = null;
      if (options.notice) options.notice.textContent = "";
    }
    function reopenLater() {
      var delay = wait / 2 + Math.random() * wait / 2;
      wait = Math.min(LONGEST_WAIT, wait * 2);
      setTimeout(function () { if (!closed) open(); }, delay);
    }
    function open() {
      var separator = options.url.indexOf("?") < 0 ? "?" : "&";
      source = new EventSource(options.url + separator + "last_event_id=" + encodeURIComponent(lastId));
      source.addEventListener("open", function () { wait = FIRST_WAIT; hideNotice(); });
      source.addEventListener("error", function () {
        if (closed) return;
        showNotice();
        if (source.readyState === EventSource.CLOSED) reopenLater(); // otherwise the browser retries
      });
      Object.keys(options.handlers).forEach(function (name) {
        source.addEventListener(name, function (message) {
          if (message.lastEventId) lastId = message.lastEventId;
          options.handlers[name](message);
        });
      });
    }

    open();
    return {
      close: function () {
        closed = true;
        hideNotice();
        source.close();
      }
    };
  };
})();
