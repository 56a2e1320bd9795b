// Modal dialogs on the native <dialog> element (focus trap, Esc to close): the shared
// frame and user search, new chat, new group, confirmation, image viewer.
// The conversation details dialog lives in details.js.

import * as api from "../api.js";
import { avatar, h, icon, replaceChildren } from "../dom.js";
import * as actions from "../actions.js";
import { attachmentUrl, downloadAttachment } from "../attachments.js";

let counter = 0;

export function openDialog({ title, className = "", build, onClose }) {
  counter += 1;
  const titleId = `dialog-title-${counter}`;
  const close = h("button.icon-button", { type: "button", aria: { label: "Close" } }, icon("close"));
  const content = h("div.dialog-body");
  const dialog = h(
    "dialog.modal",
    { class: className, aria: { labelledby: titleId } },
    h("header.dialog-header", {}, h("h2", { id: titleId }, title), close),
    content,
  );
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });
  dialog.addEventListener("close", () => {
    if (onClose) onClose();
    dialog.remove();
  });
  document.body.append(dialog);
  build(content, dialog);
  dialog.showModal();
  return dialog;
}

/** A username search that calls onPick(user); `exclude(user)` hides some results. */
export function userPicker({ label, onPick, exclude = () => false, id }) {
  const input = h("input.search", {
    type: "search",
    id,
    placeholder: "Search by username",
    autocomplete: "off",
    aria: { label },
  });
  const results = h("ul.user-results", { aria: { label: "Matching people" } });
  const status = h("p.muted.picker-status", { role: "status" });
  let timer = null;
  let seq = 0;

  async function search() {
    const query = input.value.trim();
    const mine = ++seq;
    if (!query) {
      results.replaceChildren();
      status.textContent = "";
      return;
    }
    status.textContent = "Searching…";
    try {
      const users = (await api.searchUsers(query)).filter((u) => !exclude(u));
      if (mine !== seq) return;
      status.textContent = users.length ? "" : `Nobody found for “${query}”.`;
      replaceChildren(
        results,
        users.map((u) =>
          h(
            "li",
            {},
            h(
              "button.user-result",
              { type: "button", dataset: { userId: u.id, username: u.username }, onclick: () => onPick(u) },
              avatar(u.username),
              h("span", {}, u.username),
            ),
          ),
        ),
      );
    } catch (e) {
      if (mine === seq) status.textContent = e.message;
    }
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const first = results.querySelector("button");
      if (first) first.click();
    }
  });
  return { el: h("div.picker", {}, input, status, results), input, refresh: search };
}

export function newChatDialog({ onOpen }) {
  openDialog({
    title: "New chat",
    build(body, dialog) {
      const error = h("p.form-error", { role: "alert" });
      const picker = userPicker({
        id: "new-chat-search",
        label: "Find a person by username",
        onPick: async (user) => {
          error.textContent = "";
          try {
            const conv = await actions.startDirect(user.id);
            dialog.close();
            onOpen(conv.id);
          } catch (e) {
            error.textContent = e.message;
          }
        },
      });
      body.append(h("p.muted", {}, "Start a private conversation with someone."), picker.el, error);
      queueMicrotask(() => picker.input.focus());
    },
  });
}

export function newGroupDialog({ onOpen }) {
  openDialog({
    title: "New group",
    build(body, dialog) {
      const chosen = new Map();
      const titleInput = h("input", { id: "group-title", maxLength: 200, placeholder: "e.g. Weekend trip", autocomplete: "off" });
      const chips = h("ul.chips", { id: "group-members", aria: { label: "Chosen members" } });
      const error = h("p.form-error", { role: "alert" });
      const create = h("button.primary", { type: "submit", id: "create-group", disabled: true }, "Create group");
      const picker = userPicker({
        id: "group-search",
        label: "Add people by username",
        exclude: (u) => chosen.has(u.id),
        onPick: (user) => {
          chosen.set(user.id, user);
          picker.input.value = "";
          picker.refresh();
          renderChips();
          picker.input.focus();
        },
      });
      function renderChips() {
        replaceChildren(
          chips,
          [...chosen.values()].map((u) =>
            h(
              "li.chip",
              {},
              h("span", {}, u.username),
              h(
                "button.chip-remove",
                {
                  type: "button",
                  aria: { label: `Remove ${u.username}` },
                  onclick: () => {
                    chosen.delete(u.id);
                    renderChips();
                  },
                },
                icon("close"),
              ),
            ),
          ),
        );
        create.disabled = chosen.size === 0;
      }
      const form = h(
        "form.stack",
        {},
        h("div.field", {}, h("label", { for: "group-title" }, "Group name"), titleInput),
        h("div.field", {}, h("span.label", {}, "Members"), chips, picker.el),
        error,
        h("div.dialog-actions", {}, create),
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        error.textContent = "";
        create.disabled = true;
        try {
          const conv = await actions.createGroup(titleInput.value.trim(), [...chosen.keys()]);
          dialog.close();
          onOpen(conv.id);
        } catch (e) {
          error.textContent = e.message;
          create.disabled = chosen.size === 0;
        }
      });
      body.append(form);
      queueMicrotask(() => titleInput.focus());
    },
  });
}

export function confirmDialog(text, action = "OK") {
  return new Promise((resolve) => {
    let answer = false;
    openDialog({
      title: "Are you sure?",
      className: "confirm",
      onClose: () => resolve(answer),
      build(body, dialog) {
        const ok = h("button.danger", { type: "button", id: "confirm-ok" }, action);
        const cancel = h("button.secondary", { type: "button", id: "confirm-cancel" }, "Cancel");
        ok.addEventListener("click", () => {
          answer = true;
          dialog.close();
        });
        cancel.addEventListener("click", () => dialog.close());
        body.append(h("p", {}, text), h("div.dialog-actions", {}, cancel, ok));
        queueMicrotask(() => ok.focus());
      },
    });
  });
}

export function imageDialog(message) {
  openDialog({
    title: message.attachment_name || "Image",
    className: "image-viewer",
    build(body) {
      const img = h("img.full-image", { alt: message.attachment_name || "Image" });
      attachmentUrl(message).then((url) => {
        img.src = url;
      });
      const download = h("button.secondary", { type: "button" }, "Download");
      download.addEventListener("click", () => downloadAttachment(message));
      body.append(img, h("div.dialog-actions", {}, download));
    },
  });
}
