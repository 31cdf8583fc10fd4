// The reader's place in a room: a "New messages" divider at the marker when the room opens, and the
// marker moving forward (POST /v1/rooms/:roomid/read) as messages are actually seen — the page visible
// and the message scrolled into view.
import { api } from "chat/api";
import { $, el } from "chat/dom";

const SEND_MS = 700; // seen messages are reported together, at most this often

export class ReadMarker {
  /** read: the marker when the room opened (the page's stream tells the room list when it moves). */
  constructor(path, read, lifetime) {
    this.path = path;
    this.sent = read;
    this.seen = read;
    this.opened = read;
    this.lifetime = lifetime;
    this.timer = null;
    this.watched = new Map(); // element -> message id, until seen
    this.observer = new IntersectionObserver((entries) => this.saw(entries), { root: $("messages"), threshold: 0.5 });
    this.onVisible = () => { if (document.visibilityState === "visible") this.recheck(); };
    document.addEventListener("visibilitychange", this.onVisible);
    lifetime.onClose(() => this.close());
  }

  /** A message entered the page: watch it until it is seen (one's own are seen by sending them). */
  watch(item, message, mine) {
    if (mine) this.seen = Math.max(this.seen, message.id); // the server moved the marker on posting
    if (message.id <= this.seen) return;
    this.watched.set(item, message.id);
    this.observer.observe(item);
  }

  /** Put the divider before the first message after the marker the room opened with, if any. */
  divide(list) {
    const first = [...list.querySelectorAll(".message[data-id]")].find((item) => Number(item.dataset.id) > this.opened
      && !item.classList.contains("mine"));
    if (!first || first.previousElementSibling?.classList.contains("new-divider")) return;
    first.before(el("li", { class: "new-divider", role: "separator", "data-id": String(this.opened + 0.5) },
      el("span", {}, "New messages")));
  }

  saw(entries) {
    this.visible = this.visible || new Set();
    for (const entry of entries) {
      if (entry.isIntersecting) this.visible.add(entry.target);
      else this.visible.delete(entry.target);
    }
    this.recheck();
  }

  recheck() {
    if (document.visibilityState !== "visible" || !this.visible) return;
    for (const item of this.visible) {
      const id = this.watched.get(item);
      if (id === undefined) continue;
      this.seen = Math.max(this.seen, id);
      this.watched.delete(item);
      this.observer.unobserve(item);
      this.visible.delete(item);
    }
    if (this.seen > this.sent && !this.timer) this.timer = setTimeout(() => this.send(), SEND_MS);
  }

  async send() {
    this.timer = null;
    if (this.lifetime.closed || this.seen <= this.sent) return;
    const id = this.seen;
    try {
      const res = await api("POST", `/v1/rooms/${this.path}/read`, { id });
      if (res.ok) this.sent = Math.max(this.sent, res.data.read);
    } catch {
      // Offline: the next message seen tries again.
    }
  }

  close() {
    clearTimeout(this.timer);
    this.observer.disconnect();
    document.removeEventListener("visibilitychange", this.onVisible);
  }
}
