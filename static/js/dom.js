// Small DOM and wording helpers. User data goes in only as text or as DOM properties, never as HTML.

export const $ = (id) => document.getElementById(id);

/** An element with properties set and children appended (strings become text nodes). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("aria-") || key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function show(node, visible) { node.hidden = !visible; }

export function seconds(n) { return n === 1 ? "1 second" : `${n} seconds`; }

export function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

export function megabytes(bytes) { return `${(bytes / 1048576).toFixed(1)} MB`; }

export function timeLabel(t) {
  const date = new Date(t);
  const sameDay = date.toDateString() === new Date().toDateString();
  const clock = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return sameDay ? clock : `${date.toLocaleDateString([], { month: "short", day: "numeric" })} ${clock}`;
}

export function timeElement(t) {
  return el("time", { dateTime: t, title: new Date(t).toLocaleString(), class: "time" }, timeLabel(t));
}

/** A client id for a message, reused by every retry of it. */
export function newCid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A Retry / Discard pair of link buttons for a failed pending item. */
export function failureButtons(item, retry) {
  for (const button of item.querySelectorAll(".meta button")) button.remove();
  const status = item.querySelector(".status");
  if (retry) status.after(el("button", { type: "button", class: "link", onclick: retry }, "Retry"));
  item.querySelector(".meta").append(el("button", { type: "button", class: "link", onclick: () => item.remove() }, "Discard"));
}
