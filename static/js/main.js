// The chat web client's entry: builds the parts and joins them. Each part is one behaviour in its
// own module; they hear of each other only through the callbacks given here.
import { startAuth } from "chat/auth";
import { startComposer } from "chat/composer";
import { Conversation } from "chat/conversation";
import { $, show } from "chat/dom";
import { Invitations } from "chat/invitations";
import { InviteDialog } from "chat/invite_dialog";
import { startLeaving } from "chat/leave_room";
import { MemberPanel } from "chat/member_panel";
import { startPasswordChange } from "chat/password_change";
import { startPasswordReset } from "chat/password_reset";
import { forgetPeople, remember } from "chat/people";
import { PersonCard } from "chat/person_card";
import { ProfileEditor } from "chat/profile_editor";
import { startNotifications } from "chat/notifications";
import { RoomList } from "chat/room_list";
import { RoomSettings } from "chat/room_settings";
import { SearchBox } from "chat/search_box";
import { SessionList } from "chat/session_list";
import { StatsView } from "chat/stats_view";
import { titleRoom, titleUnread } from "chat/title";
import { startTypingNotices } from "chat/typing";
import { UserStream } from "chat/user_stream";

const app = $("app");
let user = null;
let conv = null; // the open room's Conversation
let openedRoom = null; // what the room list last said about the open room
let wanted = null; // the room to open when the room list comes (from the address)

/** The room header's people parts follow what the room list says about the open room. */
function describeRoom(room) {
  openedRoom = room;
  members.show(room, user);
  settings.show(room, Boolean(room) && room.owner === user);
  invites.showFor(room);
}

/** Someone came, went or changed the room: the lists follow. */
function roomChanged() {
  rooms.refresh();
  members.refresh();
}

function setNotice(text) {
  $("room-notice").textContent = text;
  show($("room-notice"), Boolean(text));
}

/** Open one of our rooms: at its newest messages, or around message `at` (a search result), lit up. */
function openRoom(room, at = null) {
  stats.close();
  const there = conv && conv.roomid === room.roomid;
  // Anew: another room, a result not loaded, or the room list's click on a room read around an old message.
  if (!there || (at ? !conv.show(at) : !conv.atLatest)) {
    if (conv) conv.close();
    conv = new Conversation(room, user, {
      lost: (reason) => { closeRoom(reason); rooms.refresh(); },
      changed: roomChanged,
      updated: roomChanged,
      latest: () => reopenAtLatest(),
    }, at);
    history.replaceState(null, "", `#room=${encodeURIComponent(room.roomid)}`);
  }
  setNotice("");
  show($("room-placeholder"), false);
  show($("room-open"), true);
  app.classList.add("in-room");
  rooms.markCurrent(room.roomid);
  describeRoom(room);
  // A result opened by keyboard: the conversation takes the keys (arrows scroll), without a ring round it all.
  if (at) $("messages").focus({ preventScroll: true, focusVisible: false });
  else $("message-input").focus();
}

/** The open room, read around an older message, anew at its newest messages. */
function reopenAtLatest() {
  if (!conv || !rooms.joined.has(conv.roomid)) return;
  const room = rooms.joined.get(conv.roomid);
  conv.close();
  conv = null;
  openRoom(room);
}

/** A search result: its room, at that message (the room list may not know a room joined a moment ago). */
async function openResult(result) {
  if (!rooms.joined.has(result.roomid)) await rooms.refresh();
  if (rooms.joined.has(result.roomid)) openRoom(rooms.joined.get(result.roomid), result.message.id);
  else setNotice("That message is in a room you are no longer in.");
}

/** Close the open room (if any) and say why above the room list. */
function closeRoom(notice) {
  if (conv) {
    conv.close();
    conv = null;
    history.replaceState(null, "", location.pathname);
    titleRoom(null);
  }
  setNotice(notice);
  show($("room-open"), false);
  show($("room-placeholder"), true);
  app.classList.remove("in-room");
  rooms.markCurrent(null);
  describeRoom(null);
}

const rooms = new RoomList({
  open: openRoom,
  listed: (joined) => {
    if (!conv) return;
    if (joined.has(conv.roomid)) {
      conv.describe(joined.get(conv.roomid));
      describeRoom(joined.get(conv.roomid));
    } else conv.verifyMembership();
  },
});
const invitations = new Invitations({
  joined: (roomid) => rooms.openJoined(roomid),
  problem: (text) => setNotice(text),
});
const sessions = new SessionList();
const passwordChange = startPasswordChange({ changed: () => sessions.load() });
const profile = new ProfileEditor({
  opened: (who) => { passwordChange.reset(who); sessions.clear(); sessions.load(); },
});
const card = new PersonCard({ direct: (userid) => rooms.direct(userid), changed: roomChanged });
const members = new MemberPanel({
  pick: (member, context) => card.open(member, { ...context, owner: Boolean(openedRoom) && openedRoom.owner === user }),
});
const settings = new RoomSettings({ saved: roomChanged });
const invites = new InviteDialog({ room: () => openedRoom });
startTypingNotices({ roomid: () => conv && conv.roomid });

const stats = new StatsView({ user: () => user, roomName: (roomid) => rooms.name(roomid) });
const search = new SearchBox({ open: (result) => openResult(result), roomName: (roomid) => rooms.name(roomid) });

startComposer({
  send: (text) => {
    if (!conv) return false;
    if (!conv.atLatest) reopenAtLatest(); // one's own message goes below the newest, so show those
    conv.send(text);
    return true;
  },
  upload: (file) => { if (conv) conv.upload(file); },
  problem: (text) => { $("room-error").textContent = text; },
});

startLeaving({
  conversation: () => conv,
  user: () => user,
  left: (notice) => { closeRoom(notice); rooms.refresh(); },
});

$("back-button").addEventListener("click", () => {
  const roomid = conv && conv.roomid;
  closeRoom("");
  if (roomid) rooms.focus(roomid);
});

const notifier = startNotifications({
  user: () => user,
  room: (roomid) => rooms.joined.get(roomid),
  open: (roomid) => { if (rooms.joined.has(roomid)) openRoom(rooms.joined.get(roomid)); },
});

// Kinds of room events that change what the room list shows of a room (its name, members, counts).
const LISTED = new Set(["delete", "enter", "leave", "removed", "updated", "deleted"]);

/** The page's one stream: each room's events go to the open conversation and the room list. */
const stream = new UserStream({
  room: (kind, data) => {
    const open = Boolean(conv) && conv.roomid === data.roomid;
    if (open) conv.hear(kind, data);
    if (kind === "message") {
      rooms.heard(data, open && document.visibilityState === "visible");
      notifier.heard(data);
    } else if (LISTED.has(kind) && !open) rooms.refreshSoon(); // the open room's changes refresh it already
  },
  news: (kind, data) => {
    if (kind === "read") rooms.counted(data);
    else if (kind === "profile") remember(data);
    else if (kind === "people") remember(...data.people);
    else if (kind === "invitation") invitations.refresh();
    else if (kind === "invitations") invitations.render(data.invitations);
    else if (kind === "rooms") {
      rooms.load(data);
      if (wanted && rooms.joined.has(wanted)) openRoom(rooms.joined.get(wanted));
      wanted = null;
    } else {
      // room, unlisted, gone, reset: rooms came or went, or the stream starts afresh
      if (kind === "gone" && conv && conv.roomid === data.roomid) closeRoom("You are no longer in that room.");
      if (kind === "reset") {
        invitations.refresh();
        if (conv) conv.catchUp();
      }
      rooms.refreshSoon();
    }
  },
});

const auth = startAuth({
  signedIn: (who) => {
    user = who;
    profile.start(who);
    invitations.start(who);
    search.start();
    rooms.start(who);
    // The room in the address opens once the stream's first listing says it is ours.
    wanted = new URLSearchParams(location.hash.slice(1)).get("room");
    stream.start();
    if (new URLSearchParams(location.search).has("join")) {
      wanted = null;
      invitations.joinFromAddress();
    }
  },
  signedOut: () => {
    stream.stop();
    stats.close();
    search.stop();
    closeRoom("");
    rooms.stop();
    invitations.stop();
    profile.stop();
    forgetPeople();
    titleUnread(0);
    user = null;
  },
  forgot: (email) => reset.forgot(email),
});
const reset = startPasswordReset({
  signedIn: (who) => {
    auth.enter(who);
    setNotice("Your new password is set: you are logged in here, and logged out everywhere else.");
  },
  back: () => auth.check(),
});
// A reset link (#reset=<token>) opens its form first, whoever is logged in; else: who are we?
if (!reset.openLink()) auth.check();
