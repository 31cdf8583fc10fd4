// The open room's settings in the member panel: rename it, make it private or public
// (PATCH /v1/rooms/:roomid). Open for the owner; tucked away for others, since only the server knows
// who else (an administrator) may, and a refusal is said in words.
import { OFFLINE, api, apiError } from "chat/api";
import { $, show } from "chat/dom";

const details = $("room-settings");
const nameInput = $("settings-name");
const privateBox = $("settings-private");
const status = $("settings-status");

export class RoomSettings {
  /** saved(room): the server took the change and answered the room. */
  constructor({ saved }) {
    this.events = { saved };
    this.room = null;
    $("settings-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  /** The open room (null: none), and whether we own it. */
  show(room, owner) {
    const other = !this.room || !room || this.room.roomid !== room.roomid;
    this.room = room;
    show(details, Boolean(room) && room.kind !== "dm");
    if (!room) return;
    show($("settings-who"), !owner);
    if (other) {
      details.open = owner;
      status.textContent = "";
    }
    // A listing refresh does not undo what is being edited.
    if (other || !$("settings-form").contains(document.activeElement)) {
      nameInput.value = room.name;
      privateBox.checked = room.visibility === "private";
    }
  }

  async save() {
    const room = this.room;
    if (!room) return;
    const changes = {};
    const name = nameInput.value.trim();
    if (!name) {
      status.textContent = "Enter a name for the room.";
      return;
    }
    if (name !== room.name) changes.name = name;
    const visibility = privateBox.checked ? "private" : "public";
    if (visibility !== (room.visibility || "public")) changes.visibility = visibility;
    if (!Object.keys(changes).length) {
      status.textContent = "Nothing to change.";
      return;
    }
    try {
      const res = await api("PATCH", `/v1/rooms/${encodeURIComponent(room.roomid)}`, changes);
      if (res.status === 403) status.textContent = "Only the room's owner or an administrator can change it.";
      else if (res.status === 400) status.textContent = "That name cannot be used: 1 to 100 characters, no invisible characters.";
      else if (!res.ok) status.textContent = apiError(res);
      else {
        status.textContent = "Saved.";
        this.events.saved(res.data);
      }
    } catch {
      status.textContent = OFFLINE;
    }
  }
}
