// A message's thread: the message and its replies (oldest first, more on demand), with
// a way to reply to it from the composer.

import { h } from "../dom.js";
import * as features from "../features.js";
import { openDialog } from "./dialogs.js";
import { messageRow } from "./listing.js";

export function threadDialog(parent, { onReply, onGoTo }) {
  openDialog({
    title: "Thread",
    className: "thread-dialog",
    build(body, dialog) {
      const list = h("ol.listed-messages", { id: "thread-replies", aria: { label: "Replies" } });
      const status = h("p.muted", { role: "status" }, "Loading replies…");
      const more = h("button.link-button", { type: "button", hidden: true }, "Show more replies");
      let after = 0;

      async function load() {
        more.disabled = true;
        try {
          const page = await features.threadPage(parent.id, { after });
          for (const reply of page.results) {
            list.append(
              messageRow(reply, {
                actions: [
                  h(
                    "button.link-button",
                    { type: "button", onclick: () => (dialog.close(), onGoTo(reply.id)) },
                    "Show in conversation",
                  ),
                ],
              }),
            );
          }
          if (page.results.length) after = page.results[page.results.length - 1].id;
          const count = list.children.length;
          status.textContent = count === 0 ? "No replies yet." : count === 1 ? "1 reply" : `${count} replies`;
          more.hidden = !page.next;
        } catch (e) {
          status.textContent = `Could not load the replies: ${e.message}`;
        } finally {
          more.disabled = false;
        }
      }
      more.addEventListener("click", load);
      const reply = h("button.primary", { type: "button", id: "thread-reply" }, "Reply");
      reply.addEventListener("click", () => {
        dialog.close();
        onReply(parent);
      });
      body.append(
        h("ol.listed-messages.thread-parent", {}, messageRow(parent, { className: "parent" })),
        status,
        list,
        more,
        h("div.dialog-actions", {}, reply),
      );
      load();
    },
  });
}
