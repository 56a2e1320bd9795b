// Blocking (SPEC 11): a Block / Unblock button in the header of a direct conversation,
// and, in groups, the messages of users you blocked collapsed behind "show".
// Socket frames carry no per-reader flag, so the client keeps its own blocked list
// (GET /api/users/blocked/) and marks rows by their data-sender.

import * as api from "../api.js";
import { h } from "../dom.js";
import { others, store, touch } from "../state.js";
import { toast } from "./toast.js";

const blocked = new Set(); // user ids as the API writes them
const shown = new Set(); // message ids the reader chose to show

const listBlocked = () => api.request("GET", "/api/users/blocked/");
const blockUser = (id) => api.request("POST", `/api/users/${encodeURIComponent(id)}/block/`);
const unblockUser = (id) => api.request("DELETE", `/api/users/${encodeURIComponent(id)}/block/`);

/** Whether the reader blocked user `id` (the list previews hide such a sender's text). */
export function isBlocked(id) {
  return id != null && blocked.has(String(id));
}

function otherOf(conv) {
  if (!conv || conv.kind !== "direct") return null;
  return others(conv)[0] || null;
}

/** Collapse the rows of blocked senders in `list` (an <ol> of li.message[data-sender]). */
function collapse(list) {
  for (const li of list.querySelectorAll("li.message[data-sender]")) {
    const hide = blocked.has(li.dataset.sender) && !shown.has(li.dataset.id);
    const note = li.querySelector(":scope > .blocked-note");
    li.classList.toggle("blocked-collapsed", hide);
    if (hide && !note) {
      const show = h("button.link-button.blocked-show", { type: "button" }, "show");
      show.addEventListener("click", () => {
        shown.add(li.dataset.id);
        collapse(list);
      });
      li.prepend(h("div.blocked-note", {}, "Message from a user you blocked. ", show));
    } else if (!hide && note) {
      note.remove();
    }
  }
}

/** Mount the header button and the collapsing on the app's shell (app.js). */
export function mountBlockControls(paneEl) {
  const header = paneEl.querySelector(".pane-header");
  const list = paneEl.querySelector("#message-list");
  const button = h("button.secondary.block-toggle", { type: "button", id: "block-toggle", hidden: true }, "Block");
  header.append(button);

  function update() {
    const other = otherOf(store.conversations.get(store.openId));
    button.hidden = !other;
    if (other) {
      const isBlocked = blocked.has(String(other.id));
      button.textContent = isBlocked ? "Unblock" : "Block";
      button.setAttribute("aria-label", `${isBlocked ? "Unblock" : "Block"} ${other.username}`);
    }
    collapse(list);
  }

  button.addEventListener("click", async () => {
    const other = otherOf(store.conversations.get(store.openId));
    if (!other) return;
    const id = String(other.id);
    button.disabled = true;
    try {
      if (blocked.has(id)) {
        await unblockUser(other.id);
        blocked.delete(id);
        toast(`${other.username} is unblocked.`);
      } else {
        await blockUser(other.id);
        blocked.add(id);
        toast(`${other.username} is blocked: neither of you can message the other here.`);
      }
    } catch (e) {
      toast(`Could not change the block: ${e.message}`, "error");
    } finally {
      button.disabled = false;
      update();
      touch("conversations"); // the list's previews
    }
  });

  new MutationObserver(() => collapse(list)).observe(list, { childList: true, subtree: true });
  listBlocked()
    .then((users) => {
      for (const user of users) blocked.add(String(user.id));
      update();
      touch("conversations");
    })
    .catch(() => {});
  return { update };
}
