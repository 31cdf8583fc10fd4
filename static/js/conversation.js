// One open room: its heading, and the parts that make the conversation — the message list, the
// history pager, the room's live events (from the page's one stream), pending sends and uploads. It opens
// at the newest messages, or (a search result) around one message, which it shows lit up.
import { OFFLINE, api, apiError } from "chat/api";
import { $, plural } from "chat/dom";
import { HistoryPager } from "chat/history_pager";
import { Lifetime } from "chat/lifetime";
import { MessageActions } from "chat/message_actions";
import { MessageChanges } from "chat/message_changes";
import { MessageList } from "chat/message_list";
import { PendingSends } from "chat/pending_sends";
import { ReadMarker } from "chat/read_marker";
import { displayName } from "chat/people";
import { ReplyDraft } from "chat/reply_draft";
import { noteText } from "chat/room_notes";
import { ScrollKeeper } from "chat/scroll_keeper";
import { titleRoom } from "chat/title";
import { TypingIndicator } from "chat/typing";
import { Uploader } from "chat/uploader";

const roomError = $("room-error");

export class Conversation {
  /**
   * lost(reason): the room went away under us; changed(): someone came or went (the room list may differ);
   * updated(changes): the room was renamed or changed; latest(): the reader asks for the newest messages while
   * the page holds older ones. `at`: open around this id.
   */
  constructor(room, user, { lost, changed, updated, latest }, at = null) {
    this.roomid = room.roomid;
    this.user = user;
    this.at = at;
    this.events = { lost, changed, updated };
    this.lifetime = new Lifetime();
    this.typing = new TypingIndicator(user, this.lifetime);
    const path = encodeURIComponent(room.roomid);
    this.marker = new ReadMarker(path, room.read || 0, this.lifetime);
    this.messages = new MessageList(user, { inserted: (item, message, mine) => this.marker.watch(item, message, mine) });
    this.scroll = new ScrollKeeper({
      nearTop: () => this.history.loadOlder(),
      nearBottom: () => this.history.loadNewer(),
      latest: () => latest(),
    });
    this.history = new HistoryPager({
      fetchPage: (query) => this.fetchPage(path, query),
      messages: this.messages,
      scroll: this.scroll,
      failed: (text) => { roomError.textContent = text; },
      // Live messages were held back while newer history was missing: fetch any that fell in between.
      reachedEnd: () => this.history.catchUp(this.messages.newest, (message) => this.receive(message)).catch(() => {}),
    });
    this.live = null; // the room's events heard while its history loads, then null once they are shown
    this.on = {
      message: (message) => this.receive(message),
      edit: (message) => this.messages.update(message),
      delete: (tombstone) => { this.actions.deleted(tombstone.id); this.messages.update(tombstone); },
      react: (event) => this.messages.react(event.id, event.reactions),
      enter: (event) => this.note("enter", event),
      leave: (event) => (event.u === this.user ? this.lost(`You left “${this.name}”.`) : this.note("leave", event)),
      deleted: () => this.lost(`“${this.name}” was deleted by its last member.`),
      typing: (event) => this.typing.seen(event),
      invite: (event) => this.note("invite", event),
      updated: (event) => { this.note("updated", event); this.events.updated(event); },
      removed: (event) => (event.u === this.user
        ? this.lost(`You were removed from “${this.name}”.`)
        : this.note("removed", event)),
    };
    this.pending = new PendingSends(path, user, this.lifetime, {
      added: () => this.scroll.toBottom(),
      delivered: (message) => this.receive(message),
      refused: () => this.verifyMembership(),
      gone: () => this.lost(`“${this.name}” was deleted.`),
    });
    this.uploader = new Uploader(this.lifetime, {
      show: (item) => this.pending.add(item),
      uploaded: (url) => this.pending.send(url),
      problem: (text) => { roomError.textContent = text; },
    });
    this.reply = new ReplyDraft(this.lifetime, { who: (u) => (u === user ? "yourself" : displayName(u)) });
    this.actions = new MessageActions(this.lifetime, {
      messages: this.messages,
      changes: new MessageChanges(path),
      reply: this.reply,
      goTo: (id) => this.goTo(id),
      problem: (text) => { roomError.textContent = text; },
    });
    roomError.textContent = "";
    this.describe(room);
    this.start();
  }

  /** What the room list says about the room: its name and how many members it has. */
  describe(room) {
    this.name = room.name;
    this.members = room.members;
    this.messages.owner = room.owner === this.user;
    $("room-title").textContent = room.name;
    titleRoom(room.name);
    $("room-meta").textContent = room.kind === "dm" ? "Direct message"
      : room.members === 1 ? "Only you · leaving deletes the room" : plural(room.members, "member");
  }

  /** The newest message id the page knows: as many messages as the room has had (ids count from 1). */
  get messageCount() { return this.messages.newest; }

  /** Whether the page holds the room's newest message (not so while reading around a search result). */
  get atLatest() { return this.history.atEnd; }

  async start(delay = 1000) {
    this.live = [];
    try {
      if (this.at) {
        if (!(await this.history.loadAround(this.at))) return;
        this.show(this.at);
        this.history.fillScreen();
      } else {
        if (!(await this.history.loadLatest())) return;
        this.marker.divide($("message-list"));
      }
    } catch (error) {
      roomError.textContent = error instanceof TypeError ? OFFLINE : String(error.message);
      this.lifetime.later(() => this.start(Math.min(delay * 2, 30000)), delay);
      return;
    }
    roomError.textContent = "";
    const heard = this.live;
    this.live = null;
    for (const [kind, data] of heard) this.hear(kind, data);
  }

  /** An event of this room from the page's stream; those that come while the history loads wait for it. */
  hear(kind, data) {
    if (this.lifetime.closed) return;
    if (this.live) this.live.push([kind, data]);
    else if (this.on[kind]) this.on[kind](data);
  }

  /** The stream could not replay what it missed: read what came since over HTTP. */
  catchUp() {
    if (this.live || !this.history.atEnd) return; // still loading, or the newer pages will bring it
    this.history.catchUp(this.messages.newest, (message) => this.receive(message)).catch(() => {});
  }

  /** A page of this room's messages; null (after handling it) when the room is gone or not ours. */
  async fetchPage(path, query) {
    const res = await api("GET", `/v1/logs/${path}?${new URLSearchParams(query)}`);
    if (this.lifetime.closed) return null;
    if (res.status === 400 || res.status === 403) {
      this.lost(res.status === 400 ? `“${this.name}” was deleted.` : `You are no longer a member of “${this.name}”.`);
      return null;
    }
    if (!res.ok) throw new Error(apiError(res));
    return res.data.logs;
  }

  /** A message from the stream or our own post; one beyond the next id makes us fetch what lies between. */
  receive(message) {
    if (!this.history.atEnd) return; // it comes with the newer pages
    const newest = this.messages.newest;
    if (!this.messages.insert(message)) return;
    this.typing.stopped(message.u);
    if (message.id === this.messages.newest) this.scroll.arrived(message.u === this.user);
    // An id may also be a hole, harmlessly.
    if (newest && message.id > newest + 1) {
      this.history.catchUp(newest, (m) => this.receive(m), message.id).catch(() => {});
    }
  }

  /** A quiet line for someone else's coming, going or change to the room; the room list may differ. */
  note(kind, event) {
    const text = noteText(kind, event, this.user);
    if (text && (event.u !== this.user || kind === "removed" || kind === "updated")) {
      this.messages.note(text, event.t);
      if (this.scroll.pinned) this.scroll.toBottom();
    }
    this.events.changed();
  }

  /** The open room went away under us. */
  lost(reason) {
    if (this.lifetime.closed) return;
    this.events.lost(reason);
  }

  /** The room is missing from our rooms: ask the server whether it still lets us in. */
  async verifyMembership() {
    try {
      await this.fetchPage(encodeURIComponent(this.roomid), { after: this.messages.newest, limit: 1 });
    } catch {
      // Offline: the next refresh asks again.
    }
  }

  /** Show a message (the original of a reply), loading older pages until it is there, and light it up. */
  async goTo(id) {
    for (let pages = 0; !this.messages.has(id) && !this.history.atStart && pages < 100; pages++) {
      if (this.history.loading) await new Promise((resolve) => { setTimeout(resolve, 100); });
      else await this.history.loadOlder();
      if (this.lifetime.closed) return;
    }
    this.light(this.messages.item(id));
  }

  /** A search result: the message scrolled to the middle, lit up, and marked until another is shown. */
  show(id) {
    const item = this.messages.item(id);
    if (!item) return false;
    for (const other of document.querySelectorAll("#message-list .found")) other.classList.remove("found");
    item.classList.add("found");
    this.light(item);
    return true;
  }

  light(item) {
    if (!item) return;
    item.scrollIntoView({ block: "center" });
    item.classList.remove("highlight");
    void item.offsetWidth; // restart the highlight's animation when it is asked for again
    item.classList.add("highlight");
    this.lifetime.later(() => item.classList.remove("highlight"), 2500);
  }

  send(text) { this.pending.send(text, this.reply.take()); }

  upload(file) { this.uploader.upload(file); }

  close() {
    this.lifetime.close();
    this.scroll.close();
    this.history.close();
    this.messages.clear();
  }
}
