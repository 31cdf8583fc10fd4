// The Invite dialog of the open room: invite a registered person by email
// (POST /v1/rooms/:roomid/invites), or make a link anyone can join by (POST /v1/rooms/:roomid/links) and copy it.
import { OFFLINE, api, apiError } from "chat/api";
import { $, show } from "chat/dom";

const dialog = $("invite-dialog");
const email = $("invite-email");
const status = $("invite-status");
const link = $("invite-link");
const linkStatus = $("invite-link-status");
const copy = $("invite-copy");

/** What an invitation's answer means, in words. */
function inviteAnswer(res, who) {
  if (res.status === 201) return `Invited ${who}: they will see it in their invitations.`;
  if (res.status === 200) return `${who} was already invited.`;
  if (res.status === 404) return `Nobody is registered as ${who}: ask them to create an account first.`;
  if (res.status === 409) return `${who} is already in the room.`;
  if (res.status === 400) return "Enter an email address, like name@example.com";
  return apiError(res);
}

export class InviteDialog {
  /** room() -> the open room (or null). */
  constructor({ room }) {
    this.room = room;
    $("invite-button").addEventListener("click", () => this.open());
    $("invite-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.invite();
    });
    $("invite-make-link").addEventListener("click", () => this.makeLink());
    copy.addEventListener("click", () => this.copyLink());
    $("invite-close").addEventListener("click", () => dialog.close());
  }

  /** Show the Invite button only where inviting is possible (rooms, not direct messages). */
  showFor(room) { show($("invite-button"), Boolean(room) && room.kind !== "dm"); }

  open() {
    const room = this.room();
    if (!room) return;
    $("invite-title").textContent = `Invite people to “${room.name}”`;
    email.value = "";
    status.textContent = "";
    link.value = "";
    linkStatus.textContent = "";
    show(copy, false);
    show($("invite-make-link"), true);
    dialog.showModal();
    email.focus();
  }

  async invite() {
    const room = this.room();
    const who = email.value.trim();
    if (!room) return;
    if (!who) {
      status.textContent = "Enter the email address they registered with.";
      return;
    }
    try {
      const res = await api("POST", `/v1/rooms/${encodeURIComponent(room.roomid)}/invites`, { userid: who });
      status.textContent = inviteAnswer(res, who);
      if (res.ok) email.value = "";
    } catch {
      status.textContent = OFFLINE;
    }
  }

  async makeLink() {
    const room = this.room();
    if (!room) return;
    try {
      const res = await api("POST", `/v1/rooms/${encodeURIComponent(room.roomid)}/links`, {});
      if (!res.ok) {
        linkStatus.textContent = apiError(res, "Could not make a link.");
        return;
      }
      link.value = new URL(res.data.url, location.href).href;
      const expires = new Date(res.data.expires);
      linkStatus.textContent = `Anyone with this link can join until ${expires.toLocaleDateString([], { month: "short", day: "numeric" })}.`;
      show(copy, true);
      show($("invite-make-link"), false);
      copy.textContent = "Copy";
      copy.focus();
    } catch {
      linkStatus.textContent = OFFLINE;
    }
  }

  async copyLink() {
    try {
      await navigator.clipboard.writeText(link.value);
      copy.textContent = "Copied";
      linkStatus.textContent = "The link is on the clipboard.";
    } catch {
      link.focus();
      link.select();
      linkStatus.textContent = "Copying is blocked here: the link is selected, press Ctrl+C (⌘C).";
    }
  }
}
