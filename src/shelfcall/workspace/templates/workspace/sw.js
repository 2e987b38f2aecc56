{% load i18n %}/* Shelfcall workspace service worker: keeps the shell for an offline notice, shows push alerts. */
"use strict";
const CACHE = "shelfcall-shell-v1";
const SHELL = {{ shell|safe }};
const OFFLINE = {{ offline|safe }};
const ICON = {{ icon|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    // Pages are always fresh from the server; only when it cannot be reached, the offline notice.
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
    return;
  }
  const url = new URL(request.url);
  if (url.origin === self.location.origin && SHELL.includes(url.pathname)) {
    event.respondWith(fetch(request).catch(() => caches.match(request)));
  }
});

self.addEventListener("push", (event) => {
  let alert = {};
  try {
    alert = event.data ? event.data.json() : {};
  } catch (error) {
    alert = { title: event.data.text() };
  }
  const title = alert.title || "Shelfcall";
  event.waitUntil(self.registration.showNotification(title, {
    body: alert.body || "",
    tag: alert.tag || undefined,
    renotify: Boolean(alert.tag),
    icon: ICON,
    data: { url: alert.url || self.registration.scope },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data && event.notification.data.url || self.registration.scope, self.location.origin);
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of open) {
      if (client.url === target.href && "focus" in client) return client.focus();
    }
    for (const client of open) {
      if (new URL(client.url).origin === target.origin && "navigate" in client) {
        await client.focus();
        return client.navigate(target.href);
      }
    }
    return self.clients.openWindow(target.href);
  })());
});
