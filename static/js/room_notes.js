// The quiet lines a room's events make in the conversation, in words, with people's current names.
import { displayName } from "chat/people";

/** The note for a timeline event other than a message (null: nothing to say), seen by `user`. */
export function noteText(kind, event, user) {
  const who = (userid) => (userid === user ? "You" : displayName(userid));
  const whom = (userid) => (userid === user ? "you" : displayName(userid));
  if (kind === "enter") return `${who(event.u)} joined the room`;
  if (kind === "leave") {
    const passed = event.owner ? ` · ${who(event.owner)} ${event.owner === user ? "own" : "owns"} it now` : "";
    return `${who(event.u)} left the room${passed}`;
  }
  if (kind === "invite") return `${who(event.u)} invited ${whom(event.userid)}`;
  if (kind === "removed") return `${who(event.by)} removed ${whom(event.u)} from the room`;
  if (kind === "updated") {
    const parts = [];
    if (event.name) parts.push(`renamed the room to “${event.name}”`);
    if (event.visibility) parts.push(event.visibility === "private" ? "made the room private" : "made the room public");
    if (event.owner) parts.push(`handed ownership to ${whom(event.owner)}`);
    return parts.length ? `${who(event.u)} ${parts.join(" and ")}` : null;
  }
  return null;
}
