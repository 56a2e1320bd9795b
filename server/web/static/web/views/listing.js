// A compact, read-only row for a message shown outside the history (pins, a thread,
// the edit history): sender, time, text with its links.

import { h } from "../dom.js";
import { formatFull, formatTime, parseDate } from "../format.js";
import { linkify } from "../linkify.js";

export function messageRow(msg, { actions = [], className = "" } = {}) {
  const date = parseDate(msg.timestamp);
  return h(
    "li.listed-message",
    { class: className, dataset: { id: msg.id } },
    h(
      "div.listed-head",
      {},
      h("span.listed-sender", {}, msg.sender_name || "Deleted user"),
      date ? h("time", { datetime: msg.timestamp, title: formatFull(date) }, formatTime(date)) : null,
    ),
    msg.content ? h("p.text", {}, linkify(msg.content)) : null,
    msg.attachment_name ? h("p.muted.listed-file", {}, msg.attachment_name) : null,
    actions.length ? h("div.listed-actions", {}, actions) : null,
  );
}
