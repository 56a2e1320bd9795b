// The store's side of SPEC 10 (reactions, pins, the member's own view of a
// conversation), applied from state.js's one dispatcher and from REST answers.
//
//   conv.memberView   {notificationLevel, mutedUntil, muted, archived, pinned, unreadMentions}
//   msg.reactions     [{emoji, count, me}] in order of first use
//   msg.pinned        bool

import { store, touch } from "./state.js";

const EMPTY_VIEW = { notificationLevel: "all", mutedUntil: null, muted: false, archived: false, pinned: false, unreadMentions: 0 };

export function newMemberView() {
  return { ...EMPTY_VIEW };
}

/** Copy the member's own fields of a conversation JSON (those it has). */
export function readMemberView(conv, json) {
  const view = conv.memberView || newMemberView();
  if (typeof json.notification_level === "string") view.notificationLevel = json.notification_level;
  if ("muted_until" in json) view.mutedUntil = json.muted_until;
  if (typeof json.muted === "boolean") view.muted = json.muted;
  if (typeof json.archived === "boolean") view.archived = json.archived;
  if (typeof json.pinned === "boolean") view.pinned = json.pinned;
  if (typeof json.unread_mentions === "number") view.unreadMentions = json.unread_mentions;
  conv.memberView = view;
}

/** The message mentions this user. */
export function mentionsMe(msg) {
  return Boolean(store.me && Array.isArray(msg.mentions) && msg.mentions.some((id) => String(id) === String(store.me.id)));
}

/** Unread mentions left once the read pointer moved (only loaded messages are known). */
export function recountMentions(conv) {
  const left = conv.messages
    ? [...conv.messages.values()].filter((m) => m.id > conv.lastReadId && mentionsMe(m)).length
    : 0;
  conv.memberView.unreadMentions = Math.min(conv.memberView.unreadMentions, left);
}

/** Muted now: `muted_until` is in the future (the server's `muted` was true when sent). */
export function isMuted(conv) {
  const view = conv.memberView;
  if (!view || !view.mutedUntil) return false;
  return Date.parse(view.mutedUntil) > Date.now();
}

/** Quiet: muted now, or set to notify of nothing. Its unread messages still show in
 * the list, but not in the window title. */
export function isSilenced(conv) {
  return isMuted(conv) || conv.memberView.notificationLevel === "none";
}

/**
 * A message JSON from a frame sent to everyone says `me: false` for every reaction:
 * keep what this client knows about its own reactions. REST answers (`viewer`) are
 * already from this user's point of view.
 */
export function keepOwnReactions(known, incoming) {
  if (!known || !Array.isArray(incoming.reactions) || !Array.isArray(known.reactions)) return incoming;
  const mine = new Set(known.reactions.filter((r) => r.me).map((r) => r.emoji));
  if (!mine.size) return incoming;
  return { ...incoming, reactions: incoming.reactions.map((r) => (mine.has(r.emoji) ? { ...r, me: true } : r)) };
}

function findMessage(conv, id) {
  if (conv.messages && conv.messages.has(id)) return conv.messages.get(id);
  return null;
}

/** `reaction.added` / `reaction.removed`: adjust the count (and `me` for our own). */
export function applyReaction(conv, frame) {
  const msg = findMessage(conv, frame.message_id);
  if (!msg) return;
  const mine = store.me && frame.user === store.me.id;
  const reactions = Array.isArray(msg.reactions) ? msg.reactions.map((r) => ({ ...r })) : [];
  let entry = reactions.find((r) => r.emoji === frame.emoji);
  if (frame.type === "reaction.added") {
    if (mine && entry && entry.me) return; // the REST answer or the ack already counted it
    if (!entry) {
      entry = { emoji: frame.emoji, count: 0, me: false };
      reactions.push(entry);
    }
    entry.count += 1;
    if (mine) entry.me = true;
  } else {
    if (!entry || (mine && !entry.me)) return;
    entry.count -= 1;
    if (mine) entry.me = false;
  }
  conv.messages.set(msg.id, { ...msg, reactions: reactions.filter((r) => r.count > 0) });
  touch(`messages:${conv.id}`);
}

/** `message.unpinned` carries only the id. */
export function applyUnpin(conv, messageId) {
  const msg = findMessage(conv, messageId);
  if (msg && msg.pinned) {
    conv.messages.set(msg.id, { ...msg, pinned: false });
    touch(`messages:${conv.id}`);
  }
  touch(`pins:${conv.id}`);
}

/** A deleted parent: the quotes of its loaded replies say so (the frame has only its id). */
export function quoteParentDeleted(conv, parentId) {
  if (!conv.messages) return;
  for (const msg of conv.messages.values()) {
    if (msg.reply_to && msg.reply_to.id === parentId && !msg.reply_to.deleted) {
      conv.messages.set(msg.id, { ...msg, reply_to: { ...msg.reply_to, content: "", deleted: true } });
      touch(`messages:${conv.id}`);
    }
  }
}
