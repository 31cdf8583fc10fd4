// People: a cache of public profiles (user id -> {name, avatar}), and the name and avatar elements
// that show a person. Those elements carry the user id, so a profile learned later (or changed) updates
// every place the person is shown at once.
import { api } from "chat/api";
import { el } from "chat/dom";

const known = new Map(); // userid -> {name, avatar}
const asked = new Set(); // user ids looked up (or being looked up)

/** The default display name, as the server makes it: the part of the email before "@". */
const defaultName = (userid) => String(userid).split("@")[0] || String(userid);

/** A person's display name as far as the page knows it. */
export function displayName(userid) {
  const profile = known.get(userid);
  return profile ? profile.name : defaultName(userid);
}

/** A person's avatar URL, or null. */
export function avatarUrl(userid) {
  const profile = known.get(userid);
  return profile ? profile.avatar : null;
}

/** The initials of a name: the first letter (or symbol) of its first two words. */
export function initials(name) {
  const words = String(name).trim().split(/\s+/).filter(Boolean);
  const first = (word) => Array.from(word)[0] || "";
  return (words.slice(0, 2).map(first).join("") || "?").toUpperCase();
}

/** A colour of its own for every user id (the same on every page). */
export function hue(userid) {
  let hash = 0;
  for (const char of String(userid)) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return hash % 360;
}

function fillAvatar(node, userid, url = avatarUrl(userid)) {
  if (url) {
    node.replaceChildren(el("img", { src: url, alt: "", loading: "lazy", decoding: "async" }));
    node.classList.add("has-image");
    node.style.removeProperty("--avatar-hue");
  } else {
    node.replaceChildren(initials(displayName(userid)));
    node.classList.remove("has-image");
    node.style.setProperty("--avatar-hue", String(hue(userid)));
  }
}

/** A person's avatar: their image, or initials on a colour derived from the user id. Decorative (aria-hidden). */
export function avatarElement(userid, size = "") {
  const node = el("span", { class: `avatar${size ? ` ${size}` : ""}`, "aria-hidden": "true", "data-avatar": userid });
  fillAvatar(node, userid);
  lookUp(userid);
  return node;
}

/** An avatar as it would look with `url` (null: the initials), for previews; it does not follow the profile. */
export function avatarPreview(userid, url, size = "") {
  const node = el("span", { class: `avatar${size ? ` ${size}` : ""}`, "aria-hidden": "true" });
  fillAvatar(node, userid, url);
  return node;
}

/** A person's name as text that follows their profile. */
export function nameElement(userid, props = {}) {
  const node = el("span", { ...props, "data-name": userid }, displayName(userid));
  lookUp(userid);
  return node;
}

/** Learn (or update) profiles, e.g. from a member list; every shown name and avatar follows. */
export function remember(...profiles) {
  for (const { userid, name, avatar } of profiles) {
    if (typeof userid !== "string" || typeof name !== "string") continue;
    const before = known.get(userid);
    asked.add(userid);
    if (before && before.name === name && before.avatar === (avatar || null)) continue;
    known.set(userid, { name, avatar: avatar || null });
    for (const node of document.querySelectorAll(`[data-name="${CSS.escape(userid)}"]`)) node.textContent = name;
    for (const node of document.querySelectorAll(`[data-avatar="${CSS.escape(userid)}"]`)) fillAvatar(node, userid);
  }
}

/** Ask the server for a profile the page does not know yet (once per person). */
export async function lookUp(userid) {
  if (typeof userid !== "string" || asked.has(userid)) return;
  asked.add(userid);
  try {
    const res = await api("GET", `/v1/users/${encodeURIComponent(userid)}`);
    if (res.ok) remember(res.data);
  } catch {
    asked.delete(userid); // offline: ask again the next time the person is shown
  }
}

/** Forget everyone (logging out). */
export function forgetPeople() {
  known.clear();
  asked.clear();
}
