// The tab's title: the open room's name, and "(3)" in front while rooms have unread messages.
let room = null;
let unread = 0;

function apply() {
  document.title = `${unread ? `(${unread}) ` : ""}${room ? `${room} · ` : ""}chat`;
}

/** The open room's name (null: none). */
export function titleRoom(name) {
  room = name;
  apply();
}

/** How many unread messages the user's rooms hold in all. */
export function titleUnread(count) {
  unread = count;
  apply();
}
