// The caller's mentions: the "@" button beside the search box opens a panel of the
// messages that mention them (GET /api/chat/mentions/), newest first, a page at a
// time; "Older mentions" follows the page's `next`, whose `before` is the cursor. A
// click opens the conversation at the message exactly as a search hit does (openAt)
// and closes the panel; so do Esc and the button again.
//
// Message text is shown through text nodes only (h()'s string children), never
// innerHTML, so markup in a message stays text.

import * as api from "../api.js";
import { h, icon } from "../dom.js";
import { formatFull, formatListStamp, parseDate } from "../format.js";
import { conversationName, store } from "../state.js";
import { openAt } from "./search.js";
import { toast } from "./toast.js";

const PAGE_SIZE = 20;
const EXCERPT_CHARS = 140;

/** The message as one short line: its text (or file name), spaces folded, cut at EXCERPT_CHARS. */
export function excerpt(msg) {
  const chars = [...[msg.content, msg.attachment_name].filter(Boolean).join(" ").replace(/\s+/g, " ").trim()];
  if (!chars.length) return "(no text)";
  return chars.length > EXCERPT_CHARS ? `${chars.slice(0, EXCERPT_CHARS - 1).join("")}…` : chars.join("");
}

/** The `before` cursor of a page's `next` URL, or null on the last page. */
function olderCursor(page) {
  return page.next ? new URL(page.next, location.href).searchParams.get("before") : null;
}

/** `onOpen(id)` opens a conversation; `onShow()` runs as the panel opens (to close others). */
export function createMentionsList({ onOpen, onShow = () => {} }) {
  const toggle = h(
    "button.icon-button.mentions-toggle",
    {
      type: "button",
      id: "mentions-toggle",
      title: "Mentions",
      aria: { label: "Mentions", expanded: "false", controls: "mentions-panel" },
    },
    icon("at"),
  );
  const status = h("p.mentions-status.muted", { id: "mentions-status", role: "status", aria: { live: "polite" } });
  const list = h("ul.mentions-results", { id: "mentions-results", aria: { label: "Messages that mention you" } });
  const older = h("button.link-button.load-more", { type: "button", id: "mentions-older", hidden: true }, "Older mentions");
  const close = h("button.link-button", { type: "button", id: "mentions-close" }, "Close mentions");
  const panel = h(
    "section.mentions-panel",
    { id: "mentions-panel", hidden: true, aria: { label: "Mentions" } },
    status,
    list,
    older,
    close,
  );
  let before = null; // the cursor of the next older page
  let generation = 0; // answers to an earlier opening are dropped

  function hide() {
    generation += 1;
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    list.replaceChildren();
    before = null;
  }

  function show() {
    onShow();
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    list.replaceChildren();
    before = null;
    load();
  }

  function entry(msg) {
    const conv = store.conversations.get(msg.conversation);
    const where = conv ? conversationName(conv) : "Conversation";
    const date = parseDate(msg.timestamp);
    const stamp = formatListStamp(date);
    const text = excerpt(msg);
    const open = async () => {
      hide();
      try {
        const shown = await openAt(msg.conversation, msg.id, onOpen);
        if (!shown) toast("That message is too far back to show.");
      } catch (e) {
        toast(`Could not open the conversation: ${e.message}`, "error");
      }
    };
    return h(
      "li.mention-entry",
      {},
      h(
        "button.mention-entry-button",
        {
          type: "button",
          dataset: { messageId: msg.id, conversation: msg.conversation },
          aria: { label: `${msg.sender_name} in ${where}, ${stamp}: ${text}` },
          onclick: open,
        },
        h(
          "span.mention-entry-head",
          {},
          h("strong.mention-conversation", {}, where),
          h(
            "span.muted",
            {},
            " · ",
            h("span.mention-sender", {}, msg.sender_name),
            " · ",
            h("time", { datetime: date.toISOString(), title: formatFull(date) }, stamp),
          ),
        ),
        h("span.mention-text", {}, text),
      ),
    );
  }

  async function load() {
    const mine = ++generation;
    const cursor = before;
    status.textContent = cursor ? "Loading older mentions…" : "Loading mentions…";
    older.hidden = true;
    try {
      const page = await api.mentionsPage({ before: cursor, limit: PAGE_SIZE });
      if (mine !== generation) return;
      list.append(...page.results.map(entry));
      before = olderCursor(page);
      const count = list.children.length;
      status.textContent = count ? `${count}${before ? "+" : ""} mention${count === 1 ? "" : "s"}` : "No mentions yet.";
    } catch (e) {
      if (mine !== generation) return;
      status.textContent = `Could not load your mentions: ${e.message}`;
    }
    older.hidden = !before; // after a failure too: a second try
  }

  function closeAndRefocus(event) {
    if (event.key !== "Escape" || panel.hidden) return;
    event.preventDefault();
    hide();
    toggle.focus();
  }

  toggle.addEventListener("click", () => (panel.hidden ? show() : hide()));
  toggle.addEventListener("keydown", closeAndRefocus);
  panel.addEventListener("keydown", closeAndRefocus);
  older.addEventListener("click", () => before && load());
  close.addEventListener("click", () => {
    hide();
    toggle.focus();
  });
  return { toggle, panel, hide };
}
