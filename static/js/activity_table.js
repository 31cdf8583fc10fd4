// The activity log's rows: when, who, what, and a detail in words — a room's name where the page
// knows it, "an image" (a link) for an uploaded or sent image, else the text.
import { isImageUrl } from "chat/config";
import { el, timeElement } from "chat/dom";

const ROOM_ACTS = new Set(["create", "enter", "leave", "delete"]);

/** roomName(id) -> the room's name where the page knows it. */
function detail(entry, roomName) {
  const name = ROOM_ACTS.has(entry.act) && roomName(entry.m);
  if (name) return el("td", { class: "detail", title: `room ${entry.m}` }, name);
  if (typeof entry.m === "string" && isImageUrl(entry.m)) {
    return el("td", { class: "detail" },
      el("a", { href: entry.m, target: "_blank", rel: "noopener", class: "image-link", title: "Open the image" }, "an image"));
  }
  return el("td", { class: "detail" }, entry.m);
}

export function activityRows(logs, roomName) {
  return logs.map((entry) => el("tr", {},
    el("td", {}, timeElement(entry.t)),
    el("td", {}, entry.u),
    el("td", {}, el("span", { class: `act act-${entry.act}` }, entry.act)),
    detail(entry, roomName)));
}
