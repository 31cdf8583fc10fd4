// Editing one's message in place: the body becomes a text box; Enter saves, Shift+Enter is a new line,
// Escape (or Cancel) puts the message back as it was.
import { MESSAGE_MAX } from "chat/config";
import { el } from "chat/dom";

export class MessageEditor {
  /** save(id, text) -> {ok, text}; done(id): the editor closed (the message may be redrawn). */
  constructor({ save, done }) {
    this.save = save;
    this.done = done;
    this.current = null; // {id, item, box}
  }

  get editing() { return this.current ? this.current.id : null; }

  /** Open the editor on a message's <li> with its text. */
  open(item, message) {
    this.cancel();
    const row = item.querySelector(".bubble-row");
    if (!row) return;
    const box = el("textarea", { class: "edit-box", rows: 2, maxLength: MESSAGE_MAX, value: message.m, "aria-label": "Edit the message" });
    const problem = el("p", { class: "error edit-error", role: "alert" });
    const form = el("div", { class: "editor" }, box,
      el("div", { class: "edit-hint" },
        el("span", {}, "Enter saves · Esc cancels"),
        el("button", { type: "button", class: "link", onclick: () => this.cancel() }, "Cancel"),
        el("button", { type: "button", class: "link", onclick: () => this.submit() }, "Save")),
      problem);
    row.replaceWith(form);
    item.classList.add("editing");
    this.current = { id: message.id, item, box, problem, original: message.m };
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.cancel();
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    const fit = () => { box.style.height = "auto"; box.style.height = `${Math.min(box.scrollHeight, 240)}px`; };
    box.addEventListener("input", fit);
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    fit();
  }

  async submit() {
    const current = this.current;
    if (!current) return;
    const text = current.box.value.trim();
    if (!text) {
      current.problem.textContent = "A message cannot be empty: delete it instead.";
      return;
    }
    if (text === current.original.trim()) {
      this.cancel();
      return;
    }
    current.box.disabled = true;
    const answer = await this.save(current.id, text);
    if (this.current !== current) return;
    if (answer.ok) {
      this.close();
    } else {
      current.box.disabled = false;
      current.problem.textContent = `Not saved: ${answer.text}`;
      current.box.focus();
    }
  }

  /** Close without saving. */
  cancel() { if (this.current) this.close(); }

  close() {
    const { id, item } = this.current;
    this.current = null;
    item.classList.remove("editing");
    this.done(id);
  }
}
