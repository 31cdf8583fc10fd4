// A message's formatted body: DOM nodes built from markdown.js's tree with createElement and
// textContent only, so user text never becomes markup. Links open in a new tab, without the opener.
import { parse, safeUrl } from "chat/markdown";

const TAGS = { p: "p", pre: "pre", quote: "blockquote", ul: "ul", ol: "ol", b: "strong", i: "em", s: "del", code: "code" };

/**
 * DOM nodes for a parsed tree. `options.name(userid)` gives a mentioned person's current name
 * (null: not someone we know, shown as written); `options.document` defaults to the page's.
 */
export function toDom(tree, options = {}) {
  const doc = options.document || document;
  const fragment = doc.createDocumentFragment();
  const add = (parent, nodes) => {
    for (const node of nodes) parent.append(build(node));
  };
  const build = (node) => {
    switch (node.t) {
      case "text":
        return doc.createTextNode(node.v);
      case "pre": {
        const pre = doc.createElement("pre");
        const code = doc.createElement("code");
        code.textContent = node.text;
        pre.append(code);
        return pre;
      }
      case "code": {
        const code = doc.createElement("code");
        code.textContent = node.v;
        return code;
      }
      case "ul":
      case "ol": {
        const list = doc.createElement(TAGS[node.t]);
        for (const item of node.items) {
          const li = doc.createElement("li");
          add(li, item);
          list.append(li);
        }
        return list;
      }
      case "a": {
        const a = doc.createElement("a");
        a.href = safeUrl(node.href) || "about:blank";
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        add(a, node.c);
        return a;
      }
      case "mention": {
        const name = options.name ? options.name(node.u) : null;
        const span = doc.createElement("span");
        span.className = name ? "mention" : "mention unknown";
        span.dataset.userid = node.u;
        span.textContent = name ? `@${name}` : node.raw;
        if (name) span.title = node.u;
        return span;
      }
      default: {
        const element = doc.createElement(TAGS[node.t]);
        add(element, node.c);
        return element;
      }
    }
  };
  add(fragment, tree);
  return fragment;
}

/** A message's text as DOM nodes (parse, then build). */
export function render(text, options = {}) {
  return toDom(parse(text), options);
}
