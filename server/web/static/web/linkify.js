// Message text with its links made clickable, built from text nodes and <a> elements
// (never HTML strings). Only http:, https: and mailto: become links; anything else,
// `javascript:` and `data:` included, stays plain text. Links open in a new tab with
// rel="noopener noreferrer", so the opened page can neither reach this one
// (window.opener) nor learn its URL (Referer).

import { h } from "./dom.js";

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);
// A candidate runs to the next whitespace; the trailing punctuation of the sentence it
// ends is trimmed afterwards.
const CANDIDATE = /\b(?:https?:\/\/|mailto:)[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'"»”’]+$/;

/** Trim what ends a sentence rather than the URL, keeping balanced brackets. */
function trimUrl(raw) {
  let url = raw.replace(TRAILING, "");
  for (const [open, close] of [["(", ")"], ["[", "]"], ["{", "}"]]) {
    while (url.endsWith(close) && url.split(open).length < url.split(close).length) {
      url = url.slice(0, -1).replace(TRAILING, "");
    }
  }
  return url;
}

/** The URL to link to, or null if `text` must stay text. */
export function safeHref(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (!SAFE_PROTOCOLS.has(url.protocol)) return null;
  if (url.protocol !== "mailto:" && !url.hostname) return null;
  return url.href;
}

/** Text and link nodes for `text`, to append to a paragraph. */
export function linkify(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const raw = trimUrl(match[0]);
    const href = safeHref(raw);
    if (!href) continue;
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    nodes.push(h("a.message-link", { href, target: "_blank", rel: "noopener noreferrer" }, raw));
    last = match.index + raw.length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}
