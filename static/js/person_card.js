// A person's card: their picture, name and email (which tells two people with one name apart), a
// Message button that starts the direct message, and the owner's actions: remove, hand ownership.
// Non-owners see the actions only tucked away; the server decides (admins may), a 403 is said politely.
import { OFFLINE, api, apiError } from "chat/api";
import { $, show } from "chat/dom";
import { avatarElement, displayName } from "chat/people";

const dialog = $("person-dialog");
const problem = $("person-error");

/** What a refused moderation answer means, in words. */
function refusal(res) {
  if (res.status === 403) return "Only the room's owner or an administrator can do that.";
  if (res.status === 404) return "They are not in the room any more.";
  if (res.status === 409) return res.data && res.data.error ? `Not possible: ${res.data.error}.` : "Not possible in this room.";
  return apiError(res);
}

export class PersonCard {
  /** direct(userid): open the direct message with them; changed(): the room's members changed. */
  constructor({ direct, changed }) {
    this.events = { direct, changed };
    this.member = null;
    this.context = null;
    $("person-dm").addEventListener("click", () => {
      const { userid } = this.member;
      dialog.close();
      this.events.direct(userid);
    });
    $("person-remove").addEventListener("click", () => this.remove());
    $("person-owner").addEventListener("click", () => this.handOver());
    $("person-moderate").addEventListener("click", () => this.showModeration(true));
  }

  /** Show a member; context {room, mine, owner, twins}. */
  open(member, context) {
    this.member = member;
    this.context = context;
    const { room, mine, owner } = context;
    $("person-avatar").replaceChildren(avatarElement(member.userid, "large"));
    $("person-name").textContent = displayName(member.userid);
    $("person-email").textContent = member.userid;
    $("person-role").textContent = [
      room.kind === "dm" ? "In this direct message" : `${member.role === "owner" ? "Owner" : "Member"} of “${room.name}”`,
      member.online ? "online now" : "not online",
    ].join(" · ");
    problem.textContent = "";
    $("person-dm").textContent = mine ? "Notes to self" : "Message";
    // Moderation is for rooms, not direct messages; it is not for oneself (leave instead).
    this.moderates = room.kind !== "dm" && !mine && member.role !== "owner";
    this.showModeration(owner);
    show($("person-moderate-line"), this.moderates && !owner);
    dialog.showModal();
    $("person-dm").focus();
  }

  /** The owner's actions: shown to the owner; to others (an administrator may) only when asked for. */
  showModeration(visible) {
    show($("person-remove"), this.moderates && visible);
    show($("person-owner"), this.moderates && visible);
    if (visible) show($("person-moderate-line"), false);
  }

  async remove() {
    const { member, context } = this;
    await this.moderate(
      () => api("DELETE", `/v1/rooms/${encodeURIComponent(context.room.roomid)}/members/${encodeURIComponent(member.userid)}`),
      `${displayName(member.userid)} was removed.`);
  }

  async handOver() {
    const { member, context } = this;
    await this.moderate(
      () => api("PATCH", `/v1/rooms/${encodeURIComponent(context.room.roomid)}`, { owner: member.userid }),
      `${displayName(member.userid)} owns the room now.`);
  }

  async moderate(call, done) {
    try {
      const res = await call();
      if (!res.ok) {
        problem.textContent = refusal(res);
        return;
      }
      dialog.close();
      this.events.changed(done);
    } catch {
      problem.textContent = OFFLINE;
    }
  }
}
