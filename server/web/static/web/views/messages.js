// One message (or pending message) as DOM, and a keyed reconciler for the list, so a
// new frame replaces only the rows it changed and scrolling and focus survive.

import { h, icon } from "../dom.js";
import { dayKey, formatDay, formatFull, formatSize, formatTime, parseDate } from "../format.js";
import { isReadByOthers, store } from "../state.js";
import * as actions from "../actions.js";
import { attachmentUrl, downloadAttachment } from "../attachments.js";
import * as parts from "./message-parts.js";

function isImage(msg) {
  return Boolean(msg.attachment && msg.attachment_type && msg.attachment_type.startsWith("image/"));
}

function timeEl(iso) {
  const date = parseDate(iso);
  return h("time", { datetime: iso, title: formatFull(date) }, formatTime(date));
}

function tick(status) {
  const labels = { pending: "Sending", queued: "Waiting for connection", failed: "Not sent", sent: "Sent", read: "Read" };
  const names = { pending: "clock", queued: "clock", failed: "alert", sent: "check", read: "checks" };
  return h(
    `span.tick.${status}`,
    { role: "img", aria: { label: labels[status] }, title: labels[status] },
    icon(names[status]),
  );
}

function attachmentView(msg, handlers) {
  if (!msg.attachment) return null;
  const name = msg.attachment_name || "attachment";
  if (isImage(msg)) {
    const img = h("img.attachment-image", { alt: name });
    const frame = h(
      "button.image-frame.loading",
      { type: "button", aria: { label: `Open image ${name}` }, onclick: () => handlers.onImage(msg) },
      img,
    );
    attachmentUrl(msg)
      .then((url) => {
        img.addEventListener("load", () => {
          frame.classList.remove("loading");
          handlers.onMediaLoaded();
        });
        img.src = url;
      })
      .catch(() => {
        frame.classList.remove("loading");
        frame.classList.add("broken");
        frame.replaceChildren(h("span", {}, `Image unavailable: ${name}`));
      });
    return frame;
  }
  const button = h(
    "button.file-link",
    {
      type: "button",
      aria: { label: `Download ${name}, ${formatSize(msg.attachment_size)}` },
      onclick: async () => {
        button.disabled = true;
        try {
          await downloadAttachment(msg);
        } catch (e) {
          handlers.onError(`Could not download ${name}: ${e.message}`);
        } finally {
          button.disabled = false;
        }
      },
    },
    icon("file", "file-icon"),
    h("span.file-text", {}, h("span.file-name", {}, name), h("span.file-size", {}, formatSize(msg.attachment_size))),
  );
  return button;
}

export function messageView(conv, msg, { showSender, editing, handlers, replyCount = 0 }) {
  const mine = store.me && msg.sender === store.me.id;
  const status = mine ? (isReadByOthers(conv, msg) ? "read" : "sent") : null;
  const li = h("li", {
    class: `message ${mine ? "mine" : "theirs"}`,
    id: `m-${msg.id}`,
    dataset: { id: msg.id, sender: msg.sender, status },
  });
  if (editing) {
    const input = h("textarea.edit-input", {
      aria: { label: "New text of the message" },
      rows: 2,
      maxLength: actions.limits.contentLength,
    });
    input.value = msg.content;
    const save = h("button.primary.small", { type: "submit" }, "Save");
    const cancel = h("button.secondary.small", { type: "button", onclick: () => handlers.onEditDone() }, "Cancel");
    const form = h("form.edit-form", {}, input, h("div.edit-buttons", {}, h("span.muted", {}, "Esc to cancel"), cancel, save));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      handlers.onEditSave(msg, input.value);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        handlers.onEditDone();
      } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    li.append(h("div.bubble.editing", {}, form));
    queueMicrotask(() => {
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    });
    return li;
  }
  const bubble = h(
    "div.bubble",
    {},
    showSender && !mine ? h("div.sender", {}, msg.sender_name) : null,
    parts.quoteInBubble(msg, handlers),
    attachmentView(msg, handlers),
    parts.messageText(conv, msg),
    h("div.meta", {}, parts.metaMarks(msg, handlers), timeEl(msg.timestamp), status ? tick(status) : null),
  );
  li.append(h("div.message-body", {}, bubble, parts.underBubble(msg, replyCount, handlers)));
  const own = mine
    ? [
        msg.content || !msg.attachment
          ? h(
              "button.icon-button.small",
              { type: "button", title: "Edit", aria: { label: "Edit message" }, onclick: () => handlers.onEdit(msg) },
              icon("edit"),
            )
          : null,
        h(
          "button.icon-button.small",
          { type: "button", title: "Delete", aria: { label: "Delete message" }, onclick: () => handlers.onDelete(msg) },
          icon("trash"),
        ),
      ]
    : [];
  li.append(h("div.message-actions", {}, parts.everyoneActions(conv, msg, handlers), own));
  return li;
}

/** Where a deleted message was: who and when, never what. */
export function tombstoneView(conv, msg, { showSender }) {
  const mine = store.me && msg.sender === store.me.id;
  return h(
    "li",
    { class: `message deleted ${mine ? "mine" : "theirs"}`, id: `m-${msg.id}`, dataset: { id: msg.id, deleted: "true" } },
    h(
      "div.bubble",
      {},
      showSender && !mine && msg.sender_name ? h("div.sender", {}, msg.sender_name) : null,
      h("p.deleted-text", {}, icon("trash", "inline-icon"), mine ? "You deleted this message" : "Message deleted"),
      msg.timestamp ? h("div.meta", {}, timeEl(msg.timestamp)) : null,
    ),
  );
}

export function pendingView(item, handlers) {
  const status = item.status === "sending" ? "pending" : item.status;
  const li = h("li.message.mine.pending", { dataset: { clientId: item.clientId, status } });
  const body = [];
  if (item.file) {
    body.push(
      h(
        "div.upload",
        {},
        icon("file", "file-icon"),
        h(
          "span.file-text",
          {},
          h("span.file-name", {}, item.file.name),
          h("span.file-size", {}, formatSize(item.file.size)),
        ),
        item.status === "sending"
          ? h("progress.upload-progress", { max: 1, value: item.progress || 0, aria: { label: `Uploading ${item.file.name}` } })
          : null,
      ),
    );
  }
  if (item.content) body.push(h("p.text", {}, item.content));
  if (item.status === "failed") {
    body.push(
      h(
        "div.failed",
        { role: "alert" },
        h("span", {}, item.error || "Not sent."),
        h("button.link-button", { type: "button", onclick: () => actions.retry(item.clientId) }, "Retry"),
        h("button.link-button", { type: "button", onclick: () => actions.discard(item.clientId) }, "Discard"),
      ),
    );
  }
  body.push(h("div.meta", {}, timeEl(item.timestamp), tick(status)));
  li.append(h("div.bubble", {}, ...body));
  return li;
}

function daySeparator(date) {
  return h("li.day-separator", { role: "separator", aria: { label: formatDay(date) } }, h("span", {}, formatDay(date)));
}

/**
 * Bring `list` in line with the conversation: day separators, messages, pending ones.
 * Rows whose signature did not change are kept as they are.
 */
export function reconcile(list, conv, messages, pending, { editingId, handlers, cache }) {
  const wanted = [];
  let lastDay = null;
  let lastSender = null;
  const today = dayKey(new Date());
  const replies = new Map(); // parent id -> loaded replies
  for (const msg of messages) if (msg.reply_to && !msg.is_deleted) replies.set(msg.reply_to.id, (replies.get(msg.reply_to.id) || 0) + 1);
  for (const msg of messages) {
    const date = parseDate(msg.timestamp);
    const day = dayKey(date);
    if (day !== lastDay) {
      wanted.push({ key: `d:${day}`, sig: `${day}|${today}`, make: () => daySeparator(date) });
      lastSender = null;
    }
    const showSender = conv.kind === "group" && msg.sender !== lastSender;
    if (msg.is_deleted) {
      wanted.push({ key: `m:${msg.id}`, sig: `deleted|${showSender}`, make: () => tombstoneView(conv, msg, { showSender }) });
      lastDay = day;
      lastSender = msg.sender;
      continue;
    }
    const mine = store.me && msg.sender === store.me.id;
    const status = mine ? (isReadByOthers(conv, msg) ? "read" : "sent") : "";
    const editing = editingId === msg.id;
    const replyCount = replies.get(msg.id) || 0;
    const sig = [msg.content, msg.edited_at, msg.attachment, status, showSender, editing, parts.partsSignature(conv, msg, replyCount)].join("|");
    wanted.push({ key: `m:${msg.id}`, sig, make: () => messageView(conv, msg, { showSender, editing, handlers, replyCount }) });
    lastDay = day;
    lastSender = msg.sender;
  }
  for (const item of pending) {
    const sig = [item.status, item.error, item.file ? Math.round((item.progress || 0) * 100) : ""].join("|");
    wanted.push({ key: `p:${item.clientId}`, sig, make: () => pendingView(item, handlers) });
  }

  const keep = new Set(wanted.map((w) => w.key));
  for (const [key, entry] of cache) {
    if (!keep.has(key)) {
      entry.el.remove();
      cache.delete(key);
    }
  }
  let cursor = list.firstChild;
  for (const w of wanted) {
    let entry = cache.get(w.key);
    if (!entry || entry.sig !== w.sig) {
      const el = w.make();
      if (entry) {
        if (entry.el === cursor) cursor = el;
        entry.el.replaceWith(el);
      }
      entry = { el, sig: w.sig };
      cache.set(w.key, entry);
    }
    if (entry.el !== cursor) list.insertBefore(entry.el, cursor);
    else cursor = cursor.nextSibling;
  }
}
