// The service worker: shows a Web Push notification (title: the room, body: "sender: text") and, on a
// click, focuses a page of this site on that room or opens one.
self.addEventListener("push", (event) => {
  let data;
  try { data = event.data ? event.data.json() : {}; } catch { data = {}; }
  const title = typeof data.room === "string" ? data.room : "chat";
  const sender = typeof data.sender === "string" ? data.sender : "";
  const text = typeof data.text === "string" ? data.text : "New message";
  const url = typeof data.roomid === "string" ? `/#room=${encodeURIComponent(data.roomid)}` : "/";
  event.waitUntil(self.registration.showNotification(title, {
    body: sender ? `${sender}: ${text}` : text,
    tag: `room-${data.roomid || ""}`, // one notification per room at a time: a newer one replaces it
    renotify: true,
    data: { url, roomid: data.roomid },
    icon: "/favicon.ico",
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const page = pages.find((client) => new URL(client.url).origin === url.origin);
    if (page) {
      page.postMessage({ type: "open-room", roomid: event.notification.data.roomid }); // notifications.js opens it
      await page.focus();
      return;
    }
    await self.clients.openWindow(url.href);
  })());
});
