// The open conversation: header, history (newest at the bottom, older pages loaded on
// scroll up, the reader's position kept), typing line, and the composer.

import { avatar, h, icon, replaceChildren } from "../dom.js";
import { conversationName, messageList, others, store, typingNames } from "../state.js";
import { timeline } from "../tombstones.js";
import * as actions from "../actions.js";
import { createComposer } from "./composer.js";
import { featureHandlers, headerTools } from "./feature-handlers.js";
import { reconcile } from "./messages.js";
import { toast } from "./toast.js";

const NEAR_BOTTOM_PX = 80;
const LOAD_OLDER_PX = 200;

export function createPane({ onBack, onDetails, onConfirm, onImage }) {
  let conv = null;
  let editingId = null;
  let cache = new Map();
  let stickToBottom = true; // the reader's intent, from scroll events (for images loading later)
  let forceBottom = true; // one-shot: the next render ends at the newest message

  const back = h(
    "button.icon-button.back",
    { type: "button", id: "back", aria: { label: "Back to conversations" }, onclick: onBack },
    icon("back"),
  );
  const headAvatar = h("span.head-avatar");
  const title = h("h2.conversation-title", { id: "conversation-title" });
  const subtitle = h("p.conversation-subtitle", { id: "conversation-subtitle" });
  const details = h(
    "button.icon-button",
    { type: "button", id: "conversation-details", aria: { label: "Conversation details and members" } },
    icon("people"),
  );
  details.addEventListener("click", () => conv && onDetails(conv.id));
  const tools = headerTools({ getConv: () => conv, goTo: (id) => handlers.goTo(id) });
  const header = h("header.pane-header", {}, back, headAvatar, h("div.pane-titles", {}, title, subtitle), tools.el, details);

  const historyTop = h("div.history-top", { id: "history-top" });
  const list = h("ol.message-list", { id: "message-list" });
  const scroller = h(
    "div.messages",
    // Not role="log": rows are re-rendered when a tick or an edit changes, and a log
    // would read them out again. New messages are announced by `announcer` instead.
    { id: "messages", role: "region", tabindex: "0", aria: { label: "Messages" } },
    historyTop,
    list,
  );
  const typing = h("div.typing", { id: "typing", aria: { live: "polite" } });
  const announcer = h("div.visually-hidden", { id: "announcer", aria: { live: "polite" } });
  let announcedId = 0;

  const composer = createComposer({
    onSend: () => {
      stickToBottom = true;
      forceBottom = true;
    },
    onEditLast: (msg) => handlers.onEdit(msg),
  });

  const empty = h(
    "div.pane-empty",
    { id: "pane-empty" },
    icon("chat", "empty-icon"),
    h("h2", {}, "Your messages"),
    h("p.muted", {}, "Pick a conversation, or start a new one."),
  );
  const body = h(
    "div.pane-body",
    { hidden: true },
    header,
    scroller,
    typing,
    announcer,
    composer.error,
    composer.above,
    composer.form,
    composer.hint,
  );
  composer.acceptDrops(body);
  const el = h("section.pane", { aria: { label: "Conversation" } }, empty, body);

  const handlers = {
    onEdit: (msg) => {
      editingId = msg.id;
      renderMessages();
    },
    onEditDone: () => {
      editingId = null;
      renderMessages();
      composer.focus();
    },
    onEditSave: async (msg, content) => {
      if (!content.trim() && !msg.attachment) {
        handlers.onDelete(msg);
        return;
      }
      try {
        if (content !== msg.content) await actions.editMessage(conv.id, msg.id, content);
        handlers.onEditDone();
      } catch (e) {
        toast(`Could not edit: ${e.message}`, "error");
      }
    },
    onDelete: async (msg) => {
      if (!(await onConfirm("Delete this message for everyone?", "Delete"))) return;
      try {
        await actions.deleteMessage(conv.id, msg.id);
        if (editingId === msg.id) editingId = null;
      } catch (e) {
        toast(`Could not delete: ${e.message}`, "error");
      }
    },
    onImage: (msg) => onImage(msg),
    onMediaLoaded: () => {
      if (stickToBottom) scrollToBottom();
    },
    onError: (text) => toast(text, "error"),
  };
  Object.assign(handlers, featureHandlers({ getConv: () => conv, composer, scroller }));

  // --- Scrolling ------------------------------------------------------------------------

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  scroller.addEventListener("scroll", () => {
    stickToBottom = nearBottom();
    if (stickToBottom) markRead();
    if (scroller.scrollTop < LOAD_OLDER_PX) loadOlder();
  });

  async function loadOlder() {
    if (!conv || !conv.hasOlder || conv.loadingOlder) return;
    const id = conv.id;
    try {
      await actions.loadOlder(id);
    } catch (e) {
      toast(`Could not load older messages: ${e.message}`, "error");
      return;
    }
    // Still at the top with more to load (a short page or a tall screen): keep going.
    if (conv && conv.id === id && scroller.scrollTop < LOAD_OLDER_PX && conv.hasOlder) requestAnimationFrame(loadOlder);
  }

  /** Read up to the newest message of others, when the user can actually see it. */
  function markRead() {
    if (!conv || document.visibilityState !== "visible" || !nearBottom()) return;
    const msgs = messageList(conv);
    for (let i = msgs.length - 1; i >= 0; i -= 1) {
      if (msgs[i].sender !== store.me.id) {
        if (msgs[i].id > conv.lastReadId) actions.markRead(conv.id, msgs[i].id);
        return;
      }
    }
  }
  document.addEventListener("visibilitychange", markRead);

  // --- Rendering ------------------------------------------------------------------------

  function renderHeader() {
    if (!conv) return;
    const name = conversationName(conv);
    title.textContent = name;
    replaceChildren(headAvatar, avatar(name));
    tools.render();
    if (conv.kind === "group") {
      subtitle.textContent = `${conv.members.size} member${conv.members.size === 1 ? "" : "s"}`;
    } else {
      const other = others(conv)[0];
      const presence = other ? store.presence.get(other.id) : undefined; // unknown until the server says
      subtitle.textContent = presence === true ? "Online" : presence === false ? "Offline" : "";
      subtitle.classList.toggle("online", presence === true);
    }
  }

  function renderMessages() {
    if (!conv) return;
    // Measured now, not cached: a frame may render before a pending scroll event runs.
    const wasAtBottom = forceBottom || nearBottom();
    forceBottom = false;
    const anchor = [...list.children].find((li) => li.dataset.id);
    const anchorTop = anchor ? anchor.offsetTop : 0;
    const pending = [...store.outbox.values()].filter((item) => item.conversation === conv.id);
    reconcile(list, conv, timeline(conv), pending, { editingId, handlers, cache });
    if (!conv.historyLoaded) historyTop.textContent = "Loading messages…";
    else if (conv.loadingOlder) historyTop.textContent = "Loading older messages…";
    else if (conv.hasOlder) historyTop.textContent = "";
    else historyTop.textContent = conv.messages && conv.messages.size ? "This is the beginning of the conversation." : "No messages yet. Say hello!";
    if (wasAtBottom) scrollToBottom();
    else if (anchor && anchor.isConnected) scroller.scrollTop += anchor.offsetTop - anchorTop;
    markRead();
  }

  /** Read out messages from others that arrived while this conversation is open. */
  function announce() {
    const fresh = messageList(conv).filter((m) => m.id > announcedId);
    if (!fresh.length) return;
    announcedId = fresh[fresh.length - 1].id;
    const lines = fresh
      .filter((m) => m.sender !== store.me.id)
      .map((m) => `${m.sender_name}: ${[m.content, m.attachment_name].filter(Boolean).join(" ")}`);
    if (lines.length) announcer.textContent = lines.join(". ");
  }

  function renderTyping() {
    if (!conv) return;
    const names = typingNames(conv);
    typing.textContent =
      names.length === 0
        ? ""
        : names.length === 1
          ? `${names[0]} is typing…`
          : names.length === 2
            ? `${names[0]} and ${names[1]} are typing…`
            : "Several people are typing…";
  }

  function show(id) {
    if (conv && id === conv.id && store.conversations.get(id) === conv) return;
    conv = id === null ? null : store.conversations.get(id) || null;
    composer.setConversation(conv);
    editingId = null;
    cache = new Map();
    list.replaceChildren();
    announcer.textContent = "";
    announcedId = Number.MAX_SAFE_INTEGER; // nothing is new until the history is in
    stickToBottom = true;
    forceBottom = true;
    empty.hidden = Boolean(conv);
    body.hidden = !conv;
    if (!conv) return;
    renderHeader();
    renderTyping();
    renderMessages();
    const target = conv.id;
    actions
      .openHistory(target)
      .then(() => {
        if (conv && conv.id === target) {
          const loaded = messageList(conv);
          announcedId = loaded.length ? loaded[loaded.length - 1].id : 0;
          renderMessages();
          if (scroller.scrollTop < LOAD_OLDER_PX) loadOlder();
        }
      })
      .catch((e) => toast(`Could not load messages: ${e.message}`, "error"));
  }

  function update(topics) {
    if (!conv) return;
    if (!store.conversations.has(conv.id)) {
      show(null);
      return;
    }
    const id = conv.id;
    if (topics.has(`conversation:${id}`) || topics.has("presence")) renderHeader();
    if (topics.has(`messages:${id}`) || topics.has(`outbox:${id}`) || topics.has(`conversation:${id}`)) renderMessages();
    if (topics.has(`messages:${id}`) && conv.historyLoaded) announce();
    if (topics.has(`typing:${id}`) || topics.has(`conversation:${id}`)) renderTyping();
  }

  return {
    el,
    show,
    update,
    current: () => (conv ? conv.id : null),
    focusComposer: () => composer.focus(),
  };
}
