// Notifications: the "Notifications" control (permission is asked only when it is pressed), the Web Push
// subscription through the service worker (/sw.js) for when no page is open, and, while this page is open
// but hidden, browser notifications of news in rooms per their level (one per room at a time, by `tag`).
import { api } from "chat/api";
import { $ } from "chat/dom";
import { displayName } from "chat/people";
import { mentionsMe } from "chat/mentions";

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

/** Whether a message in a room is news its level wants told: every message, or those that mention the user. */
export function newsWorthTelling(message, room, user) {
  if (!room || message.u === user || room.notify === "nothing") return false;
  return room.notify === "all" || mentionsMe(message.m, user, room.members);
}

function cut(text) {
  return text.length > TEXT_MAX ? `${text.slice(0, TEXT_MAX - 1)}…` : text;
}

/** While the page is hidden: a browser notification for each message worth telling (one per room, by tag). */
function tellHidden(message, room, open) {
  const wanted = Notification.permission === "granted" && localStorage.getItem("chat-notify") === "on";
  if (!wanted || document.visibilityState !== "hidden" || message.deleted) return;
  const shown = new Notification(room.name, {
    body: `${displayName(message.u)}: ${cut(message.m.replace(/<@([^\s<>]+)>/g, (_, u) => `@${displayName(u)}`))}`,
    tag: `room-${room.roomid}`,
  });
  shown.addEventListener("click", () => {
    window.focus();
    open(room.roomid);
    shown.close();
  });
}

/** The control's label and state: what pressing it does next. */
function describe(button, on) {
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "Notifications on" : "Notifications";
  button.title = Notification.permission === "denied"
    ? "Notifications are blocked in this browser's site settings"
    : on ? "Stop notifications in this browser" : "Notify me of mentions and direct messages";
}

/**
 * user(): the signed-in user or null; room(roomid): what the room list knows of one of our rooms;
 * open(roomid): show that room (a notification was clicked). Returns {heard(message)}: a message from the stream.
 */
export function startNotifications({ user, room, open }) {
  const button = $("notify-button");
  const notifier = {
    heard: (message) => {
      if (supported() && newsWorthTelling(message, room(message.roomid), user())) tellHidden(message, room(message.roomid), open);
    },
  };
  if (!supported()) return notifier;
  button.hidden = false;
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
  return notifier;
}
