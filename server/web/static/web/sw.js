// The service worker (served at /sw.js so that its scope is the whole app): shows the
// notifications Parley's worker pushes while no tab of the user has a socket open,
// and opens the conversation on a click. One notification per conversation: a newer
// push replaces the older one (same tag), with the count of new messages.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

function parse(event) {
  if (!event.data) return null;
  try {
    return event.data.json();
  } catch {
    return { title: "Parley", body: event.data.text() };
  }
}

self.addEventListener("push", (event) => {
  const data = parse(event) || { title: "Parley", body: "New messages" };
  const url = typeof data.url === "string" && data.url.startsWith("/") ? data.url : "/";
  event.waitUntil(
    self.registration.showNotification(data.title || "Parley", {
      body: data.body || "",
      tag: data.tag || "parley",
      renotify: true,
      icon: "/static/web/icon.svg",
      data: { url, conversation: data.conversation, count: data.count },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url || "/", self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin) {
          await client.focus();
          return client.navigate(target);
        }
      }
      return self.clients.openWindow(target);
    })(),
  );
});
