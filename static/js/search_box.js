// The search box: results as you type (debounced) with highlighted snippets, room, author and time;
// arrow keys and Enter (or a click) open a result; "/" focuses the box from anywhere but a text field;
// Escape closes the results (a second Escape leaves the box).
import { OFFLINE, api, apiError } from "chat/api";
import { $, el, show, timeElement } from "chat/dom";
import { avatarElement, nameElement } from "chat/people";
import { snippet } from "chat/snippet";

const DEBOUNCE_MS = 180;
const PAGE = 20;

/** Where "/" must stay a character: fields one types in. */
function typingIn(node) {
  return Boolean(node) && (node.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(node.tagName));
}

export class SearchBox {
  /** open(result): open the result's room at its message; roomName(roomid): the name the page shows for a room. */
  constructor({ open, roomName }) {
    this.events = { open, roomName };
    this.form = $("search-form");
    this.input = $("search-input");
    this.panel = $("search-panel");
    this.list = $("search-results");
    this.status = $("search-status");
    this.more = $("search-more");
    this.timer = null;
    this.asked = 0; // numbers the requests: only the newest one's answer is shown
    this.query = "";
    this.next = null;
    this.results = [];
    this.active = -1;
    this.form.addEventListener("submit", (event) => event.preventDefault());
    this.input.addEventListener("input", () => this.schedule());
    this.input.addEventListener("keydown", (event) => this.key(event));
    this.input.addEventListener("focus", () => { if (this.input.value.trim()) this.setOpen(true); });
    this.more.addEventListener("click", () => this.search(this.query, this.next));
    document.addEventListener("keydown", (event) => {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || this.form.hidden) return;
      if (typingIn(event.target) || document.querySelector("dialog[open]")) return;
      event.preventDefault();
      this.input.focus();
      this.input.select();
    });
    document.addEventListener("pointerdown", (event) => { if (!this.form.contains(event.target)) this.setOpen(false); });
  }

  start() { show(this.form, true); }

  stop() {
    this.clear();
    this.input.value = "";
    show(this.form, false);
  }

  setOpen(open) {
    show(this.panel, open);
    this.input.setAttribute("aria-expanded", String(open));
  }

  clear() {
    clearTimeout(this.timer);
    this.asked++;
    this.query = "";
    this.next = null;
    this.results = [];
    this.list.replaceChildren();
    this.setActive(-1);
    show(this.more, false);
    this.setOpen(false);
  }

  /** The text changed: search once the typing pauses. */
  schedule() {
    clearTimeout(this.timer);
    const q = this.input.value;
    if (!q.trim()) {
      this.clear();
      return;
    }
    this.timer = setTimeout(() => this.search(q, null), DEBOUNCE_MS);
  }

  /** One page of results for `q` (older than `before` when given); a newer request makes this one's answer moot. */
  async search(q, before) {
    const asked = ++this.asked;
    const params = new URLSearchParams({ q, limit: String(PAGE) });
    if (before) params.set("before", before);
    this.status.textContent = "Searching…";
    this.setOpen(true);
    let res;
    try {
      res = await api("GET", `/v1/search?${params}`);
    } catch {
      if (asked === this.asked) this.status.textContent = OFFLINE;
      return;
    }
    if (asked !== this.asked) return;
    if (!res.ok) {
      // The server says in words what is wrong with a query (too long, no searchable words...).
      this.status.textContent = res.status === 400 ? `Cannot search that: ${apiError(res)}.` : apiError(res);
      if (!before) this.show([], null, q);
      return;
    }
    const results = before ? this.results.concat(res.data.results) : res.data.results;
    this.show(results, res.data.next, q);
  }

  show(results, next, q) {
    const keep = this.query === q ? this.active : -1;
    this.query = q;
    this.next = next;
    this.results = results;
    this.list.replaceChildren(...results.map((result, n) => this.item(result, n)));
    this.status.textContent = results.length ? "" : `Nothing found for “${q.trim()}” in your rooms.`;
    show(this.more, Boolean(next));
    this.setActive(Math.min(keep, results.length - 1));
  }

  item(result, n) {
    const { message } = result;
    const text = el("p", { class: "search-snippet" });
    for (const piece of snippet(message.m, result.highlights)) {
      text.append(piece.mark ? el("mark", {}, piece.text) : piece.text);
    }
    return el("li", {
      id: `search-result-${n}`,
      class: "search-result",
      role: "option",
      "aria-selected": "false",
      onclick: () => this.pick(n),
      onpointermove: () => { if (this.active !== n) this.setActive(n); },
    },
    avatarElement(message.u, "small"),
    el("div", { class: "search-body" },
      el("p", { class: "search-meta" },
        el("span", { class: "search-room" }, this.events.roomName(result.roomid) || result.room_name),
        " · ", nameElement(message.u, { class: "search-author" }), " · ", timeElement(message.t)),
      text));
  }

  setActive(n) {
    const items = this.list.children;
    if (this.active >= 0 && items[this.active]) items[this.active].setAttribute("aria-selected", "false");
    this.active = n;
    if (n >= 0 && items[n]) {
      items[n].setAttribute("aria-selected", "true");
      items[n].scrollIntoView({ block: "nearest" });
      this.input.setAttribute("aria-activedescendant", items[n].id);
    } else this.input.removeAttribute("aria-activedescendant");
  }

  key(event) {
    const count = this.results.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!count) return;
      event.preventDefault();
      this.setOpen(true);
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.setActive(this.active < 0 ? (step > 0 ? 0 : count - 1) : (this.active + step + count) % count);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (count && !this.panel.hidden) this.pick(Math.max(0, this.active));
      else if (this.input.value.trim()) this.search(this.input.value, null);
    } else if (event.key === "Escape") {
      event.preventDefault();
      if (!this.panel.hidden) this.setOpen(false);
      else this.input.blur();
    }
  }

  /** Open a result: the room at that message; the results stay for coming back to with the box. */
  pick(n) {
    const result = this.results[n];
    if (!result) return;
    this.setActive(n);
    this.setOpen(false);
    this.input.blur();
    this.events.open(result);
  }
}
