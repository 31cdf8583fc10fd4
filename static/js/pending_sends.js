// Messages on their way: shown as pending until the server has them. Each gets a cid reused by every
// retry, so a retry after a lost answer never doubles it; 429 waits for Retry-After and resends itself.
import { api, apiError } from "chat/api";
import { $, el, failureButtons, newCid, seconds } from "chat/dom";
import { messageBody } from "chat/message_view";

const SENDING = "Sending…";

export class PendingSends {
  /** delivered(message): the server has it; refused(): 403; gone(): the room was deleted. */
  constructor(path, user, lifetime, { added, delivered, refused, gone }) {
    this.path = path;
    this.user = user;
    this.lifetime = lifetime;
    this.events = { added, delivered, refused, gone };
    this.list = $("pending-list");
    this.list.replaceChildren();
    lifetime.onClose(() => this.list.replaceChildren());
  }

  /** Show an item (a message being sent, an image being uploaded) at the end of the conversation. */
  add(item) {
    this.list.append(item);
    this.events.added();
  }

  /** Send a message; `replyTo` (a message id, or null) is the message it answers. */
  send(text, replyTo = null) {
    const item = el("li", { class: "message mine pending" },
      el("div", { class: "meta" }, el("span", { class: "author" }, "You"), " ",
        el("span", { class: "status", role: "status" }, SENDING)),
      messageBody(text, this.user));
    this.add(item);
    this.post(item, text, newCid(), replyTo);
  }

  /** Post (or re-post: the same cid makes a retry safe) a pending message. */
  async post(item, text, cid, replyTo) {
    const again = () => this.post(item, text, cid, replyTo);
    this.setState(item, SENDING);
    let res;
    try {
      res = await api("POST", `/v1/logs/${this.path}`, replyTo ? { m: text, cid, reply_to: replyTo } : { m: text, cid });
    } catch {
      this.setState(item, "Not sent: cannot reach the server.", again);
      return;
    }
    if (this.lifetime.closed) return;
    if (res.ok) {
      item.remove();
      this.events.delivered(res.data);
    } else if (res.status === 429) {
      this.setState(item, `Not sent yet: you are sending too fast. Trying again in ${seconds(res.retryAfter)}…`, again);
      this.lifetime.later(() => { if (item.isConnected) again(); }, res.retryAfter * 1000);
    } else if (res.status === 403) {
      this.setState(item, "Not sent: you are not a member of this room any more.");
      this.events.refused();
    } else if (res.status === 400 && res.data && res.data.error === "no such room") {
      this.events.gone();
    } else if (res.status >= 500) {
      this.setState(item, "Not sent: the server had a problem.", again);
    } else {
      this.setState(item, `Not sent: ${apiError(res)}`);
    }
  }

  /** Show a pending item's state, with Retry (when `retry` is given) and Discard buttons once it failed. */
  setState(item, text, retry) {
    const failed = text !== SENDING;
    item.classList.toggle("failed", failed);
    item.querySelector(".status").textContent = text;
    if (failed) failureButtons(item, retry);
    else for (const button of item.querySelectorAll(".meta button")) button.remove();
  }
}
