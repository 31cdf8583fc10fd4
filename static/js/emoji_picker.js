// A small emoji picker: the reader's recent reactions first (kept in localStorage), then a few common
// ones. One picker for the page, opened beside the button that asked for it; Escape or a click outside closes it.
import { el } from "chat/dom";

const KEY = "chat.recentEmoji";
const RECENT_MAX = 8;
const COMMON = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "🔥", "✅", "👎", "🤔"];

export function recentEmoji() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(list) ? list.filter((e) => typeof e === "string").slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}

export function rememberEmoji(emoji) {
  const list = [emoji, ...recentEmoji().filter((e) => e !== emoji)].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
    // Storage full or off: the picker just shows the common ones.
  }
}

let open = null; // {panel, close}

export function closePicker() { if (open) open.close(); }

/** Show the picker beside `anchor`; `picked(emoji)` when one is chosen. */
export function openPicker(anchor, picked) {
  closePicker();
  const recent = recentEmoji();
  const choices = [...recent, ...COMMON.filter((e) => !recent.includes(e))];
  const button = (emoji) => el("button", {
    type: "button", class: "emoji-choice", "aria-label": `React with ${emoji}`, title: emoji,
    onclick: () => { close(); rememberEmoji(emoji); picked(emoji); },
  }, emoji);
  const panel = el("div", { class: "emoji-picker", role: "dialog", "aria-label": "Pick a reaction" },
    recent.length ? el("p", { class: "picker-label" }, "Recent") : null,
    el("div", { class: "emoji-grid" }, ...choices.map(button)));
  document.body.append(panel);
  const box = anchor.getBoundingClientRect();
  const width = panel.offsetWidth;
  const height = panel.offsetHeight;
  const left = Math.max(8, Math.min(box.right - width, window.innerWidth - width - 8));
  const top = box.top - height - 6 > 8 ? box.top - height - 6 : Math.min(box.bottom + 6, window.innerHeight - height - 8);
  panel.style.left = `${left}px`;
  panel.style.top = `${top}px`;
  const onKey = (event) => { if (event.key === "Escape") { event.preventDefault(); close(); anchor.focus(); } };
  const onDown = (event) => { if (!panel.contains(event.target) && event.target !== anchor) close(); };
  function close() {
    panel.remove();
    document.removeEventListener("keydown", onKey, true);
    document.removeEventListener("pointerdown", onDown, true);
    open = null;
  }
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("pointerdown", onDown, true);
  open = { panel, close };
  panel.querySelector("button").focus();
}
