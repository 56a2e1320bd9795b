// Reactions under a message: one chip per emoji with its count (pressed when it is
// mine; a tap adds or takes back mine), and a picker of quick reactions.

import { h, icon } from "../dom.js";
import * as features from "../features.js";

/** The chips under a message, or null when it has none. */
export function reactionsRow(msg, handlers) {
  const reactions = Array.isArray(msg.reactions) ? msg.reactions : [];
  if (!reactions.length) return null;
  return h(
    "div.reactions",
    { role: "group", aria: { label: "Reactions" } },
    reactions.map((r) =>
      h(
        "button.reaction",
        {
          type: "button",
          class: r.me ? "mine-reaction" : "",
          dataset: { emoji: r.emoji },
          aria: {
            pressed: r.me ? "true" : "false",
            label: `${r.emoji} ${r.count}${r.me ? ", including you" : ""}. ${r.me ? "Take back" : "React"}`,
          },
          onclick: () => handlers.onToggleReaction(msg, r.emoji),
        },
        h("span.reaction-emoji", {}, r.emoji),
        h("span.reaction-count", {}, String(r.count)),
      ),
    ),
  );
}

let openPicker = null;

function closePicker() {
  if (!openPicker) return;
  openPicker.remove();
  openPicker = null;
  document.removeEventListener("keydown", onKey, true);
  document.removeEventListener("pointerdown", onOutside, true);
}

function onKey(event) {
  if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    const back = openPicker && openPicker.returnFocus;
    closePicker();
    if (back) back.focus();
  }
}

function onOutside(event) {
  if (openPicker && !openPicker.contains(event.target) && !openPicker.anchor.contains(event.target)) closePicker();
}

/** The "Add reaction" button: opens the picker next to it. */
export function reactButton(msg, handlers) {
  const button = h(
    "button.icon-button.small",
    { type: "button", title: "React", aria: { label: "Add reaction", haspopup: "true" } },
    icon("smile"),
  );
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    if (openPicker && openPicker.anchor === button) {
      closePicker();
      return;
    }
    closePicker();
    const picker = h(
      "div.reaction-picker",
      { role: "menu", aria: { label: "Pick a reaction" } },
      features.QUICK_REACTIONS.map((emoji) =>
        h(
          "button.reaction-choice",
          {
            type: "button",
            role: "menuitem",
            aria: { label: `React with ${emoji}` },
            onclick: () => {
              closePicker();
              handlers.onReact(msg, emoji);
            },
          },
          emoji,
        ),
      ),
    );
    picker.anchor = button;
    picker.returnFocus = button;
    button.closest(".message").append(picker);
    openPicker = picker;
    document.addEventListener("keydown", onKey, true);
    document.addEventListener("pointerdown", onOutside, true);
    picker.querySelector("button").focus();
  });
  return button;
}
