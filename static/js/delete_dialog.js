// Deleting a message asks first, in a <dialog> that shows what will go.
import { $ } from "chat/dom";
import { preview } from "chat/message_view";

const dialog = $("delete-dialog");

/** Resolves true for "Delete", false for Cancel or Escape. `whose`: null for one's own, else the author. */
export function confirmDelete(message, whose) {
  $("delete-dialog-text").textContent = whose
    ? `Delete this message by ${whose} for everyone? “${preview(message.m)}”`
    : `Delete your message for everyone? “${preview(message.m)}”`;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "delete"), { once: true });
  });
}
