// A room's live events over EventSource. After a drop the browser resumes with Last-Event-ID and the
// server replays the gap; when the stream fails for good, catch up over HTTP and listen again, with backoff.
import { $ } from "chat/dom";

const connection = $("connection");

function setConnection(text, kind) {
  connection.textContent = text;
  connection.className = `connection ${kind}`;
}

export class LiveStream {
  /** on: {message, edit, delete, react, enter, leave, deleted, typing, invite, updated, removed}; newest() -> the id to resume after (null: now); catchUp() -> false if gone. */
  constructor(path, lifetime, { on, newest, catchUp }) {
    this.path = path;
    this.lifetime = lifetime;
    this.on = on;
    this.newest = newest;
    this.catchUp = catchUp;
    this.source = null;
    this.lastId = null; // the last event id seen: a manual reconnect resumes there, so no event comes twice
    this.retryDelay = 1000;
    setConnection("Connecting…", "connecting");
    lifetime.onClose(() => this.stop());
  }

  backoff() {
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, 30000);
    return delay;
  }

  connect() {
    const after = this.lastId || this.newest(); // null: from the present on
    const query = after === null ? "" : `?after=${encodeURIComponent(after)}`;
    const source = new EventSource(`/v1/events/${this.path}${query}`);
    this.source = source;
    const data = (handler) => (event) => {
      if (event.lastEventId) this.lastId = event.lastEventId;
      handler(JSON.parse(event.data));
    };
    source.addEventListener("open", () => {
      this.retryDelay = 1000;
      setConnection("Live", "live");
    });
    source.addEventListener("message", data(this.on.message));
    source.addEventListener("enter", data(this.on.enter));
    source.addEventListener("leave", data(this.on.leave));
    for (const name of ["edit", "delete", "react"]) source.addEventListener(name, data(this.on[name]));
    source.addEventListener("deleted", () => this.on.deleted());
    // The room's people: typing (live only), invitations, renames and other changes, removals.
    for (const kind of ["typing", "invite", "updated", "removed"]) source.addEventListener(kind, data(this.on[kind]));
    source.addEventListener("error", () => {
      if (this.lifetime.closed || source !== this.source) return;
      if (source.readyState === EventSource.CLOSED) this.recover();
      else setConnection("Reconnecting…", "connecting");
    });
  }

  /** The stream failed with an error answer: catch up over HTTP, which also says why, then listen again. */
  async recover() {
    this.stop();
    setConnection("Reconnecting…", "connecting");
    try {
      if (!(await this.catchUp())) return;
    } catch {
      this.lifetime.later(() => this.recover(), this.backoff());
      return;
    }
    this.lifetime.later(() => this.connect(), this.backoff());
  }

  stop() {
    if (this.source) this.source.close();
    this.source = null;
  }
}
