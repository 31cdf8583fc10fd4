// The conversation's messages: each once, in id order, grouped by author, each shown as it is now
// (edited, deleted, reacted to, quoted by its replies); notes of who came and went.
import { $, el, timeElement } from "chat/dom";
import { renderMessage } from "chat/message_view";

const GROUP_MS = 5 * 60 * 1000;
const list = $("message-list");

/** Mark a message as following its predecessor (same author, soon after), which hides its header. */
function restyle(item) {
  if (!item) return;
  const prev = item.previousElementSibling;
  const follows = Boolean(prev) && prev.dataset.u === item.dataset.u && !prev.classList.contains("deleted")
    && new Date(item.dataset.t) - new Date(prev.dataset.t) < GROUP_MS;
  item.classList.toggle("follows", follows);
}

export class MessageList {
  /** inserted(item, message, mine): a message entered the page. owner: the reader owns the room. */
  constructor(user, { inserted, owner = false } = {}) {
    this.user = user;
    this.owner = owner;
    this.inserted = inserted || (() => {});
    this.items = new Map(); // message id -> <li>
    this.states = new Map(); // message id -> the message as it is now
    this.held = new Set(); // ids whose <li> another part is using (an open editor): render when released
    this.oldest = 0;
    this.newest = 0;
    list.replaceChildren();
  }

  has(id) { return this.items.has(id); }

  /** The message with this id as the page has it now (undefined when not loaded). */
  get(id) { return this.states.get(id); }

  item(id) { return this.items.get(id); }

  /** The newest message of the reader's that is not deleted and passes `fits`. */
  lastOwn(fits = () => true) {
    for (let item = list.lastElementChild; item; item = item.previousElementSibling) {
      const message = this.states.get(Number(item.dataset.id));
      if (message && message.u === this.user && !message.deleted && fits(message)) return message;
    }
    return null;
  }

  /** Put a message in id order, exactly once; true when it was new. */
  insert(message) {
    if (this.items.has(message.id)) return false;
    const mine = message.u === this.user;
    const item = el("li", {
      class: `message${mine ? " mine" : ""}`, "data-id": String(message.id), "data-u": message.u, "data-t": message.t,
    });
    this.states.set(message.id, message);
    renderMessage(item, message, this);
    let after = list.lastElementChild;
    while (after && Number(after.dataset.id) > message.id) after = after.previousElementSibling;
    if (after) after.after(item);
    else list.prepend(item);
    restyle(item);
    restyle(item.nextElementSibling);
    this.items.set(message.id, item);
    this.inserted(item, message, mine);
    this.oldest = this.oldest ? Math.min(this.oldest, message.id) : message.id;
    this.newest = Math.max(this.newest, message.id);
    return true;
  }

  /**
   * A message changed (edited or deleted): show it as it is now, and so the quotes of its replies.
   * One the page has not loaded is ignored (it shows as it is when it loads). An older state never
   * overwrites a newer one, so an answer and its event may arrive in either order, or twice.
   */
  update(message) {
    const known = this.states.get(message.id);
    if (!known) return false;
    if (known.deleted || (!message.deleted && (known.edited || "") > (message.edited || ""))) return false;
    this.states.set(message.id, { ...message, reactions: message.deleted ? [] : known.reactions });
    this.redraw(message.id);
    const quoted = message.deleted ? { id: message.id, u: message.u, deleted: true } : { id: message.id, u: message.u, m: message.m };
    for (const [id, other] of this.states) {
      if (other.reply_to && other.reply_to.id === message.id) {
        this.states.set(id, { ...other, reply_to: quoted });
        this.redraw(id);
      }
    }
    return true;
  }

  /** A message's reactions are now these (from a react event or our own toggle's answer). */
  react(id, reactions) {
    const known = this.states.get(id);
    if (!known || known.deleted) return false;
    this.states.set(id, { ...known, reactions });
    this.redraw(id);
    return true;
  }

  /** Keep another part's hands on a message's <li> (an editor): changes wait until release(id). */
  hold(id) { this.held.add(id); }

  release(id) {
    this.held.delete(id);
    this.redraw(id);
  }

  redraw(id) {
    const item = this.items.get(id);
    if (!item || this.held.has(id)) return;
    renderMessage(item, this.states.get(id), this);
    restyle(item.nextElementSibling);
  }

  /** A line saying someone joined or left, after the newest message. */
  note(text, t) {
    list.append(el("li", { class: "note", "data-id": String(this.newest + 0.5) }, text, " · ", timeElement(t)));
  }

  clear() { list.replaceChildren(); }
}
