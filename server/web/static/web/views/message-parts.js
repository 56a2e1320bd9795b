// The parts SPEC 10 adds to a message in the history: the parent's quote, the text
// with links and mentions, the pin mark, "edited" as a way to the edit history, the
// reactions and the thread link under the bubble, and the actions everyone has
// (reply, react, pin, thread).

import { h, icon } from "../dom.js";
import { formatFull, parseDate } from "../format.js";
import * as features from "../features.js";
import { linkify } from "../linkify.js";
import { highlightMentions } from "./mentions.js";
import { reactButton, reactionsRow } from "./reactions.js";
import { quoteInBubble, repliesLink } from "./replies.js";

export { quoteInBubble };

export function messageText(conv, msg) {
  return msg.content ? h("p.text", {}, highlightMentions(linkify(msg.content), conv, msg)) : null;
}

export function metaMarks(msg, handlers) {
  return [
    msg.pinned ? h("span.pin-mark", { role: "img", title: "Pinned", aria: { label: "Pinned" } }, icon("pin")) : null,
    msg.edited_at
      ? h(
          "button.edited",
          {
            type: "button",
            title: `Edited ${formatFull(parseDate(msg.edited_at))}. Show the edit history`,
            aria: { label: "Edited. Show the edit history" },
            onclick: () => handlers.onHistory(msg),
          },
          "edited",
        )
      : null,
  ];
}

export function underBubble(msg, replyCount, handlers) {
  return [reactionsRow(msg, handlers), repliesLink(msg, replyCount, handlers)];
}

export function everyoneActions(conv, msg, handlers) {
  const button = (name, label, title, onclick) =>
    h("button.icon-button.small", { type: "button", title, aria: { label }, onclick }, icon(name));
  return [
    button("reply", "Reply", "Reply", () => handlers.onReply(msg)),
    reactButton(msg, handlers),
    features.canPin(conv)
      ? button("pin", msg.pinned ? "Unpin message" : "Pin message", msg.pinned ? "Unpin" : "Pin", () =>
          handlers.onPin(msg, !msg.pinned),
        )
      : null,
    button("thread", "Show the thread", "Thread", () => handlers.onThread(msg)),
  ];
}

/** What a row shows of these parts, for the list's change detection. */
export function partsSignature(conv, msg, replyCount) {
  const reactions = (msg.reactions || []).map((r) => `${r.emoji}${r.count}${r.me ? "+" : ""}`).join(",");
  const quote = msg.reply_to ? `${msg.reply_to.id}:${msg.reply_to.deleted}:${msg.reply_to.content}` : "";
  return [reactions, msg.pinned, quote, replyCount, features.canPin(conv), conv.members.size].join("|");
}
