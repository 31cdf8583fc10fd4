// The message formatter's grammar (static/js/markdown.js), run by `node --test` from tests/test_client_js.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import { emojiOnly, parse, safeUrl } from "../../static/js/markdown.js";

/** Every node of a tree, depth first. */
function* walk(nodes) {
  for (const node of nodes) {
    yield node;
    if (node.c) yield* walk(node.c);
    if (node.items) for (const item of node.items) yield* walk(item);
  }
}

const text = (nodes) => [...walk(nodes)].map((n) => n.v ?? n.text ?? "").join("");

test("the subset: bold, italic, strike, code, blocks, quotes, lists, breaks, links", () => {
  assert.deepEqual(parse("**b** *i* _i_ ~~s~~ `c`")[0].c.map((n) => n.t), ["b", "text", "i", "text", "i", "text", "s", "text", "code"]);
  assert.deepEqual(parse("one\ntwo")[0].c, [{ t: "text", v: "one\ntwo" }]); // shown as a line break
  assert.deepEqual(parse("```py\nx = 1\n```"), [{ t: "pre", text: "x = 1", lang: "py" }]);
  assert.equal(parse("> said\n>> before")[0].t, "quote");
  assert.equal(parse("> said\n>> before")[0].c[1].t, "quote");
  assert.deepEqual(parse("- a\n- b").map((n) => [n.t, n.items.length]), [["ul", 2]]);
  assert.deepEqual(parse("1. a\n2. b").map((n) => [n.t, n.items.length]), [["ol", 2]]);
  const [link] = parse("see https://example.com/a_(b), ok")[0].c.filter((n) => n.t === "a");
  assert.equal(link.href, "https://example.com/a_(b)");
  assert.equal(parse("[docs](https://example.com)")[0].c[0].href, "https://example.com/");
});

test("snake_case, escapes and stray markers stay text", () => {
  assert.equal(text(parse("snake_case_name")), "snake_case_name");
  assert.deepEqual(parse("\\*not\\*")[0].c, [{ t: "text", v: "*not*" }]);
  assert.deepEqual(parse("2 * 3 * 4")[0].c, [{ t: "text", v: "2 * 3 * 4" }]);
  assert.deepEqual(parse("a ** b")[0].c, [{ t: "text", v: "a ** b" }]);
});

test("mentions: <@email> and a plain @email, never an email inside a word", () => {
  const nodes = parse("hi <@Bob@Example.com> and @ann@example.com, not me@example.com")[0].c;
  assert.deepEqual(nodes.filter((n) => n.t === "mention").map((n) => n.u), ["bob@example.com", "ann@example.com"]);
});

test("only http, https and mailto become links", () => {
  for (const bad of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x", "vbscript:x", "file:///etc/passwd", " javascript:x"]) {
    assert.equal(safeUrl(bad), null, bad);
    const links = [...walk(parse(`[x](${bad}) ${bad}`))].filter((n) => n.t === "a");
    assert.deepEqual(links, [], bad);
  }
  assert.equal(safeUrl("mailto:ann@example.com"), "mailto:ann@example.com");
});

const HOSTILE = [
  "<script>window.__pwned = 1</script>",
  "<img src=x onerror=alert(1)>",
  "&lt;script&gt;alert(1)&lt;/script&gt;",
  "&#x3C;script&#x3E;",
  "[click](javascript:alert(1))",
  "[click](data:text/html;base64,PHNjcmlwdD4=)",
  "[x](https://ok.example/\"onmouseover=\"alert(1))",
  "```\nunterminated <b>code",
  "`unterminated code",
  "**".repeat(2000),
  "*a".repeat(2000),
  "_".repeat(4000),
  "[".repeat(4000),
  "[a](".repeat(800),
  "> ".repeat(4000) + "deep",
  Array.from({ length: 4000 }, () => ">").join("\n"),
  "@".repeat(4000),
  "<@" + "a".repeat(3990) + ">",
  "https://" + "a".repeat(3990),
  "~~".repeat(2000),
  "\\".repeat(4000),
  "\u202egnp.exe\u202c \u200b\u200d",
  "🎉".repeat(1000),
];

test("hostile input: no markup, no unsafe link, nothing hangs", () => {
  for (const input of HOSTILE) {
    const started = performance.now();
    const tree = parse(input);
    const spent = performance.now() - started;
    assert.ok(spent < 250, `${input.slice(0, 30)}: ${spent} ms`);
    for (const node of walk(tree)) {
      assert.ok(["p", "pre", "quote", "ul", "ol", "b", "i", "s", "code", "text", "a", "mention"].includes(node.t));
      if (node.t === "a") assert.ok(["http:", "https:", "mailto:"].includes(new URL(node.href).protocol));
    }
  }
  assert.equal(text(parse("<script>x</script>")), "<script>x</script>"); // shown as the text it is
});

test("emoji-only messages", () => {
  assert.ok(emojiOnly("🎉"));
  assert.ok(emojiOnly(" 👍🏽 🎉 "));
  assert.ok(emojiOnly("👨‍👩‍👧"));
  assert.ok(!emojiOnly("hi 🎉"));
  assert.ok(!emojiOnly("123"));
  assert.ok(!emojiOnly(""));
});
