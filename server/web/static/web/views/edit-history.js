// "edited" opens the versions of a message: every earlier text, oldest first, then the
// current one.

import { h } from "../dom.js";
import { formatFull, parseDate } from "../format.js";
import * as features from "../features.js";
import { linkify } from "../linkify.js";
import { openDialog } from "./dialogs.js";

function version(label, content, iso) {
  const date = parseDate(iso);
  return h(
    "li.history-version",
    {},
    h("div.listed-head", {}, h("span.listed-sender", {}, label), date ? h("time", { datetime: iso }, formatFull(date)) : null),
    h("p.text", {}, content ? linkify(content) : h("span.muted", {}, "(no text)")),
  );
}

export function editHistoryDialog(msg) {
  openDialog({
    title: "Edit history",
    className: "history-dialog",
    build(body) {
      const list = h("ol.listed-messages", { id: "edit-history", aria: { label: "Versions" } });
      const status = h("p.muted", { role: "status" }, "Loading…");
      body.append(status, list);
      features
        .editHistory(msg.id)
        .then((versions) => {
          // Each version as it was: `edited_at` is when it was written by an edit (null: the original).
          const rows = versions.map((v, n) =>
            version(n === 0 ? "Original" : `Edit ${n}`, v.content, v.edited_at || msg.timestamp),
          );
          rows.push(version("Now", msg.content, msg.edited_at));
          list.replaceChildren(...rows);
          status.textContent = versions.length === 1 ? "Edited once." : `Edited ${versions.length} times.`;
        })
        .catch((e) => {
          status.textContent = `Could not load the edit history: ${e.message}`;
        });
    },
  });
}
