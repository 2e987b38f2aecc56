// A running bulk job's page reads its progress again every second until the job has finished.
// Without JavaScript, reloading the page shows the same.
(function () {
  "use strict";
  function poll(region) {
    fetch(region.dataset.poll, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) region.innerHTML = html;
        if (!region.querySelector("[data-finished]")) setTimeout(function () { poll(region); }, 1000);
      })
      .catch(function () { setTimeout(function () { poll(region); }, 3000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(function (region) { setTimeout(function () { poll(region); }, 500); });
  });
})();
