// What the user can do, and the session that ties REST, the socket and the store.
// Writes go over the socket when it is open (an `ack` means committed) and over REST
// otherwise; every message carries a client_id, so a retry after a dropped connection
// returns the first message instead of sending it twice.

import * as api from "./api.js";
import { revokeAttachments } from "./attachments.js";
import { recountMentions } from "./chatstate.js";
import { fileRefusal, overLimit } from "./errors.js";
import { ChatSocket } from "./socket.js";
import { fillTombstones, pageStartSeq } from "./tombstones.js";
import {
  applyFrame,
  dropConversation,
  removeMessage,
  reset,
  setConnection,
  setHooks,
  store,
  touch,
  upsertConversation,
  upsertMessage,
} from "./state.js";

const TRANSPORT_ERRORS = new Set(["not_connected", "disconnected", "timeout", "closed"]);
let sessionEnded = () => {};

export const socket = new ChatSocket({
  onFrame: (frame) => {
    applyFrame(frame);
    if (frame.type === "ready") flushOutbox();
  },
  onState: setConnection,
  onSessionEnded: () => endSession("Your session has ended. Log in again."),
});

/** Limits the page was served with (web/views.py fills them in from the settings). */
export const limits = (() => {
  const read = (name, fallback) => {
    const el = document.querySelector(`meta[name="${name}"]`);
    const value = el ? Number(el.getAttribute("content")) : NaN;
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return {
    attachmentBytes: read("parley-max-attachment-bytes", 25 * 1024 * 1024),
    contentLength: read("parley-max-content-length", 10000),
  };
})();

export function uid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// --- Session ------------------------------------------------------------------------------

export async function startSession(onEnded) {
  sessionEnded = onEnded;
  store.me = await api.me();
  await loadConversations();
  for (const conv of store.conversations.values()) socket.advance(conv.id, conv.lastSeq);
  socket.start();
}

export function endSession(reason) {
  socket.stop();
  reset();
  revokeAttachments();
  sessionEnded(reason);
}

export async function logout() {
  socket.stop();
  await api.logout(); // emits "logged-out", which ends the session
}

api.onAuthChange((kind) => {
  if (kind === "tokens") socket.tokenChanged();
  if (kind === "logged-out" && store.me) endSession("You have been logged out.");
});

// --- Conversations --------------------------------------------------------------------------

export async function loadConversations({ more = false } = {}) {
  const page = await api.listConversations(more && store.moreConversations ? { url: store.moreConversations } : {});
  for (const json of page.results) upsertConversation(json);
  store.moreConversations = page.next;
  touch("conversations");
  return page.results;
}

const pendingFetches = new Map();

/** Fetch one conversation (a frame named one we do not know, or a preview went stale). */
function refetchConversation(id) {
  if (pendingFetches.has(id)) return pendingFetches.get(id);
  const promise = api
    .getConversation(id, 1)
    .then((json) => upsertConversation(json))
    .catch((error) => {
      if (error.status === 403 || error.status === 404) dropConversation(id);
    })
    .finally(() => pendingFetches.delete(id));
  pendingFetches.set(id, promise);
  return promise;
}

let listResync = null;

setHooks({
  missingConversation: (id) => refetchConversation(id),
  verify: (id) => refetchConversation(id),
  resync: (id) => {
    if (id !== null) {
      refetchConversation(id);
      return;
    }
    // After a reconnect: conversations created while we were away sent no frame.
    if (!listResync) listResync = loadConversations().catch(() => {}).finally(() => (listResync = null));
  },
  removed: (id) => {
    if (store.openId === id) {
      store.openId = null;
      store.notice = "You are no longer in that conversation.";
      touch("route");
    }
  },
});

export async function startDirect(userId) {
  const json = await api.startDirect(userId);
  socket.advance(json.id, json.last_seq);
  return upsertConversation(json);
}

export async function createGroup(title, participantIds) {
  const json = await api.createGroup(title, participantIds);
  socket.advance(json.id, json.last_seq);
  return upsertConversation(json);
}

export async function renameGroup(id, title) {
  upsertConversation(await api.renameGroup(id, title));
}

export async function addMembers(id, userIds) {
  upsertConversation(await api.addMembers(id, userIds));
}

export async function removeMember(id, userId) {
  const json = await api.removeMember(id, userId);
  if (json) upsertConversation(json);
}

export async function leave(id) {
  await api.leaveConversation(id);
  dropConversation(id);
}

/** Group admin: delete it for everyone, with its messages and files. */
export async function deleteGroup(id) {
  await api.deleteConversation(id);
  dropConversation(id);
}

/** Direct: hide it until new activity. */
export async function hide(id) {
  await api.deleteConversation(id);
  dropConversation(id);
}

// --- History --------------------------------------------------------------------------------

export async function openHistory(id) {
  const conv = store.conversations.get(id);
  if (!conv) return;
  if (!conv.messages) conv.messages = new Map();
  if (conv.historyLoaded) return;
  const page = await api.messagesPage(id, { limit: 50 });
  for (const msg of page.results) upsertMessage(msg);
  conv.hasOlder = page.previous !== null;
  conv.historyLoaded = true;
  touch(`messages:${id}`);
  fillTombstones(conv, { fromSeq: pageStartSeq(page.results, conv.hasOlder) });
}

/** The keyset page just older than the oldest loaded message; false when there is none. */
export async function loadOlder(id) {
  const conv = store.conversations.get(id);
  if (!conv || !conv.messages || !conv.hasOlder || conv.loadingOlder) return false;
  conv.loadingOlder = true;
  touch(`messages:${id}`);
  try {
    const oldest = Math.min(...conv.messages.keys());
    const toSeq = conv.messages.get(oldest)?.seq;
    const page = await api.messagesPage(id, { before: oldest, limit: 50 });
    for (const msg of page.results) upsertMessage(msg);
    conv.hasOlder = page.previous !== null;
    fillTombstones(conv, { fromSeq: pageStartSeq(page.results, conv.hasOlder), toSeq: toSeq ?? Infinity });
    return page.results.length > 0;
  } finally {
    conv.loadingOlder = false;
    touch(`messages:${id}`);
  }
}

// --- Messages ---------------------------------------------------------------------------------

/** Over the socket if it is open, else (or if the socket drops meanwhile) over REST. */
async function command(frame, rest) {
  if (socket.isOpen) {
    try {
      const ack = await socket.request(frame);
      return ack.message;
    } catch (error) {
      if (!TRANSPORT_ERRORS.has(error.code)) throw error;
    }
  }
  return rest();
}

/** `extra`: {replyTo: message id, mentions: [member ids]} (SPEC 10). */
export function sendText(conversationId, content, extra = {}) {
  const item = {
    clientId: uid(),
    conversation: conversationId,
    content,
    replyTo: extra.replyTo ?? null,
    mentions: extra.mentions || [],
    timestamp: new Date().toISOString(),
    status: "sending",
  };
  store.outbox.set(item.clientId, item);
  touch(`outbox:${conversationId}`);
  return deliver(item);
}

async function deliver(item) {
  item.status = "sending";
  item.error = null;
  touch(`outbox:${item.conversation}`);
  try {
    let message;
    if (item.file) {
      message = await api.sendFile(item.conversation, item.file, item.content, item.clientId, sendExtras(item), {
        onProgress: (loaded, total) => {
          item.progress = total ? loaded / total : 0;
          touch(`outbox:${item.conversation}`);
        },
      });
    } else {
      message = await command(
        {
          type: "message.send",
          conversation: item.conversation,
          content: item.content,
          client_id: item.clientId,
          ...sendExtras(item),
        },
        () => api.sendMessage(item.conversation, item.content, item.clientId, sendExtras(item)),
      );
    }
    upsertMessage(message);
    store.outbox.delete(item.clientId);
  } catch (error) {
    if (error.status === 0 && !item.file) {
      item.status = "queued"; // the server is unreachable: sent again after reconnecting
    } else {
      item.status = "failed";
      item.error =
        error.status === 413 && item.file
          ? `“${item.file.name}” was not sent: ${
              item.file.size > limits.attachmentBytes ? overLimit(item.file.size, limits.attachmentBytes) : "it is over the server's upload limit"
            }.`
          : error.message;
    }
  }
  touch(`outbox:${item.conversation}`);
}

/** The reply and mentions of a message being sent, as the API names them. */
function sendExtras(item) {
  const extras = {};
  if (item.replyTo) extras.reply_to = item.replyTo;
  if (item.mentions && item.mentions.length) extras.mentions = item.mentions;
  return extras;
}

function flushOutbox() {
  for (const item of store.outbox.values()) if (item.status === "queued") deliver(item);
}

export function retry(clientId) {
  const item = store.outbox.get(clientId);
  if (item) deliver(item);
}

export function discard(clientId) {
  const item = store.outbox.get(clientId);
  if (!item) return;
  store.outbox.delete(clientId);
  touch(`outbox:${item.conversation}`);
}

/** A file, and the text that goes with it, as one message. Refuses a file over the
 * limit before any byte is sent. */
export function sendFile(conversationId, file, content = "", extra = {}) {
  const refusal = fileRefusal(file, limits.attachmentBytes);
  if (refusal) throw new Error(refusal);
  const item = {
    clientId: uid(),
    conversation: conversationId,
    content,
    replyTo: extra.replyTo ?? null,
    mentions: extra.mentions || [],
    file,
    progress: 0,
    timestamp: new Date().toISOString(),
    status: "sending",
  };
  store.outbox.set(item.clientId, item);
  return deliver(item);
}

export async function editMessage(conversationId, messageId, content) {
  const message = await command(
    { type: "message.edit", conversation: conversationId, message_id: messageId, content },
    () => api.editMessage(messageId, content),
  );
  upsertMessage(message);
}

export async function deleteMessage(conversationId, messageId) {
  await command({ type: "message.delete", conversation: conversationId, message_id: messageId }, () =>
    api.deleteMessage(messageId),
  );
  removeMessage(conversationId, messageId);
}

const readsInFlight = new Map();

/** Move my read pointer to `messageId` (and clear the badge at once). */
export function markRead(conversationId, messageId) {
  const conv = store.conversations.get(conversationId);
  if (!conv || messageId <= conv.lastReadId || (readsInFlight.get(conversationId) || 0) >= messageId) return;
  readsInFlight.set(conversationId, messageId);
  command({ type: "message.read", conversation: conversationId, message_id: messageId }, () =>
    api.markRead(messageId),
  )
    .then(() => {
      conv.lastReadId = Math.max(conv.lastReadId, messageId);
      const mine = store.me && conv.members.get(store.me.id);
      if (mine) mine.lastReadId = Math.max(mine.lastReadId, messageId);
      // Messages that arrived while the read was in flight are still unread.
      conv.unread = conv.messages
        ? [...conv.messages.values()].filter((m) => m.sender !== store.me.id && m.id > conv.lastReadId).length
        : 0;
      recountMentions(conv);
      touch("conversations");
    })
    .catch(() => {})
    .finally(() => {
      if (readsInFlight.get(conversationId) === messageId) readsInFlight.delete(conversationId);
    });
}

export function setTyping(conversationId, isTyping) {
  socket.send({ type: "typing", conversation: conversationId, is_typing: isTyping });
}
