// The page's one live connection: GET /v1/events carries every event of every room the user is in, the
// public room list and the user's own news. After a drop the browser resumes with Last-Event-ID and the
// server replays exactly what was missed; when the stream fails for good, listen again from the last id.
import { $ } from "chat/dom";

// Events of one of the user's rooms (data.roomid says which) and the user's own.
const ROOM_KINDS = ["message", "edit", "delete", "react", "enter", "leave", "removed", "invite", "updated", "typing", "deleted"];
const USER_KINDS = ["room", "unlisted", "gone", "profile", "invitation", "read", "people", "rooms", "invitations", "reset"];

const connection = $("connection");

function setConnection(text, kind) {
  connection.textContent = text;
  connection.className = `connection ${kind}`;
}

export class UserStream {
  /** room(kind, data): an event of one of the user's rooms (data.roomid); news(kind, data): one of the user's own. */
  constructor({ room, news }) {
    this.on = { room, news };
    this.source = null;
    this.lastId = null; // the last event id seen: a manual reconnect resumes there, so no event comes twice
    this.retryDelay = 1000;
    this.timer = null;
  }

  start() {
    this.stop();
    this.lastId = null;
    this.connect();
  }

  connect() {
    setConnection("Connecting…", "connecting");
    const query = this.lastId ? `?after=${encodeURIComponent(this.lastId)}` : "";
    const source = new EventSource(`/v1/events${query}`);
    this.source = source;
    const listen = (kind, handler) => source.addEventListener(kind, (event) => {
      if (source !== this.source) return;
      if (event.lastEventId) this.lastId = event.lastEventId;
      handler(kind, JSON.parse(event.data));
    });
    for (const kind of ROOM_KINDS) listen(kind, this.on.room);
    for (const kind of USER_KINDS) listen(kind, this.on.news);
    source.addEventListener("open", () => {
      if (source !== this.source) return;
      this.retryDelay = 1000;
      setConnection("Live", "live");
    });
    source.addEventListener("error", () => {
      if (source !== this.source) return;
      if (source.readyState !== EventSource.CLOSED) {
        setConnection("Reconnecting…", "connecting");
        return;
      }
      // An error answer (the server restarting, a limit): come back later from the last id seen.
      source.close();
      setConnection("Reconnecting…", "connecting");
      this.timer = setTimeout(() => this.connect(), this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 30000);
    });
  }

  stop() {
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.source = null;
  }
}
