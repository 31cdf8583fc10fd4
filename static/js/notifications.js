// Notifications: the "Notifications" control (permission is asked only when it is pressed), the Web Push
// subscription through the service worker (/sw.js) for when no page is open, and, while this page is open
// but hidden, browser notifications of news in rooms per their level (one per room at a time, by `tag`).
import { api } from "chat/api";
import { $ } from "chat/dom";

const POLL_MS = 15000; // while hidden: how often the room listing is read for news
const TEXT_MAX = 120;

const supported = () => "Notification" in window;
const pushable = () => "serviceWorker" in navigator && "PushManager" in window;

/** base64url → the bytes PushManager.subscribe takes as applicationServerKey. */
function keyBytes(text) {
  const plain = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(plain, (c) => c.charCodeAt(0));
}

/** Subscribe this browser to Web Push and give the subscription to the server; false when it cannot. */
async function subscribePush() {
  if (!pushable()) return false;
  const registration = await navigator.serviceWorker.register("/sw.js");
  await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (!subscription) {
    const key = await api("GET", "/v1/push/key");
    if (!key.ok) return false;
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(key.data.publicKey),
    });
  }
  const res = await api("POST", "/v1/push/subscriptions", subscription.toJSON());
  return res.ok;
}

/** Forget this browser's subscription, here and on the server. */
async function unsubscribePush() {
  if (!pushable()) return;
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = registration && (await registration.pushManager.getSubscription());
  if (!subscription) return;
  await api("DELETE", "/v1/push/subscriptions", { endpoint: subscription.endpoint });
  await subscription.unsubscribe();
}

/** Whether a room's listing entry shows news that its level wants told, compared with the last one seen. */
export function newsWorthTelling(before, now) {
  if (!before || now.notify === "nothing") return false;
  if (now.notify === "all") return now.unread > before.unread;
  return now.mentions > before.mentions;
}

function cut(text) {
  return text.length > TEXT_MAX ? `${text.slice(0, TEXT_MAX - 1)}…` : text;
}

/** Watches the room listing while the page is hidden and tells of news by browser notifications. */
class HiddenWatcher {
  constructor({ user, open }) {
    this.events = { user, open };
    this.seen = null; // roomid -> {unread, mentions, notify}, from the listing when the page was hidden
    this.timer = null;
    document.addEventListener("visibilitychange", () => this.changed());
  }

  changed() {
    clearInterval(this.timer);
    this.timer = null;
    this.seen = null;
    const wanted = Notification.permission === "granted" && localStorage.getItem("chat-notify") === "on";
    if (document.visibilityState !== "hidden" || !wanted) return;
    this.look();
    this.timer = setInterval(() => this.look(), POLL_MS);
  }

  async look() {
    const user = this.events.user();
    if (!user) return;
    const res = await api("GET", `/v1/room/${encodeURIComponent(user)}`).catch(() => null);
    if (!res || !res.ok || document.visibilityState !== "hidden") return;
    const before = this.seen;
    this.seen = new Map(res.data.join_rooms.map((room) => [room.roomid, room]));
    if (!before) return; // the first look is the baseline: only news from now on is told
    for (const room of this.seen.values()) {
      if (newsWorthTelling(before.get(room.roomid), room)) this.tell(room);
    }
  }

  async tell(room) {
    const res = await api("GET", `/v1/logs/${encodeURIComponent(room.roomid)}?limit=1`).catch(() => null);
    const last = res && res.ok ? res.data.logs[res.data.logs.length - 1] : null;
    if (!last || last.deleted) return;
    const who = await api("GET", `/v1/users/${encodeURIComponent(last.u)}`).catch(() => null);
    const sender = who && who.ok ? who.data.name : last.u;
    const shown = new Notification(room.name, { body: `${sender}: ${cut(last.m)}`, tag: `room-${room.roomid}` });
    shown.addEventListener("click", () => {
      window.focus();
      this.events.open(room.roomid);
      shown.close();
    });
  }
}

/** The control's label and state: what pressing it does next. */
function describe(button, on) {
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "Notifications on" : "Notifications";
  button.title = Notification.permission === "denied"
    ? "Notifications are blocked in this browser's site settings"
    : on ? "Stop notifications in this browser" : "Notify me of mentions and direct messages";
}

/** user(): the signed-in user or null; open(roomid): show that room (a notification was clicked). */
export function startNotifications({ user, open }) {
  const button = $("notify-button");
  if (!supported()) return;
  button.hidden = false;
  new HiddenWatcher({ user, open });
  if (pushable()) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "open-room" && typeof event.data.roomid === "string") open(event.data.roomid);
    });
  }
  let on = Notification.permission === "granted" && localStorage.getItem("chat-notify") === "on";
  describe(button, on);
  button.addEventListener("click", async () => {
    if (on) {
      on = false;
      localStorage.setItem("chat-notify", "off");
      await unsubscribePush().catch(() => undefined);
    } else {
      const permission = await Notification.requestPermission(); // asked here, on the user's press, never at load
      on = permission === "granted";
      if (on) {
        localStorage.setItem("chat-notify", "on");
        await subscribePush().catch(() => false);
      }
    }
    describe(button, on);
  });
}
