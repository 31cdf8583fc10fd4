// Search snippets (static/js/snippet.js), run by `node --test` from tests/test_client_js.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import { snippet } from "../../static/js/snippet.js";

const shown = (pieces) => pieces.map((p) => (p.mark ? `[${p.text}]` : p.text)).join("");

test("highlights become marked pieces, the rest plain", () => {
  assert.deepEqual(snippet("the café opens", [[4, 8]]), [
    { text: "the ", mark: false }, { text: "café", mark: true }, { text: " opens", mark: false },
  ]);
  assert.equal(shown(snippet("deploy the thing", [[0, 6], [7, 10]])), "[deploy] [the] thing");
  assert.equal(shown(snippet("no match here", [])), "no match here");
});

test("ranges count code points, so emoji before a match do not shift it", () => {
  assert.equal(shown(snippet("🚀🚀 launch 北京出差", [[10, 14]])), "🚀🚀 launch [北京出差]");
  assert.equal(shown(snippet("明天去北京出差", [[3, 7]])), "明天去[北京出差]");
});

test("a long message is cut around its first match, at a word, with ellipses", () => {
  const text = `${"word ".repeat(40)}target ${"tail ".repeat(60)}`;
  const start = text.indexOf("target");
  const out = shown(snippet(text, [[start, start + 6]], { context: 20, length: 60 }));
  assert.match(out, /^…word .*\[target\] tail .*…$/);
  assert.ok(out.length <= 64);
});

test("line breaks show as spaces and bad ranges are ignored", () => {
  assert.equal(shown(snippet("one\ntwo", [[4, 7]])), "one [two]");
  assert.equal(shown(snippet("abc", [[2, 1], ["x", 2], [1, 99]])), "a[bc]");
});

test("emphasis marks are left out, keeping the highlights in place", () => {
  assert.equal(shown(snippet("**Café** au `lait`", [[2, 6], [13, 17]])), "[Café] au [lait]");
  assert.equal(shown(snippet("2*3 and snake_case", [])), "2*3 and snake_case");
});
