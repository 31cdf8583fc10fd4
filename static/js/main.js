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
import { forgetPeople } from "chat/people";
import { PersonCard } from "chat/person_card";
import { ProfileEditor } from "chat/profile_editor";
import { startNotifications } from "chat/notifications";
import { RoomList } from "chat/room_list";
import { RoomSettings } from "chat/room_settings";
import { SearchBox } from "chat/search_box";
import { StatsView } from "chat/stats_view";
import { titleRoom, titleUnread } from "chat/title";
import { startTypingNotices } from "chat/typing";

const app = $("app");
let user = null;
let conv = null; // the open room's Conversation
let openedRoom = null; // what the room list last said about the open room

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
      read: () => rooms.refresh(),
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
const profile = new ProfileEditor();
const card = new PersonCard({ direct: (userid) => rooms.direct(userid), changed: roomChanged });
const members = new MemberPanel({
  pick: (member, context) => card.open(member, { ...context, owner: Boolean(openedRoom) && openedRoom.owner === user }),
});
const settings = new RoomSettings({ saved: roomChanged });
const invites = new InviteDialog({ room: () => openedRoom });
startTypingNotices({ roomid: () => conv && conv.roomid });
setInterval(() => { if (user && document.visibilityState === "visible") invitations.refresh(); }, 10000);

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

startNotifications({
  user: () => user,
  open: (roomid) => { if (rooms.joined.has(roomid)) openRoom(rooms.joined.get(roomid)); },
});

startAuth({
  signedIn: (who) => {
    user = who;
    profile.start(who);
    invitations.start(who);
    search.start();
    rooms.start(who).then(() => {
      const wanted = new URLSearchParams(location.hash.slice(1)).get("room");
      if (new URLSearchParams(location.search).has("join")) invitations.joinFromAddress();
      else if (wanted && rooms.joined.has(wanted)) openRoom(rooms.joined.get(wanted));
    });
  },
  signedOut: () => {
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
});
