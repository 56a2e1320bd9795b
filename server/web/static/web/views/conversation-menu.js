// The conversation's own settings for this user (SPEC 10): pin to the top of the list,
// archive, notification level, mute with an expiry. Each change is saved at once
// (PATCH .../me/) and shown from the server's answer; other tabs follow through
// `conversation.updated`.

import { h } from "../dom.js";
import { formatFull, parseDate } from "../format.js";
import { isMuted } from "../chatstate.js";
import * as features from "../features.js";
import { store, subscribe } from "../state.js";
import { openDialog } from "./dialogs.js";

const LEVELS = [
  ["all", "All messages"],
  ["mentions", "Only when I am mentioned"],
  ["none", "Nothing"],
];
const MUTES = [
  ["1", "For 1 hour", 1],
  ["8", "For 8 hours", 8],
  ["168", "For a week", 168],
  ["forever", "Until I unmute", null],
];

export function conversationMenu(conversationId) {
  let unsubscribe = () => {};
  openDialog({
    title: "Conversation settings",
    className: "conversation-menu",
    onClose: () => unsubscribe(),
    build(body, dialog) {
      const error = h("p.form-error", { role: "alert" });
      const save = async (changes) => {
        error.textContent = "";
        try {
          await features.updateMemberView(conversationId, changes);
        } catch (e) {
          error.textContent = e.message;
        }
        render();
      };

      const pinned = h("input", { type: "checkbox", id: "menu-pinned" });
      pinned.addEventListener("change", () => save({ pinned: pinned.checked }));
      const archived = h("input", { type: "checkbox", id: "menu-archived" });
      archived.addEventListener("change", () => save({ archived: archived.checked }));

      const levels = LEVELS.map(([value, label]) => {
        const input = h("input", { type: "radio", name: "notification-level", value, id: `level-${value}` });
        input.addEventListener("change", () => input.checked && save({ notification_level: value }));
        return { input, row: h("label.menu-choice", { for: `level-${value}` }, input, h("span", {}, label)) };
      });

      const muteState = h("p.muted", { id: "mute-state" });
      const muteSelect = h(
        "select",
        { id: "mute-for", aria: { label: "Mute for" } },
        h("option", { value: "" }, "Mute…"),
        MUTES.map(([value, label]) => h("option", { value }, label)),
      );
      muteSelect.addEventListener("change", () => {
        const choice = MUTES.find(([value]) => value === muteSelect.value);
        if (choice) save({ muted_until: features.muteUntil(choice[2]) });
      });
      const unmute = h("button.secondary", { type: "button", id: "unmute" }, "Unmute");
      unmute.addEventListener("click", () => save({ muted_until: null }));

      function render() {
        const conv = store.conversations.get(conversationId);
        if (!conv) {
          dialog.close();
          return;
        }
        const view = conv.memberView;
        pinned.checked = view.pinned;
        archived.checked = view.archived;
        for (const { input } of levels) input.checked = input.value === view.notificationLevel;
        const muted = isMuted(conv);
        const until = muted ? parseDate(view.mutedUntil) : null;
        muteState.textContent = !muted
          ? "Not muted."
          : until.getFullYear() > 9000
            ? "Muted until you unmute it."
            : `Muted until ${formatFull(until)}.`;
        muteSelect.value = "";
        muteSelect.hidden = muted;
        unmute.hidden = !muted;
      }

      body.append(
        h(
          "div.menu-section",
          {},
          h("label.menu-toggle", { for: "menu-pinned" }, pinned, h("span", {}, "Pin to the top of the list")),
          h("label.menu-toggle", { for: "menu-archived" }, archived, h("span", {}, "Archive (hide from the list)")),
        ),
        h(
          "fieldset.menu-section",
          {},
          h("legend", {}, "Notify me about"),
          levels.map((l) => l.row),
        ),
        h("div.menu-section", {}, h("h3", {}, "Mute"), muteState, h("div.inline-row", {}, muteSelect, unmute)),
        error,
      );
      render();
      unsubscribe = subscribe((topics) => {
        if (topics.has(`conversation:${conversationId}`) || topics.has("conversations")) render();
      });
    },
  });
}
