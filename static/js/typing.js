// Typing: tell the open room while the user types (POST /v1/rooms/:roomid/typing, at most every 3 s),
// and say who else is typing from the stream's `typing` events, each shown for 5 s after the last one.
import { api } from "chat/api";
import { $ } from "chat/dom";

const SEND_EVERY_MS = 3000;
const SHOW_FOR_MS = 5000;
const line = $("typing");

/** roomid() -> the open room's id (or null). Listens to the message box. */
export function startTypingNotices({ roomid }) {
  let last = 0;
  let lastRoom = null;
  $("message-input").addEventListener("input", (event) => {
    const room = roomid();
    if (!room || !event.target.value.trim()) return;
    const now = Date.now();
    if (room === lastRoom && now - last < SEND_EVERY_MS) return;
    last = now;
    lastRoom = room;
    api("POST", `/v1/rooms/${encodeURIComponent(room)}/typing`).catch(() => {});
  });
}

/** Who is typing in one open room; gone with the room's lifetime. */
export class TypingIndicator {
  constructor(user, lifetime) {
    this.user = user;
    this.typing = new Map(); // userid -> {name, timer}
    line.textContent = "";
    lifetime.onClose(() => {
      for (const { timer } of this.typing.values()) clearTimeout(timer);
      this.typing.clear();
      line.textContent = "";
    });
  }

  /** A `typing` event {u, name}. */
  seen({ u, name }) {
    if (u === this.user || typeof u !== "string") return;
    const before = this.typing.get(u);
    if (before) clearTimeout(before.timer);
    const timer = setTimeout(() => this.stopped(u), SHOW_FOR_MS);
    this.typing.set(u, { name: String(name || u), timer });
    this.render();
  }

  /** Their message arrived: they are done typing. */
  stopped(u) {
    const before = this.typing.get(u);
    if (!before) return;
    clearTimeout(before.timer);
    this.typing.delete(u);
    this.render();
  }

  render() {
    const names = Array.from(this.typing.values(), (entry) => entry.name);
    if (names.length === 0) line.textContent = "";
    else if (names.length === 1) line.textContent = `${names[0]} is typing…`;
    else if (names.length === 2) line.textContent = `${names[0]} and ${names[1]} are typing…`;
    else line.textContent = "Several people are typing…";
  }
}
