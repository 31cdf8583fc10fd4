// The chat web client's entry: builds the parts and joins them. Each part is one behaviour in its
// own module; they hear of each other only through the callbacks given here.
import { startAuth } from "chat/auth";
import { startComposer } from "chat/composer";
import { Conversation } from "chat/conversation";
import { $, show } from "chat/dom";
import { startLeaving } from "chat/leave_room";
import { startNotifications } from "chat/notifications";
import { RoomList } from "chat/room_list";
import { StatsView } from "chat/stats_view";
import { titleRoom, titleUnread } from "chat/title";

const app = $("app");
let user = null;
let conv = null; // the open room's Conversation

function setNotice(text) {
  $("room-notice").textContent = text;
  show($("room-notice"), Boolean(text));
}

/** Open one of our rooms. */
function openRoom(room) {
  stats.close();
  if (!conv || conv.roomid !== room.roomid) {
    if (conv) conv.close();
    conv = new Conversation(room, user, {
      lost: (reason) => { closeRoom(reason); rooms.refresh(); },
      changed: () => rooms.refresh(),
      read: () => rooms.refresh(),
    });
    history.replaceState(null, "", `#room=${encodeURIComponent(room.roomid)}`);
  }
  setNotice("");
  show($("room-placeholder"), false);
  show($("room-open"), true);
  app.classList.add("in-room");
  rooms.markCurrent(room.roomid);
  $("message-input").focus();
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
}

const rooms = new RoomList({
  open: openRoom,
  listed: (joined) => {
    if (!conv) return;
    if (joined.has(conv.roomid)) conv.describe(joined.get(conv.roomid));
    else conv.verifyMembership();
  },
});

const stats = new StatsView({ user: () => user, roomName: (roomid) => rooms.name(roomid) });

startComposer({
  send: (text) => {
    if (!conv) return false;
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
    rooms.start(who).then(() => {
      const wanted = new URLSearchParams(location.hash.slice(1)).get("room");
      if (wanted && rooms.joined.has(wanted)) openRoom(rooms.joined.get(wanted));
    });
  },
  signedOut: () => {
    stats.close();
    closeRoom("");
    rooms.stop();
    titleUnread(0);
    user = null;
  },
});
