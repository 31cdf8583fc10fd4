// The room lists: "Your rooms" and "Other rooms" with member counts and unread news, kept current by the
// page's stream (counts change in place; a room coming or going reads the list again); creating and joining.
import { OFFLINE, api, apiError } from "chat/api";
import { $, el, plural, show } from "chat/dom";
import { avatarElement } from "chat/people";
import { mentionsMe } from "chat/mentions";
import { titleUnread } from "chat/title";

const REFRESH_SOON_MS = 300; // changes to the list that come together are read once
const roomsError = $("rooms-error");

/** A joined room's unread count and mention badge (nothing when all is read). */
function news(room) {
  if (!room.unread) return null;
  return el("span", { class: "news" },
    room.mentions ? el("span", { class: "mention-badge", title: plural(room.mentions, "mention") }, `@${room.mentions}`) : null,
    el("span", { class: "unread-count", title: `${room.unread} unread` }, String(room.unread)));
}

/** Under a room's name: how many are in it, and whether it is private. */
function roomLine(room) {
  return `${room.visibility === "private" ? "Private · " : ""}${plural(room.members, "member")}`;
}

/** Under a direct message's name: with whom. */
function dmLine(room) {
  if (room.members === 1 && room.with === room.owner) return "Notes to self";
  return room.members === 1 ? "They left" : "Direct message";
}

/** Replace a room list, keeping keyboard focus on the same room when it is still listed. */
function renderRooms(list, rooms, joined, current, pick) {
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.roomid : null;
  list.replaceChildren(...rooms.map((room) => el("li", {},
    el("button", {
      type: "button",
      class: "room-item" + (current === room.roomid ? " current" : ""),
      "data-roomid": room.roomid,
      title: joined ? `Open ${room.name}` : `Join ${room.name}`,
      onclick: () => pick(room, joined),
    },
    room.kind === "dm" ? avatarElement(room.with, "small") : null,
    el("span", { class: "room-name" }, room.name),
    el("span", { class: "room-count" }, room.kind === "dm" ? dmLine(room) : roomLine(room)),
    joined ? news(room) : el("span", { class: "join-badge" }, "Join")))));
  for (const button of list.querySelectorAll(".room-item")) {
    const room = rooms.find((r) => r.roomid === button.dataset.roomid);
    button.classList.toggle("has-news", joined && room.unread > 0);
  }
  if (focused) {
    const again = list.querySelector(`[data-roomid="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

/** The user's POST /v1/room action (enter, leave) on a room. */
export function roomAction(user, action, roomid, name, visibility) {
  const body = { userid: user, action, roomid };
  if (name) body.name = name;
  if (visibility) body.visibility = visibility;
  return api("POST", "/v1/room", body);
}

export class RoomList {
  /** open(room): show one of our rooms; listed(joined): a fresh listing (a Map of our rooms by id) arrived. */
  constructor({ open, listed }) {
    this.events = { open, listed };
    this.user = null;
    this.joined = new Map();
    this.names = new Map();
    this.current = null;
    this.asked = 0;
    this.soon = null;
    this.listing = { allrooms: [], mine: [] };
    $("create-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.create($("room-name"));
    });
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") this.refresh(); });
  }

  /** The lists come from the page's stream (its first `rooms`), then change in place or are read again. */
  start(user) {
    this.user = user;
  }

  stop() {
    clearTimeout(this.soon);
    this.user = null;
    this.joined = new Map();
    this.names = new Map();
    $("my-rooms").replaceChildren();
    $("direct-rooms").replaceChildren();
    $("other-rooms").replaceChildren();
  }

  /** A room's name where the page knows it. */
  name(roomid) { return this.names.get(roomid); }

  async refresh() {
    if (!this.user) return;
    const asked = ++this.asked;
    let res;
    try {
      res = await api("GET", `/v1/room/${encodeURIComponent(this.user)}`);
    } catch {
      roomsError.textContent = OFFLINE;
      return;
    }
    if (!this.user || asked !== this.asked) return; // logged out, or a newer listing is on its way
    if (!res.ok) {
      roomsError.textContent = apiError(res, "Could not load the rooms.");
      return;
    }
    this.load({ allrooms: res.data.allrooms, rooms: res.data.join_rooms });
  }

  /** A fresh listing: {allrooms, rooms} (the stream's `rooms`, or GET /v1/room/:userid's). */
  load({ allrooms, rooms }) {
    roomsError.textContent = "";
    this.listing = { allrooms, mine: rooms };
    this.render();
    this.events.listed(this.joined);
  }

  /** Read the list again shortly (several changes that come together cost one read). */
  refreshSoon() {
    clearTimeout(this.soon);
    this.soon = setTimeout(() => this.refresh(), REFRESH_SOON_MS);
  }

  /** A message in one of our rooms: its news counts change in place, and it moves to the top. */
  heard(message, open) {
    const room = this.joined.get(message.roomid);
    if (!room || !this.user) return;
    if (message.u === this.user) Object.assign(room, { unread: 0, mentions: 0 });
    else if (!open) {
      room.unread = (room.unread || 0) + 1;
      if (mentionsMe(message.m, this.user, room.members)) room.mentions = (room.mentions || 0) + 1;
    }
    room.last_message = message.t;
    const mine = this.listing.mine;
    this.listing.mine = [room, ...mine.filter((r) => r !== room)];
    this.render();
  }

  /** Our read marker moved (on this page or another): the server's counts. */
  counted({ roomid, read, unread, mentions }) {
    const room = this.joined.get(roomid);
    if (!room) return;
    Object.assign(room, { read, unread, mentions });
    this.render();
  }

  render() {
    const { allrooms, mine } = this.listing;
    this.joined = new Map(mine.map((room) => [room.roomid, room]));
    for (const room of allrooms.concat(mine)) this.names.set(room.roomid, room.name);
    const pick = (room, joined) => (joined ? this.events.open(room) : this.join(room));
    const rooms = mine.filter((room) => room.kind !== "dm");
    const direct = mine.filter((room) => room.kind === "dm");
    renderRooms($("my-rooms"), rooms, true, this.current, pick);
    renderRooms($("direct-rooms"), direct, true, this.current, pick);
    show($("direct-empty"), direct.length === 0);
    renderRooms($("other-rooms"), allrooms.filter((room) => !this.joined.has(room.roomid)), false, this.current, pick);
    show($("my-rooms-empty"), rooms.length === 0);
    show($("other-rooms-empty"), allrooms.every((room) => this.joined.has(room.roomid)));
    titleUnread(mine.reduce((sum, room) => sum + (room.unread || 0), 0));
  }

  /** Highlight the open room (null: none). */
  markCurrent(roomid) {
    this.current = roomid;
    for (const button of document.querySelectorAll(".room-item")) {
      const current = button.dataset.roomid === roomid;
      button.classList.toggle("current", current);
      if (current) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  /** Focus a room's button (after the back button closed it). */
  focus(roomid) {
    const button = document.querySelector(`.room-item[data-roomid="${CSS.escape(roomid)}"]`);
    if (button) button.focus();
  }

  async create(input) {
    const name = input.value.trim();
    const visibility = $("room-private").checked ? "private" : "public";
    try {
      const res = await roomAction(this.user, "enter", null, name, visibility);
      if (!res.ok) {
        roomsError.textContent = apiError(res, "Could not create the room.");
        return;
      }
      input.value = "";
      $("room-private").checked = false;
      await this.refresh();
      this.events.open(this.joined.get(res.data.roomid) || { roomid: res.data.roomid, name: name || "Untitled room", members: 1 });
    } catch {
      roomsError.textContent = OFFLINE;
    }
  }

  /** Open the direct message with a person (POST /v1/dm makes it on first use). */
  async direct(userid) {
    try {
      const res = await api("POST", "/v1/dm", { userid });
      if (!res.ok) {
        roomsError.textContent = apiError(res, "Could not start the conversation.");
        return;
      }
      await this.openJoined(res.data.roomid);
    } catch {
      roomsError.textContent = OFFLINE;
    }
  }

  /** Open a room we have just come into (by an invitation, a link, a direct message). */
  async openJoined(roomid) {
    await this.refresh();
    const room = this.joined.get(roomid);
    if (room) this.events.open(room);
  }

  async join(room) {
    try {
      const res = await roomAction(this.user, "enter", room.roomid);
      if (res.ok) {
        await this.refresh();
        this.events.open(this.joined.get(room.roomid) || { ...room, members: room.members + 1 });
      } else {
        roomsError.textContent = res.status === 400 ? "That room no longer exists." : apiError(res);
        this.refresh();
      }
    } catch {
      roomsError.textContent = OFFLINE;
    }
  }
}
