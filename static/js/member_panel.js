// The open room's members (GET /v1/rooms/:roomid/members): avatars with online dots, roles, and a
// person's card from any name. People who share a name are told apart by their email here.
import { OFFLINE, api, apiError } from "chat/api";
import { $, el, show } from "chat/dom";
import { avatarElement, nameElement, remember } from "chat/people";

const panel = $("members-panel");
const list = $("members");
const problem = $("members-error");
const button = $("members-button");

export class MemberPanel {
  /** pick(member, context): a person was chosen (context: {room, mine, twins}). */
  constructor({ pick }) {
    this.events = { pick };
    this.room = null;
    this.user = null;
    this.members = [];
    this.asked = 0;
    button.addEventListener("click", () => this.toggle(panel.hidden));
    $("members-close").addEventListener("click", () => { this.toggle(false); button.focus(); });
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { this.toggle(false); button.focus(); }
    });
  }

  /** The room the page shows now (null: none); `user` is who we are. */
  show(room, user) {
    const other = !this.room || !room || this.room.roomid !== room.roomid;
    this.room = room;
    this.user = user;
    if (!room) {
      this.toggle(false);
      return;
    }
    $("members-count").textContent = room.members ? String(room.members) : "";
    if (other) {
      this.members = [];
      list.replaceChildren();
      problem.textContent = "";
    }
    if (!panel.hidden) this.refresh();
  }

  toggle(open) {
    show(panel, open);
    button.setAttribute("aria-pressed", String(open));
    const roomOpen = $("room-open");
    roomOpen.classList.toggle("members-open", open);
    // The panel starts under the room's header, however tall it is.
    roomOpen.style.setProperty("--header-height", `${roomOpen.querySelector(".room-header").offsetHeight}px`);
    if (open) this.refresh();
  }

  async refresh() {
    if (!this.room || panel.hidden) return;
    const room = this.room;
    const asked = ++this.asked;
    let res;
    try {
      res = await api("GET", `/v1/rooms/${encodeURIComponent(room.roomid)}/members`);
    } catch {
      problem.textContent = OFFLINE;
      return;
    }
    if (asked !== this.asked || this.room !== room) return;
    if (!res.ok) {
      problem.textContent = apiError(res, "Could not load the members.");
      return;
    }
    problem.textContent = "";
    this.members = res.data.members;
    remember(...this.members);
    this.render();
  }

  render() {
    const counts = new Map();
    for (const member of this.members) counts.set(member.name, (counts.get(member.name) || 0) + 1);
    list.replaceChildren(...this.members.map((member) => {
      const twins = counts.get(member.name) > 1;
      const mine = member.userid === this.user;
      const avatar = avatarElement(member.userid);
      const presence = member.online ? "online" : "offline";
      const item = el("button", {
        type: "button",
        class: "member",
        "data-userid": member.userid,
        title: `${member.name}${twins ? ` (${member.userid})` : ""}: show their card`,
        onclick: () => this.events.pick(member, { room: this.room, mine, twins }),
      },
      el("span", { class: "avatar-wrap" }, avatar, el("span", { class: `presence ${presence}`, title: presence })),
      el("span", { class: "member-text" },
        el("span", { class: "member-line" },
          nameElement(member.userid, { class: "member-name" }),
          mine ? el("span", { class: "tag" }, "you") : null,
          member.role === "owner" && this.room.kind !== "dm" ? el("span", { class: "tag owner" }, "owner") : null),
        twins ? el("span", { class: "member-email" }, member.userid) : null),
      el("span", { class: "visually-hidden" }, `, ${presence}`));
      return el("li", {}, item);
    }));
  }
}
