// What the server tells the page about itself, in data- attributes of #app.

const app = document.getElementById("app");

export const PAGE_SIZE = 50;
export const MESSAGE_MAX = 4000;
export const IMAGE_MAX_BYTES = Number(app.dataset.imageMaxBytes);
/** Who was signed in when the page was served ({user, name, avatar}, as GET /auth/me), or null. */
export const SIGNED_IN = app.dataset.me ? JSON.parse(app.dataset.me) : null;

const IMAGE_URL = new RegExp(
  "^" + app.dataset.imageBase.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "/images/[0-9a-f]{64}\\.(png|jpe?g|gif|webp)$");

/** Whether a text is this service's own image URL (only those are shown as images). */
export function isImageUrl(text) { return IMAGE_URL.test(text); }
