// Changing a message over the API: edit, delete, react. Each answers {ok, data} or {ok: false, text}
// (the words for a person), and never throws.
import { OFFLINE, api, apiError } from "chat/api";

async function call(method, path, body) {
  try {
    const res = await api(method, path, body);
    return res.ok ? { ok: true, data: res.data } : { ok: false, text: apiError(res) };
  } catch {
    return { ok: false, text: OFFLINE };
  }
}

export class MessageChanges {
  /** path: the room id, already percent-encoded. */
  constructor(path) { this.path = path; }

  url(id) { return `/v1/logs/${this.path}/${id}`; }

  /** PATCH the text: answers the message as it is now. */
  edit(id, text) { return call("PATCH", this.url(id), { m: text }); }

  /** DELETE: answers the tombstone. */
  remove(id) { return call("DELETE", this.url(id)); }

  /** Add (PUT) or take back (DELETE) one's reaction: answers {id, reactions}. */
  react(id, emoji, add) {
    return call(add ? "PUT" : "DELETE", `${this.url(id)}/reactions/${encodeURIComponent(emoji)}`);
  }
}
