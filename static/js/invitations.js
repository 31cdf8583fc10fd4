// Pending invitations in the sidebar (GET /v1/invites): accept with the seed's enter action, decline
// with DELETE /v1/invites/:roomid; and opening an invite link (the page with ?join=<token>).
import { OFFLINE, api, apiError } from "chat/api";
import { $, el, show, timeLabel } from "chat/dom";
import { nameElement } from "chat/people";
import { roomAction } from "chat/room_list";

const section = $("invites-section");
const list = $("invites");

export class Invitations {
  /** joined(roomid): we are in that room now (open it); problem(text): say what went wrong. */
  constructor({ joined, problem }) {
    this.events = { joined, problem };
    this.user = null;
    this.asked = 0;
  }

  /** The invitations come from the page's stream (its `invitations`), or are read again on news of one. */
  start(user) {
    this.user = user;
  }

  stop() {
    this.user = null;
    list.replaceChildren();
    show(section, false);
  }

  async refresh() {
    if (!this.user) return;
    const asked = ++this.asked;
    let res;
    try {
      res = await api("GET", "/v1/invites");
    } catch {
      return; // the room list says we are offline
    }
    if (!this.user || asked !== this.asked || !res.ok) return;
    this.render(res.data.invites);
  }

  render(invites) {
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    list.replaceChildren(...invites.map((invite) => el("li", { class: "invite", "data-roomid": invite.roomid },
      el("span", { class: "invite-text" },
        el("span", { class: "room-name" }, invite.name),
        el("span", { class: "hint small" }, "from ", nameElement(invite.by), ` · ${timeLabel(invite.t)}`)),
      el("span", { class: "invite-actions" },
        el("button", { type: "button", class: "primary", "data-action": `accept ${invite.roomid}`, onclick: () => this.accept(invite) }, "Accept"),
        el("button", { type: "button", "data-action": `decline ${invite.roomid}`, onclick: () => this.decline(invite) }, "Decline")))));
    show(section, invites.length > 0);
    if (focused) {
      const again = list.querySelector(`[data-action="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  async accept(invite) {
    try {
      const res = await roomAction(this.user, "enter", invite.roomid);
      if (res.ok) this.events.joined(invite.roomid);
      else this.events.problem(res.status === 400 ? `“${invite.name}” no longer exists.` : apiError(res));
    } catch {
      this.events.problem(OFFLINE);
    }
    this.refresh();
  }

  async decline(invite) {
    try {
      const res = await api("DELETE", `/v1/invites/${encodeURIComponent(invite.roomid)}`);
      if (!res.ok) this.events.problem(apiError(res));
    } catch {
      this.events.problem(OFFLINE);
    }
    this.refresh();
  }

  /** The page was opened from an invite link: join by its token, then forget it from the address. */
  async joinFromAddress() {
    const params = new URLSearchParams(location.search);
    const token = params.get("join");
    if (!token) return;
    params.delete("join");
    const rest = params.toString();
    history.replaceState(null, "", `${location.pathname}${rest ? `?${rest}` : ""}${location.hash}`);
    try {
      const res = await api("POST", `/v1/join/${encodeURIComponent(token)}`);
      if (res.ok) this.events.joined(res.data.roomid);
      else if (res.status === 410) this.events.problem("This invite link has expired, been used up, or been revoked: ask for a new one.");
      else if (res.status === 404) this.events.problem("This invite link is not valid: check that it was copied whole.");
      else this.events.problem(apiError(res));
    } catch {
      this.events.problem(OFFLINE);
    }
  }
}
