// The page's count of mentions as messages arrive (static/js/mentions.js) agrees with the server's rule.
import assert from "node:assert/strict";
import { test } from "node:test";

import { mentionsMe } from "../../static/js/mentions.js";

const BOB = "bob@example.com";

test("the plain and the page's forms mention, in any case, before punctuation", () => {
  for (const text of ["hey @bob@example.com look", "@Bob@Example.com.", "<@bob@example.com> hi", "(@bob@example.com)"]) {
    assert.equal(mentionsMe(text, BOB, 3), true, text);
  }
});

test("an address inside a word, a longer address or mail without @ does not", () => {
  for (const text of ["x@bob@example.com", "@bob@example.community", "mail bob@example.com", "", null]) {
    assert.equal(mentionsMe(text, BOB, 3), false, String(text));
  }
});

test("@room mentions everyone only in rooms up to 100 members", () => {
  assert.equal(mentionsMe("@room lunch", BOB, 100), true);
  assert.equal(mentionsMe("@room lunch", BOB, 101), false);
  assert.equal(mentionsMe("@roomy", BOB, 3), false);
});
