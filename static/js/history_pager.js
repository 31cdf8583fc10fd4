// A room's history over GET /v1/logs: the latest page, or the page around one message (a search result)
// with newer pages as the reader scrolls down; older pages as the reader scrolls up (keeping their
// place), and every message after an id (catching up after a drop or a gap).
import { PAGE_SIZE } from "chat/config";
import { $, show } from "chat/dom";

export class HistoryPager {
  /** fetchPage(query) -> messages, or null when the room is gone; messages(list) puts them in the page. */
  /** reachedEnd(): the newest message is loaded (after starting around one), so live ones may follow. */
  constructor({ fetchPage, messages, scroll, failed, reachedEnd }) {
    this.fetchPage = fetchPage;
    this.messages = messages;
    this.scroll = scroll;
    this.failed = failed;
    this.reachedEnd = reachedEnd;
    this.atStart = false;
    this.atEnd = true; // the newest message is in the page (false only after starting around one)
    this.loading = false;
    this.button = $("older-button");
    this.newerButton = $("newer-button");
    this.onOlder = () => this.loadOlder();
    this.onNewer = () => this.loadNewer();
    this.button.addEventListener("click", this.onOlder);
    this.newerButton.addEventListener("click", this.onNewer);
    show($("history-start"), false);
    show(this.button, false);
    show(this.newerButton, false);
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

  /** The page of messages centred on `id`; false when the room turned out to be gone. */
  async loadAround(id) {
    const logs = await this.fetchPage({ around: id, limit: PAGE_SIZE });
    if (!logs) return false;
    this.atEnd = logs.length < PAGE_SIZE;
    this.scroll.following(this.atEnd);
    for (const message of logs) this.messages.insert(message);
    this.atStart = logs.length < PAGE_SIZE || (logs.length > 0 && logs[0].id === 1);
    this.showEdge();
    return true;
  }

  showEdge() {
    show($("history-start"), this.atStart);
    show(this.button, !this.atStart);
    show(this.newerButton, !this.atEnd);
  }

  /** After starting around a message: the next newer page, until the newest is in. */
  async loadNewer() {
    const newest = this.messages.newest;
    if (this.atEnd || this.loading || !newest) return;
    this.loading = true;
    this.newerButton.textContent = "Loading…";
    try {
      const logs = await this.fetchPage({ after: newest, limit: PAGE_SIZE });
      if (!logs) return;
      for (const message of logs) this.messages.insert(message);
      if (logs.length < PAGE_SIZE) {
        this.atEnd = true;
        this.scroll.following(true);
        this.reachedEnd();
      }
      this.showEdge();
    } catch {
      this.failed("Could not load newer messages.");
    } finally {
      this.loading = false;
      this.newerButton.textContent = "Load newer messages";
    }
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
    if (!this.scroll.noScrollBar()) return;
    if (!this.atStart) this.loadOlder();
    else if (!this.atEnd) this.loadNewer();
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

  close() {
    this.button.removeEventListener("click", this.onOlder);
    this.newerButton.removeEventListener("click", this.onNewer);
  }
}
