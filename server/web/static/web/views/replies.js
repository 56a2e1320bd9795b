// Replies: the quote of the parent inside a reply's bubble (a click goes to the
// parent), the "Replying to ..." bar above the composer, and the link to a message's
// thread.

import { h, icon } from "../dom.js";

function snippet(text, length = 120) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

/** The parent's quote in a reply's bubble, or null. */
export function quoteInBubble(msg, handlers) {
  const parent = msg.reply_to;
  if (!parent) return null;
  const text = parent.deleted ? "Message deleted" : snippet(parent.content) || "Attachment";
  return h(
    "button.reply-quote",
    {
      type: "button",
      class: parent.deleted ? "deleted" : "",
      dataset: { parentId: parent.id },
      aria: { label: `Reply to ${parent.sender_name || "a message"}: ${text}. Show the message` },
      onclick: () => handlers.onQuote(msg, parent.id),
    },
    h("span.reply-quote-sender", {}, parent.sender_name || "Deleted user"),
    h("span.reply-quote-text", {}, text),
  );
}

/** "2 replies" under a message whose replies are loaded, or null. */
export function repliesLink(msg, count, handlers) {
  if (!count) return null;
  return h(
    "button.link-button.replies-link",
    { type: "button", onclick: () => handlers.onThread(msg) },
    icon("thread", "inline-icon"),
    count === 1 ? "1 reply" : `${count} replies`,
  );
}

/** The bar above the composer while a reply is being written. */
export function createReplyBar({ onCancel }) {
  const who = h("span.reply-bar-sender");
  const text = h("span.reply-bar-text");
  const cancel = h(
    "button.icon-button.small",
    { type: "button", aria: { label: "Cancel the reply" }, title: "Cancel reply", onclick: () => onCancel() },
    icon("close"),
  );
  const el = h(
    "div.reply-bar",
    { id: "reply-bar", hidden: true, role: "status" },
    icon("reply", "inline-icon"),
    h("div.reply-bar-body", {}, h("span.reply-bar-label", {}, "Replying to "), who, text),
    cancel,
  );
  return {
    el,
    show(msg) {
      el.hidden = !msg;
      if (!msg) return;
      who.textContent = msg.sender_name || "Deleted user";
      text.textContent = snippet(msg.content) || (msg.attachment_name ? msg.attachment_name : "Attachment");
    },
  };
}
