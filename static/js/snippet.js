// A search result's snippet: the part of a message around what matched, as plain and marked pieces.
// Pure (no DOM), so Node tests it; the search box turns the pieces into text nodes and <mark> elements.

export const CONTEXT = 40; // characters shown before the first match
export const LENGTH = 180; // characters shown in all

/**
 * `text` cut to about `length` characters around its first highlight, as [{text, mark}] pieces, with "…"
 * where it was cut. `highlights` are the API's sorted [start, end) ranges in code points (Python indices),
 * so the text is counted with Array.from, never in UTF-16 units. Line breaks show as spaces.
 */
export function snippet(text, highlights, { context = CONTEXT, length = LENGTH } = {}) {
  const chars = Array.from(String(text), (c) => (/\s/.test(c) ? " " : c));
  const hidden = markup(chars);
  const ranges = (Array.isArray(highlights) ? highlights : [])
    .filter((r) => Array.isArray(r) && Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] < r[1])
    .map(([a, b]) => [Math.max(0, a), Math.min(chars.length, b)]);
  let start = ranges.length ? Math.max(0, ranges[0][0] - context) : 0;
  if (start > 0) {
    // Begin at a word's start when one is near, rather than in the middle of a word.
    const space = chars.slice(start, ranges[0][0]).indexOf(" ");
    if (space >= 0 && space < 12) start += space + 1;
  }
  const end = Math.min(chars.length, start + length);
  const pieces = [];
  const add = (from, to, mark) => {
    if (to <= from) return;
    const piece = chars.slice(from, to).filter((_, i) => !hidden.has(from + i)).join("");
    if (!piece) return;
    const last = pieces[pieces.length - 1];
    if (last && last.mark === mark) last.text += piece;
    else pieces.push({ text: piece, mark });
  };
  let at = start;
  for (const [a, b] of ranges) {
    if (b <= at || a >= end) continue;
    add(at, Math.max(at, a), false);
    add(Math.max(at, a), Math.min(b, end), true);
    at = Math.min(b, end);
  }
  add(at, end, false);
  if (start > 0) pieces.unshift({ text: "…", mark: false });
  if (end < chars.length) pieces.push({ text: "…", mark: false });
  return pieces;
}

/** Positions of Markdown emphasis marks (`**`, `__`, `~~` runs and backticks) the snippet leaves out, as the
 * message itself shows them as style, not text. Counted per code point, so highlights keep their places. */
function markup(chars) {
  const hidden = new Set();
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === "`") hidden.add(i);
    else if ("*_~".includes(chars[i]) && chars[i + 1] === chars[i]) {
      let j = i;
      while (chars[j] === chars[i]) hidden.add(j++);
      i = j - 1;
    }
  }
  return hidden;
}
