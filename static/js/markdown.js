// Messages are Markdown source rendered as a small safe subset, by parsing: parse() turns text into a
// tree of plain objects (formatted.js builds DOM nodes from it with createElement and textContent only).
// No HTML string is ever built or parsed, so user text can never become markup.
//
// Blocks: paragraphs (a newline stays a line break: paragraphs keep their white space), ``` code blocks (unterminated: to the end),
// > quotes (nested up to MAX_DEPTH), - * + and 1. lists. Inline: `code`, **bold** / __bold__,
// *italic* / _italic_, ~~strike~~, [text](url), bare http(s)/mailto URLs, mentions (<@email> or
// @email), and backslash escapes. Links open in a new tab with rel="noopener noreferrer".

const MAX_DEPTH = 8; // quote and emphasis nesting; deeper markers stay text
const SCHEMES = ["http:", "https:", "mailto:"];
const BARE_URL = /(?:https?:\/\/|mailto:)[^\s<>]+/iy;
const EMAIL_TEXT = "[^\\s@<>()[\\]`*_~]{1,64}@[^\\s@<>()[\\]`*_~]+\\.[^\\s@<>()[\\]`*_~.,;:!?'\"]+";
const EMAIL = new RegExp(EMAIL_TEXT, "y");
const IS_EMAIL = new RegExp(`^${EMAIL_TEXT}$`);
const TICKS = /`+/y;
const LINK = /\[([^\]\n]{1,500})\]\(([^()\s]{1,2000})\)/y;
const MENTION = /<@([^\s<>]{3,254})>/y;
const FENCE = /^ {0,3}```/;
const BULLET = /^ {0,3}[-*+] +/;
const NUMBER = /^ {0,3}\d{1,9}[.)] +/;
const QUOTE = /^ {0,3}> ?/;
const PUNCTUATION = "\\`*_~[]()<>@#!.+-{}|\"'";
const EMOJI_ONLY = /^(?:\p{Extended_Pictographic}|\p{Emoji_Component}|\p{Emoji_Modifier}|\u200d|\ufe0f|\s)+$/u;

/** The URL if it is one a message may link to (http, https, mailto), else null. */
export function safeUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  return SCHEMES.includes(url.protocol) ? url.href : null;
}

/** True when a message is nothing but a few emoji (shown large). */
export function emojiOnly(text) {
  const trimmed = text.trim();
  return trimmed.length > 0 && trimmed.length <= 48 && EMOJI_ONLY.test(trimmed) && /\p{Extended_Pictographic}/u.test(trimmed);
}

/** The block tree of a message's text. */
export function parse(text) {
  return blocks(text.replace(/\r\n?/g, "\n").split("\n"), 0);
}

function blocks(lines, depth) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (FENCE.test(line)) {
      const lang = line.replace(FENCE, "").trim().slice(0, 20);
      const body = [];
      i += 1;
      while (i < lines.length && !FENCE.test(lines[i])) body.push(lines[i++]);
      i += 1; // the closing fence, if any
      out.push({ t: "pre", text: body.join("\n"), lang });
    } else if (QUOTE.test(line) && depth < MAX_DEPTH) {
      const body = [];
      while (i < lines.length && QUOTE.test(lines[i])) body.push(lines[i++].replace(QUOTE, ""));
      out.push({ t: "quote", c: blocks(body, depth + 1) });
    } else if (BULLET.test(line) || NUMBER.test(line)) {
      const marker = BULLET.test(line) ? BULLET : NUMBER;
      const items = [];
      while (i < lines.length && marker.test(lines[i])) items.push(inline(lines[i++].replace(marker, ""), 0));
      out.push({ t: marker === BULLET ? "ul" : "ol", items });
    } else if (line.trim() === "") {
      i += 1;
    } else {
      const body = [];
      while (i < lines.length && lines[i].trim() !== "" && !FENCE.test(lines[i])
        && !(QUOTE.test(lines[i]) && depth < MAX_DEPTH) && !BULLET.test(lines[i]) && !NUMBER.test(lines[i])) {
        body.push(lines[i++]);
      }
      out.push({ t: "p", c: inline(body.join("\n"), 0) });
    }
  }
  return out;
}

/** A sticky pattern's match at `at`, or null. */
function match(pattern, text, at) {
  pattern.lastIndex = at;
  return pattern.exec(text);
}

const isSpace = (ch) => ch === undefined || /\s/.test(ch);
const isWord = (ch) => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);

/** Where a delimiter run closes emphasis opened at `from`, or -1. */
function closing(text, delim, from) {
  let at = text.indexOf(delim, from);
  while (at !== -1) {
    const before = text[at - 1];
    const after = text[at + delim.length];
    const flanks = !isSpace(before) && (delim[0] !== "_" || !isWord(after));
    if (at > from && flanks) return at;
    at = text.indexOf(delim, at + 1);
  }
  return -1;
}

/** The inline nodes of a run of text. */
export function inline(text, depth) {
  const out = [];
  let plain = "";
  const flush = () => {
    if (plain) out.push({ t: "text", v: plain });
    plain = "";
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "\\" && PUNCTUATION.includes(text[i + 1] || "\n")) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === "`") {
      const run = match(TICKS, text, i)[0];
      const end = text.indexOf(run, i + run.length);
      if (end !== -1) {
        flush();
        out.push({ t: "code", v: text.slice(i + run.length, end) });
        i = end + run.length;
        continue;
      }
      plain += run;
      i += run.length;
      continue;
    }
    const emphasis = depth < MAX_DEPTH && emphasisAt(text, i);
    if (emphasis) {
      flush();
      out.push({ t: emphasis.t, c: inline(text.slice(i + emphasis.delim.length, emphasis.end), depth + 1) });
      i = emphasis.end + emphasis.delim.length;
      continue;
    }
    if (ch === "[") {
      const link = match(LINK, text, i);
      const href = link && safeUrl(link[2]);
      if (href) {
        flush();
        out.push({ t: "a", href, c: depth < MAX_DEPTH ? inline(link[1], depth + 1) : [{ t: "text", v: link[1] }] });
        i += link[0].length;
        continue;
      }
    }
    if (ch === "<" && text[i + 1] === "@") {
      const mention = match(MENTION, text, i);
      if (mention && IS_EMAIL.test(mention[1])) {
        flush();
        out.push({ t: "mention", u: mention[1].toLowerCase(), raw: mention[0] });
        i += mention[0].length;
        continue;
      }
    }
    if (ch === "@" && !isWord(text[i - 1])) {
      const email = match(EMAIL, text, i + 1);
      if (email) {
        flush();
        out.push({ t: "mention", u: email[0].toLowerCase(), raw: `@${email[0]}` });
        i += 1 + email[0].length;
        continue;
      }
    }
    const bare = /[hm]/i.test(ch) && !isWord(text[i - 1]) && match(BARE_URL, text, i);
    if (bare) {
      const url = trimUrl(bare[0]);
      const href = safeUrl(url);
      if (href) {
        flush();
        out.push({ t: "a", href, c: [{ t: "text", v: url }] });
        i += url.length;
        continue;
      }
    }
    plain += ch;
    i += 1;
  }
  flush();
  return out;
}

/** Emphasis opening at i: {t, delim, end} or null. */
function emphasisAt(text, i) {
  for (const [delim, t] of [["**", "b"], ["__", "b"], ["~~", "s"], ["*", "i"], ["_", "i"]]) {
    if (!text.startsWith(delim, i)) continue;
    const after = text[i + delim.length];
    if (isSpace(after) || after === delim[0]) continue;
    if (delim[0] === "_" && isWord(text[i - 1])) continue; // snake_case stays as it is
    const end = closing(text, delim, i + delim.length);
    if (end !== -1) return { t, delim, end };
  }
  return null;
}

/** A bare URL without the punctuation that ends its sentence (and an unbalanced closing bracket). */
function trimUrl(url) {
  let end = url.length;
  while (end > 0 && ".,;:!?'\"".includes(url[end - 1])) end -= 1;
  let trimmed = url.slice(0, end);
  while (trimmed.endsWith(")") && (trimmed.match(/\(/g) || []).length < (trimmed.match(/\)/g) || []).length) {
    trimmed = trimmed.slice(0, -1);
  }
  return trimmed;
}
