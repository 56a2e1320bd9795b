// The pane's handlers for SPEC 10's features, and the header's buttons for the
// conversation's pins and its settings. Kept out of pane.js, which only merges them.

import { h, icon } from "../dom.js";
import * as actions from "../actions.js";
import * as features from "../features.js";
import { isMuted, isSilenced } from "../chatstate.js";
import { store } from "../state.js";
import { conversationMenu } from "./conversation-menu.js";
import { editHistoryDialog } from "./edit-history.js";
import { pinsDialog } from "./pins.js";
import { threadDialog } from "./thread.js";
import { toast } from "./toast.js";

const MAX_PAGES_TO_FIND = 20;

/** getConv(): the open conversation; composer: the pane's; scroller: the history. */
export function featureHandlers({ getConv, composer, scroller }) {
  const run = async (what, fn) => {
    try {
      await fn();
    } catch (e) {
      toast(`Could not ${what}: ${e.message}`, "error");
    }
  };

  /** Scroll to a message, loading older pages until it is there; flash it. */
  async function goTo(messageId) {
    const conv = getConv();
    if (!conv) return;
    let row = scroller.querySelector(`#m-${messageId}`);
    for (let n = 0; !row && n < MAX_PAGES_TO_FIND && conv.hasOlder; n += 1) {
      await actions.loadOlder(conv.id);
      await new Promise((resolve) => requestAnimationFrame(resolve));
      row = scroller.querySelector(`#m-${messageId}`);
    }
    if (!row) {
      toast("That message is no longer in the conversation.");
      return;
    }
    row.scrollIntoView({ block: "center" });
    row.classList.remove("flash");
    void row.offsetWidth; // restart the animation
    row.classList.add("flash");
    const target = row.querySelector(".bubble");
    if (target) {
      target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
    }
  }

  return {
    onReply: (msg) => composer.setReply(msg),
    onQuote: (_msg, parentId) => goTo(parentId),
    onToggleReaction: (msg, emoji) => run("react", () => features.toggleReaction(msg, emoji)),
    onReact: (msg, emoji) => run("react", () => features.react(msg, emoji)),
    onPin: (msg, pinned) => run(pinned ? "pin the message" : "unpin the message", () => features.setPinned(msg, pinned)),
    onHistory: (msg) => editHistoryDialog(msg),
    onThread: (msg) => threadDialog(msg, { onReply: (parent) => composer.setReply(parent), onGoTo: goTo }),
    goTo,
  };
}

/** The header's "Pinned messages" and "Conversation settings" buttons. */
export function headerTools({ getConv, goTo }) {
  const pins = h(
    "button.icon-button",
    { type: "button", id: "conversation-pins", title: "Pinned messages", aria: { label: "Pinned messages" } },
    icon("pin"),
  );
  pins.addEventListener("click", () => getConv() && pinsDialog(getConv(), { onGoTo: goTo }));
  const settings = h(
    "button.icon-button",
    { type: "button", id: "conversation-settings", title: "Notifications, mute, pin, archive", aria: { label: "Conversation settings" } },
    icon("bell"),
  );
  settings.addEventListener("click", () => getConv() && conversationMenu(getConv().id));

  function render() {
    const conv = getConv();
    if (!conv) return;
    const muted = isMuted(conv);
    settings.replaceChildren(icon(isSilenced(conv) ? "muted" : "bell"));
    settings.dataset.muted = muted ? "true" : "false";
  }
  return { el: [pins, settings], render };
}

/** Marks for the conversation list: pinned, muted, unread mentions. */
export function listMarks(conv) {
  const view = conv.memberView;
  return [
    view.pinned ? h("span.list-mark.pinned", { title: "Pinned", role: "img", aria: { label: "Pinned" } }, icon("pin")) : null,
    isMuted(conv) ? h("span.list-mark.muted", { title: "Muted", role: "img", aria: { label: "Muted" } }, icon("muted")) : null,
    view.unreadMentions > 0 && store.openId !== conv.id
      ? h("span.mention-badge", { title: `${view.unreadMentions} unread mentions`, aria: { label: `${view.unreadMentions} unread mentions` } }, "@")
      : null,
  ];
}
