// What one can do to a message: reply, react, edit, delete from its toolbar (shown on hover or focus on a
// desktop, on a tap or long-press on a phone), toggling a reaction chip, going to the message a reply
// quotes, and Up-arrow in an empty composer to edit one's last message.
import { isImageUrl } from "chat/config";
import { $ } from "chat/dom";
import { confirmDelete } from "chat/delete_dialog";
import { closePicker, openPicker } from "chat/emoji_picker";
import { MessageEditor } from "chat/message_editor";

const list = $("message-list");
const input = $("message-input");
const LONG_PRESS_MS = 450;
const TAP_TO_SHOW = "(hover: none), (max-width: 720px)"; // as chat.css: where the toolbar shows under a selected message

export class MessageActions {
  /**
   * messages: the MessageList; changes: the MessageChanges; reply: the ReplyDraft; goTo(id): show a message
   * (loading history as needed); problem(text): say what went wrong.
   */
  constructor(lifetime, { messages, changes, reply, goTo, problem }) {
    this.messages = messages;
    this.changes = changes;
    this.reply = reply;
    this.goTo = goTo;
    this.problem = problem;
    this.editor = new MessageEditor({
      save: (id, text) => this.saveEdit(id, text),
      done: (id) => { messages.release(id); input.focus(); },
    });
    this.selected = null;
    this.pressTimer = null;
    const listeners = [
      [list, "click", (event) => this.clicked(event)],
      [list, "contextmenu", (event) => this.longPressed(event)],
      [list, "touchstart", (event) => this.touched(event), { passive: true }],
      [list, "touchend", () => clearTimeout(this.pressTimer)],
      [list, "touchmove", () => clearTimeout(this.pressTimer), { passive: true }],
      [input, "keydown", (event) => this.composerKey(event)],
      [document, "pointerdown", (event) => { if (!list.contains(event.target)) this.select(null); }],
    ];
    for (const [target, name, fn, options] of listeners) target.addEventListener(name, fn, options);
    lifetime.onClose(() => {
      for (const [target, name, fn, options] of listeners) target.removeEventListener(name, fn, options);
      this.editor.cancel();
      closePicker();
    });
  }

  /** The message (as the page has it now) and <li> an event happened in, or nulls. */
  target(event) {
    const item = event.target.closest(".message[data-id]");
    if (!item || !list.contains(item)) return { item: null, message: null };
    return { item, message: this.messages.get(Number(item.dataset.id)) };
  }

  clicked(event) {
    const { item, message } = this.target(event);
    if (!message) return;
    const button = event.target.closest("button");
    if (button && button.dataset.action) this.act(button.dataset.action, button, item, message);
    else if (button && button.dataset.emoji) this.toggle(message, button.dataset.emoji, button.getAttribute("aria-pressed") !== "true");
    else if (button && button.dataset.replyTo) this.goTo(Number(button.dataset.replyTo));
    else if (!event.target.closest("a, textarea") && matchMedia(TAP_TO_SHOW).matches) this.select(item === this.selected ? null : item);
  }

  /** A phone's long-press (contextmenu) or a touch held still: show that message's actions. */
  longPressed(event) {
    const { item, message } = this.target(event);
    if (!message || message.deleted || event.target.closest("a, textarea, img")) return;
    event.preventDefault();
    this.select(item);
  }

  touched(event) {
    const { item, message } = this.target(event);
    clearTimeout(this.pressTimer);
    if (message && !message.deleted) this.pressTimer = setTimeout(() => this.select(item), LONG_PRESS_MS);
  }

  /** Show one message's toolbar (null: none). */
  select(item) {
    if (this.selected) this.selected.classList.remove("selected");
    this.selected = item;
    if (item) item.classList.add("selected");
  }

  act(action, button, item, message) {
    // The picker opens beside its button, so it measures the button before a phone's toolbar folds away.
    if (action === "react") openPicker(button, (emoji) => this.toggle(message, emoji, true));
    this.select(null);
    if (action === "reply") this.reply.start(message);
    else if (action === "edit") this.edit(message);
    else if (action === "delete") this.remove(message);
  }

  /** Open the inline editor on one of our messages. */
  edit(message) {
    const item = this.messages.item(message.id);
    if (!item || message.deleted) return;
    if (this.editor.editing !== null) this.editor.cancel();
    this.messages.hold(message.id);
    this.editor.open(item, message);
    item.scrollIntoView({ block: "nearest" });
  }

  async saveEdit(id, text) {
    const answer = await this.changes.edit(id, text);
    if (answer.ok) this.messages.update(answer.data);
    return answer;
  }

  async remove(message) {
    const mine = message.u === this.messages.user;
    if (!(await confirmDelete(message, mine ? null : message.u))) return;
    const answer = await this.changes.remove(message.id);
    if (!answer.ok) {
      this.problem(`Not deleted: ${answer.text}`);
      return;
    }
    if (this.editor.editing === message.id) this.editor.cancel();
    this.messages.update(answer.data);
  }

  async toggle(message, emoji, add) {
    const answer = await this.changes.react(message.id, emoji, add);
    if (answer.ok) this.messages.react(answer.data.id, answer.data.reactions);
    else this.problem(`Reaction not saved: ${answer.text}`);
  }

  /** Up-arrow in an empty composer edits one's last message. */
  composerKey(event) {
    if (event.key !== "ArrowUp" || input.value !== "" || event.shiftKey || event.altKey || event.metaKey || event.ctrlKey) return;
    const last = this.messages.lastOwn((message) => !isImageUrl(message.m)); // an image's URL is not for editing
    if (!last) return;
    event.preventDefault();
    this.edit(last);
  }

  /** A message was deleted by someone (an event): an editor open on it closes. */
  deleted(id) { if (this.editor.editing === id) this.editor.cancel(); }
}
