// The conversation list: name, last message, time, unread badge, presence; latest
// activity first.

import { avatar, h, icon, replaceChildren } from "../dom.js";
import { formatListStamp, parseDate } from "../format.js";
import { conversationName, others, sortedConversations, store } from "../state.js";
import * as actions from "../actions.js";
import * as features from "../features.js";
import { listMarks } from "./feature-handlers.js";
import { isBlocked } from "./block.js";

function preview(conv) {
  const msg = conv.lastMessage;
  if (!msg) return [conv.kind === "group" ? "Group created" : "No messages yet"];
  const mine = store.me && msg.sender === store.me.id;
  if (!mine && (msg.sender_blocked || isBlocked(msg.sender))) return ["Message from a user you blocked"];
  const who = mine ? "You: " : conv.kind === "group" ? `${msg.sender_name}: ` : "";
  const text = [msg.attachment_name, msg.content].filter(Boolean).join(" ").replace(/\s+/g, " ");
  return [who, msg.attachment_name ? icon("attach", "inline-icon") : null, text];
}

export function createSidebar({ onOpen, onNewChat, onNewGroup }) {
  const filter = h("input.search", {
    type: "search",
    id: "conversation-filter",
    placeholder: "Filter conversations",
    aria: { label: "Filter conversations" },
    autocomplete: "off",
  });
  const list = h("ul.conversation-list", { id: "conversation-list", aria: { label: "Conversations" } });
  const empty = h(
    "div.empty-list",
    { hidden: true },
    h("p", {}, "No conversations yet."),
    h("p.muted", {}, "Start a chat with someone by their username, or create a group."),
  );
  const more = h("button.link-button.load-more", { type: "button", hidden: true }, "Show older conversations");
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      await actions.loadConversations({ more: true });
    } finally {
      more.disabled = false;
    }
  });
  const archivedToggle = h("button.link-button.load-more", { type: "button", id: "archived-toggle" }, "Show archived conversations");
  archivedToggle.addEventListener("click", () =>
    (store.showArchived ? Promise.resolve(features.hideArchived()) : features.loadArchived()).catch(() => {}),
  );
  const meName = h("span.me-name", { id: "me-name" });
  const status = h("span.connection", { id: "connection", role: "status", aria: { live: "polite" } });
  const logout = h(
    "button.icon-button",
    { type: "button", id: "logout", title: "Log out", aria: { label: "Log out" } },
    icon("logout"),
  );
  logout.addEventListener("click", () => actions.logout());
  const newChat = h(
    "button.secondary",
    { type: "button", id: "new-chat", onclick: onNewChat },
    icon("chat"),
    h("span", {}, "New chat"),
  );
  const newGroup = h(
    "button.secondary",
    { type: "button", id: "new-group", onclick: onNewGroup },
    icon("people"),
    h("span", {}, "New group"),
  );
  const meAvatar = h("span.me-avatar");

  const el = h(
    "aside.sidebar",
    { aria: { label: "Conversations" } },
    h(
      "header.sidebar-header",
      {},
      meAvatar,
      h("div.me", {}, meName, status),
      logout,
    ),
    h("div.sidebar-actions", {}, newChat, newGroup),
    h("div.sidebar-filter", {}, filter),
    h("nav.conversations", { aria: { label: "Conversation list" } }, list, empty, more, archivedToggle),
  );

  const items = new Map(); // conversation id -> li

  function item(conv) {
    const name = conversationName(conv);
    const active = store.openId === conv.id;
    const unread = active ? 0 : conv.unread;
    const other = conv.kind === "direct" ? others(conv)[0] : null;
    const online = other ? store.presence.get(other.id) === true : false;
    const stamp = conv.lastMessage ? parseDate(conv.lastMessage.timestamp) : parseDate(conv.updatedAt);
    const label = [name, unread ? `${unread} unread` : "", online ? "online" : ""].filter(Boolean).join(", ");
    const button = h(
      "button.conversation",
      {
        type: "button",
        dataset: { id: conv.id, kind: conv.kind },
        aria: { current: active ? "true" : null, label },
        onclick: () => onOpen(conv.id),
      },
      h("span.avatar-wrap", {}, avatar(name), online ? h("span.presence-dot", { title: "Online" }) : null),
      h(
        "span.conversation-body",
        {},
        h(
          "span.conversation-top",
          {},
          h("span.conversation-name", {}, name),
          listMarks(conv),
          stamp ? h("time.conversation-time", { datetime: stamp.toISOString() }, formatListStamp(stamp)) : null,
        ),
        h(
          "span.conversation-bottom",
          {},
          h("span.conversation-preview", {}, ...preview(conv)),
          unread ? h("span.badge", { aria: { hidden: "true" } }, unread > 99 ? "99+" : String(unread)) : null,
        ),
      ),
    );
    return h("li", { class: unread ? "unread" : "", dataset: { pinned: conv.memberView.pinned, archived: conv.memberView.archived } }, button);
  }

  function render() {
    if (store.me) {
      meName.textContent = store.me.username;
      replaceChildren(meAvatar, avatar(store.me.username));
    }
    const query = filter.value.trim().toLowerCase();
    const convs = sortedConversations({ archived: store.showArchived }).filter(
      (c) =>
        !query ||
        conversationName(c).toLowerCase().includes(query) ||
        [...c.members.values()].some((m) => m.username.toLowerCase().includes(query)),
    );
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement : null;
    const focusedId = focused && focused.dataset ? focused.dataset.id : null;
    items.clear();
    replaceChildren(
      list,
      convs.map((c) => {
        const li = item(c);
        items.set(c.id, li);
        return li;
      }),
    );
    if (focusedId) {
      const again = list.querySelector(`button[data-id="${CSS.escape(focusedId)}"]`);
      if (again) again.focus();
    }
    empty.hidden = store.conversations.size > 0;
    more.hidden = !store.moreConversations;
    archivedToggle.textContent = store.showArchived ? "Hide archived conversations" : "Show archived conversations";
  }

  const STATES = {
    connecting: "Connecting…",
    open: "Connected",
    waiting: "Reconnecting…",
    offline: "Offline",
    closed: "Disconnected",
  };

  function renderConnection() {
    const { state, retryIn } = store.connection;
    status.dataset.state = state;
    let text = STATES[state] || state;
    if (state === "waiting" && retryIn >= 2000) text = `Reconnecting in ${Math.round(retryIn / 1000)} s…`;
    status.textContent = text;
  }

  filter.addEventListener("input", render);
  return { el, render, renderConnection, focusFilter: () => filter.focus() };
}
