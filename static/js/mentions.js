// Whether a message mentions the reader, as the server counts it: the room list counts mentions as
// messages arrive, and a hidden page decides what to notify of.

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether a message's text mentions the user: `<@user>`, `@user` or `@room` (as the server counts them). */
export function mentionsMe(text, user, members) {
  if (typeof text !== "string" || !text.includes("@")) return false;
  const lower = text.toLowerCase();
  const plain = new RegExp(`(^|[^\\w@])@${escapeRegExp(user)}(?![\\w@-]|\\.\\w)`);
  if (lower.includes(`<@${user}>`) || plain.test(lower)) return true;
  return members <= 100 && /(^|[^\w@])@room\b/.test(lower);
}
