/* The installable workspace: registers its service worker; on "My alerts", turns on Web Push. */
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  const registered = navigator.serviceWorker.register(document.body.dataset.serviceWorker, {
    scope: document.body.dataset.serviceWorkerScope,
  });

  // On a shared device, the switch form carries this browser's subscription, so that its alerts follow
  // the person switching in (the server moves it only with the subscription's auth secret).
  const endpointField = document.getElementById("switch-device-endpoint");
  if (endpointField && "PushManager" in window) {
    registered
      .then((registration) => registration.pushManager.getSubscription())
      .then((subscription) => {
        if (!subscription) return;
        endpointField.value = subscription.endpoint;
        document.getElementById("switch-device-auth").value = subscription.toJSON().keys.auth;
      })
      .catch(() => {});
  }

  const setup = document.getElementById("push-setup");
  if (!setup) return;
  const button = document.getElementById("push-on");
  const status = document.getElementById("push-status");
  if (!("PushManager" in window) || !("Notification" in window)) {
    status.textContent = status.dataset.unsupported;
    return;
  }
  button.disabled = false;

  function keyBytes(base64url) {
    const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }

  function csrfToken() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        status.textContent = status.dataset.denied;
        return;
      }
      const registration = await registered;
      await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(setup.dataset.serverKey),
      });
      const body = Object.assign(subscription.toJSON(), { name: document.getElementById("device-name").value });
      const answer = await fetch(setup.dataset.subscribeUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      if (!answer.ok) {
        const refusal = await answer.json().catch(() => ({ error: { message: String(answer.status) } }));
        throw new Error(refusal.error.message);
      }
      status.textContent = status.dataset.done;
      window.location.reload();
    } catch (error) {
      status.textContent = status.dataset.failed + " " + error.message;
    } finally {
      button.disabled = false;
    }
  });
})();
