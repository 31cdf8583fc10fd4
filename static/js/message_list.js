// The conversation's messages: each once, in id order, grouped by author; notes of who came and went.
import { isImageUrl } from "chat/config";
import { $, el, timeElement } from "chat/dom";
import { render } from "chat/formatted";
import { emojiOnly } from "chat/markdown";
import { avatarElement, nameElement } from "chat/people";

const GROUP_MS = 5 * 60 * 1000;
const list = $("message-list");

/**
 * A message's body: this service's image URL as an image; anything else is Markdown, rendered by parsing
 * into DOM nodes (never HTML). A message of nothing but a few emoji shows large.
 */
export function messageBody(text, author) {
  if (isImageUrl(text)) {
    const img = el("img", { src: text, alt: `Image from ${author}`, loading: "lazy", decoding: "async" });
    return el("a", { href: text, target: "_blank", rel: "noopener", class: "body image" }, img);
  }
  const body = el("div", { class: emojiOnly(text) ? "body formatted jumbo" : "body formatted" });
  body.append(render(text));
  return body;
}

/** Mark a message as following its predecessor (same author, soon after), which hides its header. */
function restyle(item) {
  if (!item) return;
  const prev = item.previousElementSibling;
  const follows = Boolean(prev) && prev.dataset.u === item.dataset.u
    && new Date(item.dataset.t) - new Date(prev.dataset.t) < GROUP_MS;
  item.classList.toggle("follows", follows);
}

export class MessageList {
  /** inserted(item, message, mine): a message entered the page. */
  constructor(user, { inserted } = {}) {
    this.user = user;
    this.inserted = inserted || (() => {});
    this.items = new Map(); // message id -> <li>
    this.oldest = 0;
    this.newest = 0;
    list.replaceChildren();
  }

  has(id) { return this.items.has(id); }

  /** Put a message in id order, exactly once; true when it was new. */
  insert(message) {
    if (this.items.has(message.id)) return false;
    const mine = message.u === this.user;
    const item = el("li", {
      class: `message${mine ? " mine" : ""}`, "data-id": String(message.id), "data-u": message.u, "data-t": message.t,
    },
    el("div", { class: "meta" }, mine ? el("span", { class: "author" }, "You") : avatarElement(message.u, "tiny"),
      mine ? null : nameElement(message.u, { class: "author" }), " ", timeElement(message.t)),
    messageBody(message.m, message.u));
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

  /** A line saying someone joined or left, after the newest message. */
  note(text, t) {
    list.append(el("li", { class: "note", "data-id": String(this.newest + 0.5) }, text, " · ", timeElement(t)));
  }

  clear() { list.replaceChildren(); }
}
