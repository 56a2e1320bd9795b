// The client's state, and the one place that applies server frames to it:
// `applyFrame` has a single `switch (frame.type)` over every frame type of
// docs/websocket.md. REST responses feed the same helpers (upsertMessage, ...), so a
// message looks the same however it arrived, and applying anything twice is harmless.
//
//   store.conversations   id -> conversation (summary, members, read pointers,
//                         loaded messages, typing)
//   store.outbox          client_id -> a message being sent (shown as pending)
//   subscribe(fn)         fn(topics) after each batch of changes, topics a Set of
//                         "conversations", "messages:<id>", "conversation:<id>",
//                         "typing:<id>", "presence", "connection", "outbox:<id>",
//                         "pins:<id>"

import * as chat from "./chatstate.js";
import { addTombstone } from "./tombstones.js";

export const store = {
  me: null,
  conversations: new Map(),
  moreConversations: null, // URL of the next page of the list, or null
  openId: null,
  presence: new Map(), // user id -> online
  connection: { state: "closed", retryIn: 0 },
  outbox: new Map(),
};

const TYPING_TTL_MS = 6000;
const subscribers = new Set();
let dirty = new Set();
let hooks = { missingConversation: () => {}, verify: () => {}, resync: () => {}, removed: () => {} };

export function setHooks(next) {
  hooks = { ...hooks, ...next };
}

export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

export function touch(topic) {
  if (dirty.size === 0) {
    queueMicrotask(() => {
      const topics = dirty;
      dirty = new Set();
      for (const fn of subscribers) fn(topics);
    });
  }
  dirty.add(topic);
}

export function reset() {
  store.me = null;
  store.conversations.clear();
  store.moreConversations = null;
  store.openId = null;
  store.presence.clear();
  store.outbox.clear();
  touch("conversations");
}

// --- Conversations ------------------------------------------------------------------------

function newConversation(id) {
  return {
    id,
    kind: "direct",
    title: "",
    members: new Map(),
    unread: 0,
    lastReadId: 0,
    lastMessage: null,
    updatedAt: "",
    lastSeq: 0,
    messages: null, // Map id -> message once the history was opened
    hasOlder: false,
    deletedIds: new Set(),
    tombstones: new Map(), // id -> {id, sender, sender_name, timestamp} of a deleted message
    typing: new Map(), // user id -> {username, until}
    memberView: chat.newMemberView(), // this user's own settings for it (chatstate.js)
  };
}

/** Merge a REST conversation JSON (list, detail or a frame) into the store. */
export function upsertConversation(json, { summary = true } = {}) {
  let conv = store.conversations.get(json.id);
  const fresh = !conv;
  if (!conv) {
    conv = newConversation(json.id);
    store.conversations.set(json.id, conv);
  }
  // A snapshot older than what frames already told us must not roll the summary back.
  const stale = !fresh && typeof json.last_seq === "number" && json.last_seq < conv.lastSeq;
  conv.kind = json.kind || conv.kind;
  if (!stale) {
    if (typeof json.title === "string") conv.title = json.title;
    if (Array.isArray(json.members)) {
      const members = new Map();
      for (const m of json.members) {
        const known = conv.members.get(m.id);
        members.set(m.id, {
          id: m.id,
          username: m.username,
          role: m.role,
          lastReadId: Math.max(m.last_read_message_id || 0, known ? known.lastReadId : 0),
        });
      }
      conv.members = members;
    }
    if (summary) {
      if (typeof json.unread_count === "number") conv.unread = json.unread_count;
      if ("last_message" in json) conv.lastMessage = json.last_message;
      if (json.updated_at && json.updated_at > conv.updatedAt) conv.updatedAt = json.updated_at;
    }
    if (typeof json.last_seq === "number") conv.lastSeq = Math.max(conv.lastSeq, json.last_seq);
  }
  chat.readMemberView(conv, json);
  if (typeof json.last_read_message_id === "number") conv.lastReadId = Math.max(conv.lastReadId, json.last_read_message_id);
  if (store.me) {
    const mine = conv.members.get(store.me.id);
    if (mine) mine.lastReadId = Math.max(mine.lastReadId, conv.lastReadId);
  }
  if (Array.isArray(json.messages) && conv.messages) {
    for (const m of json.messages) upsertMessage(m, { live: false });
  }
  touch("conversations");
  touch(`conversation:${conv.id}`);
  return conv;
}

export function dropConversation(id) {
  const conv = store.conversations.get(id);
  if (!conv) return;
  store.conversations.delete(id);
  for (const [key, item] of store.outbox) if (item.conversation === id) store.outbox.delete(key);
  hooks.removed(id);
  touch("conversations");
  touch(`conversation:${id}`);
}

/** Pinned ones first, then latest activity first; archived ones only if asked for. */
export function sortedConversations({ archived = false } = {}) {
  return [...store.conversations.values()]
    .filter((c) => archived || !c.memberView.archived)
    .sort((a, b) =>
      a.memberView.pinned !== b.memberView.pinned
        ? (a.memberView.pinned ? -1 : 1)
        : a.updatedAt === b.updatedAt
          ? b.id - a.id
          : a.updatedAt < b.updatedAt
            ? 1
            : -1,
    );
}

export function others(conv) {
  return [...conv.members.values()].filter((m) => !store.me || m.id !== store.me.id);
}

/** A direct conversation shows the other person; a group its title or its members. */
export function conversationName(conv) {
  if (conv.kind === "group") {
    if (conv.title) return conv.title;
    const names = others(conv).map((m) => m.username);
    return names.length ? names.join(", ") : "Empty group";
  }
  const other = others(conv)[0];
  return other ? other.username : "Direct chat";
}

export function isAdmin(conv) {
  const mine = store.me && conv.members.get(store.me.id);
  return Boolean(mine && mine.role === "admin");
}

// --- Messages ---------------------------------------------------------------------------

/** Insert or replace a message (idempotent). `live` marks a new message for unread counts;
 * `broadcast`: it came in a frame sent to every member (reactions' `me` is not ours). */
export function upsertMessage(msg, { live = false, broadcast = false } = {}) {
  const conv = store.conversations.get(msg.conversation);
  if (!conv) {
    hooks.missingConversation(msg.conversation);
    return;
  }
  if (broadcast && conv.messages) msg = chat.keepOwnReactions(conv.messages.get(msg.id), msg);
  if (msg.is_deleted) {
    removeMessage(conv.id, msg.id, msg);
    return;
  }
  if (conv.deletedIds.has(msg.id)) return;
  const newest = conv.lastMessage ? conv.lastMessage.id : 0;
  if (live && msg.id > newest && store.me && msg.sender !== store.me.id && msg.id > conv.lastReadId) {
    conv.unread += 1;
    if (chat.mentionsMe(msg)) conv.memberView.unreadMentions += 1;
  }
  if (msg.id >= newest) {
    conv.lastMessage = msg;
    if (msg.timestamp > conv.updatedAt) conv.updatedAt = msg.timestamp;
    touch("conversations");
  }
  if (msg.client_id && store.outbox.has(msg.client_id)) {
    store.outbox.delete(msg.client_id);
    touch(`outbox:${conv.id}`);
  }
  if (conv.messages) {
    conv.messages.set(msg.id, msg);
    touch(`messages:${conv.id}`);
  }
  if (live && conv.typing.delete(msg.sender)) touch(`typing:${conv.id}`);
}

/** Forget a deleted message; where the history is open, a placeholder takes its place
 * (from the message as it was known, or `info`: the deleted message's own JSON). */
export function removeMessage(conversationId, messageId, info = null) {
  const conv = store.conversations.get(conversationId);
  if (!conv) return;
  const known = (conv.messages && conv.messages.get(messageId)) || (conv.lastMessage?.id === messageId && conv.lastMessage);
  addTombstone(conv, known || info);
  if (conv.deletedIds.has(messageId)) return;
  conv.deletedIds.add(messageId);
  chat.quoteParentDeleted(conv, messageId);
  if (messageId > conv.lastReadId && conv.unread > 0) {
    // The server no longer counts a deleted message as unread.
    if (!known) hooks.resync(conv.id);
    else if (store.me && known.sender !== store.me.id) conv.unread -= 1;
    touch("conversations");
  }
  if (conv.messages && conv.messages.delete(messageId)) touch(`messages:${conv.id}`);
  if (conv.lastMessage && conv.lastMessage.id === messageId) {
    const remaining = conv.messages ? [...conv.messages.values()] : [];
    conv.lastMessage = remaining.length ? remaining.reduce((a, b) => (a.id > b.id ? a : b)) : null;
    if (!conv.messages) hooks.resync(conv.id); // ask the server for the new preview
    touch("conversations");
  }
}

/** The loaded messages of a conversation, oldest first. */
export function messageList(conv) {
  return conv.messages ? [...conv.messages.values()].sort((a, b) => a.id - b.id) : [];
}

/** Read by everyone else: the server's flag, or every other member's pointer is past it. */
export function isReadByOthers(conv, msg) {
  if (msg.is_read) return true;
  const rest = [...conv.members.values()].filter((m) => m.id !== msg.sender);
  return rest.length > 0 && rest.every((m) => m.lastReadId >= msg.id);
}

function movePointer(conv, userId, messageId) {
  const member = conv.members.get(userId);
  if (member && messageId > member.lastReadId) member.lastReadId = messageId;
  if (store.me && userId === store.me.id && messageId > conv.lastReadId) {
    conv.lastReadId = messageId;
    touch("conversations");
  }
  touch(`messages:${conv.id}`);
}

// --- Typing and presence -------------------------------------------------------------------

export function typingNames(conv) {
  const now = Date.now();
  const names = [];
  for (const [id, entry] of conv.typing) {
    if (entry.until > now) names.push(entry.username);
    else conv.typing.delete(id);
  }
  return names;
}

function setPresence(user, online) {
  if (store.presence.get(user) === online) return;
  store.presence.set(user, online);
  touch("presence");
}

setInterval(() => {
  const now = Date.now();
  for (const conv of store.conversations.values()) {
    for (const [id, entry] of conv.typing) {
      if (entry.until <= now) {
        conv.typing.delete(id);
        touch(`typing:${conv.id}`);
      }
    }
  }
}, 1000);

export function setConnection(state, info = {}) {
  store.connection = { state, ...info };
  touch("connection");
}

// --- The dispatcher ------------------------------------------------------------------------

/** Apply one server frame. Durable frames were already de-duplicated by seq (socket.js). */
export function applyFrame(frame) {
  const conv = typeof frame.conversation === "number" ? store.conversations.get(frame.conversation) : null;
  if (conv && typeof frame.seq === "number") conv.lastSeq = Math.max(conv.lastSeq, frame.seq);
  switch (frame.type) {
    case "ready": {
      // Missing here: left or removed while away, or created while the socket opened
      // (then `conversation.created` follows). Ask the server which before dropping it.
      const present = new Set(Object.keys(frame.conversations || {}).map(Number));
      for (const id of store.conversations.keys()) if (!present.has(id)) hooks.verify(id);
      const unknown = [...present].filter((id) => !store.conversations.has(id));
      if (frame.reconnected || unknown.length) hooks.resync(null, unknown);
      const online = new Set(frame.online); // null: unknown; else the others we knew of left while we were away
      if (frame.online) for (const user of new Set([...store.presence.keys(), ...online])) setPresence(user, online.has(user));
      break;
    }
    case "message.created":
      upsertMessage(frame.message, { live: true, broadcast: true });
      break;
    case "message.updated":
      upsertMessage(frame.message, { live: false, broadcast: true });
      break;
    case "reaction.added":
    case "reaction.removed":
      if (conv) chat.applyReaction(conv, frame);
      break;
    case "message.pinned":
      upsertMessage(frame.message, { live: false, broadcast: true });
      if (conv) touch(`pins:${conv.id}`);
      break;
    case "message.unpinned":
      if (conv) chat.applyUnpin(conv, frame.message_id);
      break;
    case "message.deleted":
      removeMessage(frame.conversation, frame.message_id);
      break;
    case "message.read":
      if (conv) movePointer(conv, frame.user, frame.message_id);
      break;
    case "members.added":
      if (conv) {
        // The server starts new members with everything before their arrival read.
        const newest = Math.max(conv.lastMessage ? conv.lastMessage.id : 0, ...(conv.messages ? conv.messages.keys() : []));
        for (const u of frame.users) {
          if (!conv.members.has(u.id)) {
            conv.members.set(u.id, { id: u.id, username: u.username, role: "member", lastReadId: newest });
          }
        }
        touch("conversations");
        touch(`conversation:${conv.id}`);
      }
      break;
    case "member.removed":
      if (store.me && frame.user === store.me.id) {
        dropConversation(frame.conversation);
      } else if (conv) {
        conv.members.delete(frame.user);
        conv.typing.delete(frame.user);
        touch("conversations");
        touch(`conversation:${conv.id}`);
        touch(`messages:${conv.id}`);
      }
      break;
    case "conversation.renamed":
      if (conv) {
        conv.title = frame.title;
        touch("conversations");
        touch(`conversation:${conv.id}`);
      }
      break;
    case "conversation.created":
    case "conversation.updated":
      upsertConversation(frame.conversation);
      break;
    case "conversation.removed":
      dropConversation(frame.conversation.id);
      break;
    case "typing":
      if (conv && (!store.me || frame.user !== store.me.id)) {
        if (frame.is_typing) {
          conv.typing.set(frame.user, { username: frame.username, until: Date.now() + TYPING_TTL_MS });
          setPresence(frame.user, true); // only an open socket can type: the typist is online
        } else {
          conv.typing.delete(frame.user);
        }
        touch(`typing:${conv.id}`);
      }
      break;
    case "presence":
      setPresence(frame.user, frame.online);
      break;
    case "error":
      // Errors without a pending request: the server is about to close (token_expired,
      // session_ended); socket.js reconnects or ends the session.
      console.info("parley: server error frame", frame.code);
      break;
    case "ack":
    case "pong":
      break;
    default:
      console.info("parley: ignoring unknown frame type", frame.type);
  }
}
