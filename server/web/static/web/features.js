// What the user can do with SPEC 10's features: react, reply, mention, pin, read the
// edit history and the thread, and change their own view of a conversation. Writes go
// over the socket when it has the command (reactions), else REST; answers are applied
// to the store like every other message JSON.

import * as api from "./api.js";
import { socket } from "./actions.js";
import { SocketError } from "./socket.js";
import { store, touch, upsertConversation, upsertMessage } from "./state.js";

const CONV = "/api/chat/conversations/";
const MSG = "/api/chat/messages/";
const TRANSPORT_ERRORS = new Set(["not_connected", "disconnected", "timeout", "closed"]);

/** The reactions offered by the picker: one tap each. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🎉", "👀", "🙏"];

async function overSocketOrRest(frame, rest) {
  if (socket.isOpen) {
    try {
      const ack = await socket.request(frame);
      return ack.message;
    } catch (error) {
      if (!(error instanceof SocketError) || !TRANSPORT_ERRORS.has(error.code)) throw error;
    }
  }
  return rest();
}

function apply(message) {
  if (message && typeof message === "object" && "id" in message) upsertMessage(message);
  return message;
}

// --- Reactions ---------------------------------------------------------------------------

export async function react(msg, emoji) {
  return apply(
    await overSocketOrRest(
      { type: "reaction.add", conversation: msg.conversation, message_id: msg.id, emoji },
      () => api.request("POST", `${MSG}${msg.id}/reactions/`, { json: { emoji } }),
    ),
  );
}

export async function unreact(msg, emoji) {
  return apply(
    await overSocketOrRest(
      { type: "reaction.remove", conversation: msg.conversation, message_id: msg.id, emoji },
      () => api.request("DELETE", `${MSG}${msg.id}/reactions/`, { query: { emoji } }),
    ),
  );
}

/** Tap on a reaction: add it, or take it back if it is already mine. */
export function toggleReaction(msg, emoji) {
  const mine = (msg.reactions || []).some((r) => r.emoji === emoji && r.me);
  return mine ? unreact(msg, emoji) : react(msg, emoji);
}

// --- Pins, history, threads --------------------------------------------------------------

export async function setPinned(msg, pinned) {
  const json = await api.request("POST", `${MSG}${msg.id}/${pinned ? "pin" : "unpin"}/`);
  apply(json);
  touch(`pins:${msg.conversation}`);
  return json;
}

export const pins = (conversationId) => api.request("GET", `${CONV}${conversationId}/pins/`).then((b) => b.results);
export const editHistory = (messageId) => api.request("GET", `${MSG}${messageId}/history/`).then((b) => b.results);

/** One page of the replies to a message, oldest first (`after` pages on). */
export const threadPage = (messageId, { after, limit = 50 } = {}) =>
  api.request("GET", `${MSG}${messageId}/thread/`, { query: { after, limit } });

/** Who may pin here: admins in a group, either side in a direct chat. */
export function canPin(conv) {
  if (conv.kind !== "group") return true;
  const mine = store.me && conv.members.get(store.me.id);
  return Boolean(mine && mine.role === "admin");
}

// --- The member's own view of a conversation ----------------------------------------------

/** PATCH `me/` with any of notification_level, muted_until, archived, pinned. */
export async function updateMemberView(conversationId, changes) {
  return upsertConversation(await api.request("PATCH", `${CONV}${conversationId}/me/`, { json: changes }));
}

/** `muted_until` for "mute for `hours`" (null: until I unmute, a date far ahead). */
export function muteUntil(hours) {
  if (hours === null) return "9999-12-31T00:00:00Z";
  return new Date(Date.now() + hours * 3600 * 1000).toISOString();
}

// --- Mentions --------------------------------------------------------------------------------

/** Members whose `@username` appears in `text` (a word boundary after the name). */
export function mentionedMembers(conv, text) {
  const ids = [];
  for (const member of conv.members.values()) {
    if (store.me && member.id === store.me.id) continue;
    const escaped = member.username.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    if (new RegExp(`(^|[^\\w@])@${escaped}(?![\\w@.+-])`, "i").test(text)) ids.push(member.id);
  }
  return ids;
}

// --- Archived conversations ------------------------------------------------------------------

/** The list leaves archived conversations out; this brings them in (first 50). */
export async function loadArchived() {
  const page = await api.listConversations({ archived: true });
  for (const json of page.results) {
    socket.advance(json.id, json.last_seq);
    upsertConversation(json);
  }
  store.showArchived = true;
  touch("conversations");
}

export function hideArchived() {
  store.showArchived = false;
  touch("conversations");
}
