// One message's look, as it is now: the header, a quote of the message it answers, its body (or the
// tombstone of a deleted one), the "edited" marker, its reaction chips and the actions toolbar.
import { isImageUrl } from "chat/config";
import { el, timeElement, timeLabel } from "chat/dom";
import { render } from "chat/formatted";
import { emojiOnly } from "chat/markdown";
import { avatarElement, displayName, nameElement, remember } from "chat/people";

const QUOTE_CHARS = 120;
const CHIP_NAMES = 3;

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
  body.append(render(text, { name: displayName }));  // mentions show the current name
  return body;
}

/** Who someone is, as the page says it: "You" for oneself. */
export function who(userid, user) { return userid === user ? "You" : displayName(userid); }

/** A short plain-text preview of a message's text (images as "an image"). */
export function preview(text) {
  if (isImageUrl(text)) return "an image";
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > QUOTE_CHARS ? `${flat.slice(0, QUOTE_CHARS - 1)}…` : flat;
}

/** The quote of the message one answers, a button that goes to it. */
function replyQuote(reply, user) {
  const text = reply.deleted ? "message deleted" : preview(reply.m || "");
  return el("button", {
    type: "button", class: `reply-quote${reply.deleted ? " gone" : ""}`, "data-reply-to": String(reply.id),
    title: "Show the message this answers",
  }, el("span", { class: "reply-author" }, who(reply.u, user)), " ", el("span", { class: "reply-text" }, text));
}

/** A reaction chip: the emoji and its count; pressed when it is one's own; its title names the first people. */
function chip(reaction, user) {
  const mine = reaction.users.includes(user);
  const names = reaction.users.slice(0, CHIP_NAMES).map((u) => who(u, user));
  const others = reaction.count - names.length;
  const title = `${names.join(", ")}${others > 0 ? ` and ${others} more` : ""} reacted with ${reaction.emoji}`;
  return el("button", {
    type: "button", class: "chip", "data-emoji": reaction.emoji, "aria-pressed": String(mine), title,
    "aria-label": `${reaction.emoji} ${reaction.count}: ${title}${mine ? " (click to take yours back)" : ""}`,
  }, el("span", { class: "chip-emoji" }, reaction.emoji), el("span", { class: "chip-count" }, String(reaction.count)));
}

function action(name, label, glyph) {
  return el("button", { type: "button", class: "act-button", "data-action": name, "aria-label": label, title: label }, glyph);
}

/** The actions one may take on a message: reply and react for anyone; edit for its author; delete for its author or the owner. */
function toolbar(message, { mine, owner }) {
  const image = isImageUrl(message.m);
  return el("div", { class: "actions-bar", role: "toolbar", "aria-label": "Message actions" },
    action("react", "Add a reaction", "☺"),
    action("reply", "Reply", "↩"),
    mine && !image ? action("edit", "Edit", "✎") : null,
    mine || owner ? action("delete", "Delete", "🗑") : null);
}

/** Fill a message's <li> with what it shows now. ctx: {user, owner (is the reader the room's owner)}. */
export function renderMessage(item, message, { user, owner }) {
  const mine = message.u === user;
  item.classList.toggle("deleted", Boolean(message.deleted));
  // A webhook's or a deleted account's message names its author itself: no profile to look up.
  if (message.name) remember({ userid: message.u, name: message.name });
  const meta = el("div", { class: "meta" },
    mine ? el("span", { class: "author" }, "You") : avatarElement(message.u, "tiny"),
    mine ? null : nameElement(message.u, { class: "author" }),
    message.bot ? el("span", { class: "bot-badge", title: "Posted by a webhook" }, "bot") : null,
    " ", timeElement(message.t));
  if (message.deleted) {
    item.replaceChildren(meta, el("div", { class: "tombstone" }, "message deleted"));
    return;
  }
  const body = messageBody(message.m, message.u);
  const edited = message.edited
    ? el("span", { class: "edited", title: `Edited ${timeLabel(message.edited)}` }, "(edited)")
    : null;
  const reactions = (message.reactions || []).filter((r) => r.count > 0);
  if (edited) (body.lastElementChild?.tagName === "P" ? body.lastElementChild : body).append(" ", edited);
  item.replaceChildren(...[
    meta,
    message.reply_to ? replyQuote(message.reply_to, user) : null,
    el("div", { class: "bubble-row" }, body, toolbar(message, { mine, owner })),
    reactions.length ? el("div", { class: "chips" }, ...reactions.map((r) => chip(r, user))) : null,
  ].filter(Boolean));
}
