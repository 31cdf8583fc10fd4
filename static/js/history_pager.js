// A room's history over GET /v1/logs: the latest page, older pages as the reader scrolls up
// (keeping their place), and every message after an id (catching up after a drop or a gap).
import { PAGE_SIZE } from "chat/config";
import { $, show } from "chat/dom";

export class HistoryPager {
  /** fetchPage(query) -> messages, or null when the room is gone; messages(list) puts them in the page. */
  constructor({ fetchPage, messages, scroll, failed }) {
    this.fetchPage = fetchPage;
    this.messages = messages;
    this.scroll = scroll;
    this.failed = failed;
    this.atStart = false;
    this.loading = false;
    this.button = $("older-button");
    this.onOlder = () => this.loadOlder();
    this.button.addEventListener("click", this.onOlder);
    show($("history-start"), false);
    show(this.button, false);
  }

  /** The latest page; false when the room turned out to be gone. Throws when the network or server fails. */
  async loadLatest() {
    const logs = await this.fetchPage({ limit: PAGE_SIZE });
    if (!logs) return false;
    for (const message of logs) this.messages.insert(message);
    this.atStart = logs.length < PAGE_SIZE || (logs.length > 0 && logs[0].id === 1);
    this.showEdge();
    this.scroll.toBottom();
    this.fillScreen();
    return true;
  }

  showEdge() {
    show($("history-start"), this.atStart);
    show(this.button, !this.atStart);
  }

  async loadOlder() {
    const oldest = this.messages.oldest;
    if (this.atStart || this.loading || !oldest) return;
    this.loading = true;
    this.button.textContent = "Loading…";
    try {
      const logs = await this.fetchPage({ before: oldest, limit: PAGE_SIZE });
      if (!logs) return;
      this.scroll.keepingPlace(() => { for (const message of logs.reverse()) this.messages.insert(message); });
      this.atStart = logs.length < PAGE_SIZE || this.messages.oldest === 1;
      this.showEdge();
    } catch {
      this.failed("Could not load older messages.");
    } finally {
      this.loading = false;
      this.button.textContent = "Load older messages";
    }
    this.fillScreen();
  }

  /** Without a scroll bar there is nothing to scroll up with: load older pages until there is one. */
  fillScreen() {
    if (!this.atStart && this.scroll.noScrollBar()) this.loadOlder();
  }

  /** Every message after `after` (and before `until`), each handed to `receive`; false when the room is gone. */
  async catchUp(after, receive, until = Infinity) {
    for (;;) {
      const limit = Math.min(1000, until - after - 1);
      if (limit < 1) return true;
      const logs = await this.fetchPage({ after, limit });
      if (!logs) return false;
      for (const message of logs) receive(message);
      if (logs.length < limit) return true;
      after = logs[logs.length - 1].id;
    }
  }

  close() { this.button.removeEventListener("click", this.onOlder); }
}
