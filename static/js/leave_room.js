// The Leave button. Leaving as the last member deletes the room and its messages, so that asks
// first, in a <dialog>, saying what will be lost.
import { OFFLINE } from "chat/api";
import { $, plural } from "chat/dom";
import { roomAction } from "chat/room_list";

const dialog = $("leave-dialog");

/** What the last member's leaving deletes, in words. */
export function lossText(name, messages) {
  const what = messages > 0 ? ` and its ${messages === 1 ? "only message" : plural(messages, "message")}` : "";
  return `You are the last member: leaving deletes “${name}”${what}. This cannot be undone.`;
}

/** Ask in the dialog; resolves true for "Leave and delete", false for Cancel or Escape. */
function confirmLoss(name, messages) {
  $("leave-dialog-text").textContent = lossText(name, messages);
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "delete"), { once: true });
  });
}

/** conversation() -> the open room's Conversation (or null); left(notice) after leaving; user() -> who we are. */
export function startLeaving({ conversation, user, left }) {
  $("leave-button").addEventListener("click", async () => {
    const conv = conversation();
    if (!conv) return;
    if (conv.members === 1 && !(await confirmLoss(conv.name, conv.messageCount))) return;
    if (conversation() !== conv) return; // the room closed while the dialog was open
    try {
      const res = await roomAction(user(), "leave", conv.roomid);
      if (!res.ok) left(`“${conv.name}” is gone, or you had already left it.`);
      else if (res.data.roomid === "room deleted") left(`You left “${conv.name}”, and it was deleted: you were its last member.`);
      else left(`You left “${conv.name}”.`);
    } catch {
      $("room-error").textContent = OFFLINE;
    }
  });
}
