// The composer: Enter sends, Shift+Enter adds a line, Up edits the last own message;
// files come through the clip button, paste or drop, are checked against the server's
// limit before any byte is sent, wait previewed (staged.js), and go out with the text
// as one message. It also sends the typing state.

import { h, icon } from "../dom.js";
import { formatSize } from "../format.js";
import { messageList, store } from "../state.js";
import * as actions from "../actions.js";
import { mentionedMembers } from "../features.js";
import { createMentionPicker } from "./mentions.js";
import { createReplyBar } from "./replies.js";
import { createStaging } from "./staged.js";

const TYPING_REPEAT_MS = 3000; // the server forwards at most one per 2 s anyway
const TYPING_IDLE_MS = 4000;

/** onSend(): a message or file is about to go out; onEditLast(message): Up was pressed. */
export function createComposer({ onSend, onEditLast }) {
  let conv = null;
  let typingOn = false;
  let typingSentAt = 0;
  let typingIdle = null;
  const drafts = new Map();

  const fileInput = h("input.visually-hidden", { type: "file", id: "file-input", tabindex: "-1", aria: { hidden: "true" } });
  const limitText = `Files up to ${formatSize(actions.limits.attachmentBytes)}`;
  const attach = h(
    "button.icon-button",
    { type: "button", id: "attach", title: `Attach a file (${limitText.toLowerCase()})`, aria: { label: `Attach a file. ${limitText}.` } },
    icon("attach"),
  );
  attach.addEventListener("click", () => fileInput.click());
  const input = h("textarea.composer-input", {
    id: "composer-input",
    rows: 1,
    placeholder: "Write a message",
    aria: { label: "Message", describedby: "composer-hint" },
    maxLength: actions.limits.contentLength,
  });
  const send = h("button.send", { type: "submit", id: "send", aria: { label: "Send message" } }, icon("send"));
  const hint = h("p.composer-hint", { id: "composer-hint" }, `Enter to send, Shift+Enter for a new line. ${limitText}.`);
  const error = h("p.composer-error", { id: "composer-error", role: "alert" });
  const form = h("form.composer", { id: "composer" }, attach, fileInput, input, send);
  // Before the composer's own keydown listener: while it is open it takes Enter and Tab.
  const mentionPicker = createMentionPicker({ input, getConv: () => conv });
  let replyTo = null;
  const replyBar = createReplyBar({ onCancel: () => setReply(null) });
  function setReply(msg) {
    replyTo = msg && conv && msg.conversation === conv.id ? msg : null;
    replyBar.show(replyTo);
    if (replyTo) input.focus();
  }
  const staging = createStaging({
    limit: actions.limits.attachmentBytes,
    onError: (text) => {
      error.textContent = text;
    },
  });

  function stopTyping() {
    clearTimeout(typingIdle);
    if (typingOn && conv) actions.setTyping(conv.id, false);
    typingOn = false;
  }

  input.addEventListener("input", () => {
    error.textContent = "";
    if (!conv) return;
    drafts.set(conv.id, input.value);
    if (!input.value.trim()) {
      stopTyping();
      return;
    }
    const now = Date.now();
    if (!typingOn || now - typingSentAt > TYPING_REPEAT_MS) {
      actions.setTyping(conv.id, true);
      typingOn = true;
      typingSentAt = now;
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape" && replyTo) {
      event.preventDefault();
      setReply(null);
    } else if (event.key === "ArrowUp" && !input.value && conv) {
      const own = messageList(conv).filter((m) => m.sender === store.me.id && (m.content || !m.attachment));
      if (own.length) {
        event.preventDefault();
        onEditLast(own[own.length - 1]);
      }
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!conv) return;
    const text = input.value;
    if (!text.trim() && !staging.count()) return;
    if (text.length > actions.limits.contentLength) {
      error.textContent = `Messages can be at most ${actions.limits.contentLength} characters; this one has ${text.length}.`;
      return;
    }
    stopTyping();
    input.value = "";
    drafts.delete(conv.id);
    onSend();
    const files = staging.take();
    // The first file carries the text (and the reply): one message, as composed.
    const content = text.trim() ? text : "";
    const extra = { replyTo: replyTo ? replyTo.id : null, mentions: mentionedMembers(conv, content) };
    setReply(null);
    if (files.length) files.forEach((file, n) => actions.sendFile(conv.id, file, n === 0 ? content : "", n === 0 ? extra : {}));
    else actions.sendText(conv.id, text, extra);
    input.focus();
  });

  function sendFiles(files) {
    if (!conv) return;
    error.textContent = "";
    staging.add(files);
    input.focus();
  }

  fileInput.addEventListener("change", () => {
    sendFiles([...fileInput.files]);
    fileInput.value = "";
  });
  input.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData ? event.clipboardData.files : [])];
    if (files.length) {
      event.preventDefault();
      sendFiles(files);
    }
  });

  /** Let `zone` take dropped files. */
  function acceptDrops(zone) {
    zone.addEventListener("dragover", (event) => {
      if (event.dataTransfer && [...event.dataTransfer.types].includes("Files")) {
        event.preventDefault();
        zone.classList.add("dropping");
      }
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dropping"));
    zone.addEventListener("drop", (event) => {
      zone.classList.remove("dropping");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        event.preventDefault();
        sendFiles([...event.dataTransfer.files]);
      }
    });
  }

  /** Switch to another conversation (or none), keeping each one's draft. */
  function setConversation(next) {
    if (conv && typingOn) stopTyping();
    conv = next;
    setReply(null);
    mentionPicker.close();
    staging.setConversation(conv ? conv.id : null);
    error.textContent = "";
    input.value = conv ? drafts.get(conv.id) || "" : "";
  }

  const above = h("div.composer-above", {}, mentionPicker.el, replyBar.el, staging.el);
  return { form, hint, error, above, setConversation, setReply, acceptDrops, focus: () => input.focus() };
}
