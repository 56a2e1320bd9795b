// The pinned messages of a conversation, the latest pin first; it follows pins and
// unpins made meanwhile.

import { h } from "../dom.js";
import * as features from "../features.js";
import { subscribe } from "../state.js";
import { openDialog } from "./dialogs.js";
import { messageRow } from "./listing.js";

export function pinsDialog(conv, { onGoTo }) {
  let unsubscribe = () => {};
  openDialog({
    title: "Pinned messages",
    className: "pins-dialog",
    onClose: () => unsubscribe(),
    build(body, dialog) {
      const list = h("ol.listed-messages", { id: "pinned-list", aria: { label: "Pinned messages" } });
      const status = h("p.muted", { role: "status" }, "Loading…");
      let seq = 0;

      async function load() {
        const mine = ++seq;
        try {
          const pinned = await features.pins(conv.id);
          if (mine !== seq) return;
          list.replaceChildren(
            ...pinned.map((msg) => {
              const actions = [
                h("button.link-button", { type: "button", onclick: () => (dialog.close(), onGoTo(msg.id)) }, "Show"),
              ];
              if (features.canPin(conv)) {
                actions.push(
                  h(
                    "button.link-button",
                    {
                      type: "button",
                      aria: { label: "Unpin this message" },
                      onclick: async () => {
                        try {
                          await features.setPinned(msg, false);
                        } catch (e) {
                          status.textContent = e.message;
                        }
                      },
                    },
                    "Unpin",
                  ),
                );
              }
              return messageRow(msg, { actions });
            }),
          );
          status.textContent = pinned.length ? "" : "Nothing is pinned yet.";
        } catch (e) {
          status.textContent = `Could not load the pinned messages: ${e.message}`;
        }
      }
      body.append(status, list);
      load();
      unsubscribe = subscribe((topics) => {
        if (topics.has(`pins:${conv.id}`)) load();
      });
    },
  });
}
