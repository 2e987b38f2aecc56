// The import page's progress bar: asks how far the job has come, and reloads the page once it is done.
(function () {
  const section = document.querySelector("[data-progress-url]");
  if (!section) return;
  const bar = section.querySelector("progress");
  async function poll() {
    try {
      const response = await fetch(section.dataset.progressUrl, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const progress = await response.json();
        if (!progress.running || progress.state !== section.dataset.state) {
          window.location.reload();
          return;
        }
        if (progress.total) {
          bar.max = progress.total;
          bar.value = progress.done;
        }
      }
    } catch (error) {
      // offline for a moment: try again
    }
    window.setTimeout(poll, 1000);
  }
  window.setTimeout(poll, 500);
})();
