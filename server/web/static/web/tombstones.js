// The "message deleted" placeholders of a history page. History pages list live
// messages only (SPEC 2: deleted ones leave every listing), but the event log replays
// a deleted message's `message.created` with `is_deleted: true` and no content or file:
// who wrote it and when, never what. So after a page loads, the events of the page's
// stretch of `seq` give the places of the messages deleted in it. Best effort: a
// pruned stretch (410) or a failure only means fewer placeholders.

import * as api from "./api.js";
import { touch } from "./state.js";

const MAX_EVENT_PAGES = 6; // a page of history with more than 3,000 events is rare

/** Placeholders for the deleted messages created after `fromSeq` and before `toSeq`. */
export async function fillTombstones(conv, { fromSeq, toSeq = Infinity }) {
  if (!Number.isInteger(fromSeq)) return;
  let since = fromSeq;
  try {
    for (let n = 0; n < MAX_EVENT_PAGES; n += 1) {
      const page = await api.conversationEvents(conv.id, since);
      for (const frame of page.events) {
        if (frame.seq >= toSeq) return;
        if (frame.type === "message.created" && frame.message && frame.message.is_deleted) addTombstone(conv, frame.message);
      }
      if (!page.has_more || !page.events.length) return;
      since = page.events[page.events.length - 1].seq;
    }
  } catch {
    // No placeholders for this stretch; the messages themselves are all shown.
  }
}

/** The `seq` the placeholders of a page start after: 0 for the first page of all. */
export function pageStartSeq(results, hasOlder) {
  if (!hasOlder) return 0;
  const seqs = results.map((m) => m.seq).filter(Number.isInteger);
  return seqs.length ? Math.min(...seqs) : null;
}

/** Remember where a deleted message was, for its "message deleted" placeholder. */
export function addTombstone(conv, msg) {
  if (!msg || !conv.messages || conv.tombstones.has(msg.id)) return;
  // Older than the loaded window: its place is shown when that page is loaded.
  if (conv.hasOlder && conv.messages.size && msg.id < Math.min(...conv.messages.keys())) return;
  const { id, sender, sender_name: senderName, timestamp } = msg;
  conv.tombstones.set(id, { id, conversation: conv.id, sender, sender_name: senderName, timestamp, is_deleted: true });
  touch(`messages:${conv.id}`);
}

/** What the message list shows: the loaded messages and the placeholders of deleted
 * ones, oldest first. */
export function timeline(conv) {
  if (!conv.messages) return [];
  const rows = [...conv.messages.values()];
  for (const [id, stone] of conv.tombstones) if (!conv.messages.has(id)) rows.push(stone);
  return rows.sort((a, b) => a.id - b.id);
}
