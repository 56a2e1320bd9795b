// The details of a conversation: its name (groups can be renamed by any member), its
// members with presence and roles, adding and (for admins) removing people, leaving,
// hiding a direct chat, and deleting a group for everyone. It follows live changes.

import { avatar, h, replaceChildren } from "../dom.js";
import { conversationName, isAdmin, store, subscribe } from "../state.js";
import * as actions from "../actions.js";
import { openDialog, userPicker } from "./dialogs.js";

export function detailsDialog(conversationId, { onConfirm }) {
  let unsubscribe = () => {};
  openDialog({
    title: "Details",
    className: "details",
    onClose: () => unsubscribe(),
    build(body, dialog) {
      const error = h("p.form-error", { role: "alert" });
      const run = async (fn) => {
        error.textContent = "";
        try {
          await fn();
        } catch (e) {
          error.textContent = e.message;
        }
      };
      const heading = h("div.details-heading");
      const renameInput = h("input", { id: "rename-title", maxLength: 200, autocomplete: "off" });
      const rename = h(
        "form.inline-form",
        { id: "rename-form" },
        h("label", { for: "rename-title" }, "Group name"),
        h("div.inline-row", {}, renameInput, h("button.secondary", { type: "submit" }, "Rename")),
      );
      rename.addEventListener("submit", (event) => {
        event.preventDefault();
        run(() => actions.renameGroup(conversationId, renameInput.value.trim()));
      });
      const members = h("ul.member-list", { id: "member-list", aria: { label: "Members" } });
      const picker = userPicker({
        id: "add-member-search",
        label: "Add people by username",
        exclude: (u) => {
          const conv = store.conversations.get(conversationId);
          return Boolean(conv && conv.members.has(u.id));
        },
        onPick: (user) =>
          run(async () => {
            await actions.addMembers(conversationId, [user.id]);
            picker.input.value = "";
            picker.refresh();
          }),
      });
      const addSection = h("section.add-members", {}, h("h3", {}, "Add people"), picker.el);
      const destroy = h("button.danger", { type: "button", id: "delete-conversation" }, "Delete group");
      destroy.addEventListener("click", async () => {
        const ok = await onConfirm("Delete this group and all its messages for everyone?", "Delete group");
        if (!ok) return;
        run(async () => {
          await actions.deleteGroup(conversationId);
          dialog.close();
        });
      });
      const leave = h("button.danger", { type: "button", id: "leave-conversation" });
      leave.addEventListener("click", async () => {
        const conv = store.conversations.get(conversationId);
        if (!conv) return;
        const group = conv.kind === "group";
        const ok = await onConfirm(
          group ? "Leave this group? You will stop receiving its messages." : "Hide this conversation until someone writes again?",
          group ? "Leave" : "Hide",
        );
        if (!ok) return;
        run(async () => {
          await (group ? actions.leave(conversationId) : actions.hide(conversationId));
          dialog.close();
        });
      });

      function render() {
        const conv = store.conversations.get(conversationId);
        if (!conv) {
          dialog.close();
          return;
        }
        const group = conv.kind === "group";
        const admin = isAdmin(conv);
        replaceChildren(
          heading,
          avatar(conversationName(conv), "large"),
          h(
            "div",
            {},
            h("p.details-name", {}, conversationName(conv)),
            h("p.muted", {}, group ? `Group · ${conv.members.size} members` : "Direct conversation"),
          ),
        );
        rename.hidden = !group;
        if (group && document.activeElement !== renameInput) renameInput.value = conv.title;
        addSection.hidden = !group;
        leave.textContent = group ? "Leave group" : "Hide conversation";
        destroy.hidden = !(group && admin);
        const sorted = [...conv.members.values()].sort((a, b) => a.username.localeCompare(b.username));
        replaceChildren(
          members,
          sorted.map((m) => {
            const me = store.me && m.id === store.me.id;
            const online = me || store.presence.get(m.id) === true;
            return h(
              "li.member",
              { dataset: { userId: m.id, username: m.username } },
              h("span.avatar-wrap", {}, avatar(m.username), online ? h("span.presence-dot", { title: "Online" }) : null),
              h("span.member-name", {}, m.username),
              me ? h("span.tag", {}, "you") : null,
              m.role === "admin" && group ? h("span.tag.admin", {}, "admin") : null,
              group && admin && !me
                ? h(
                    "button.link-button.danger-text",
                    {
                      type: "button",
                      aria: { label: `Remove ${m.username} from the group` },
                      onclick: async () => {
                        if (await onConfirm(`Remove ${m.username} from the group?`, "Remove")) {
                          run(() => actions.removeMember(conversationId, m.id));
                        }
                      },
                    },
                    "Remove",
                  )
                : null,
            );
          }),
        );
      }

      body.append(heading, rename, h("h3", {}, "Members"), members, addSection, error, h("div.dialog-actions", {}, destroy, leave));
      render();
      unsubscribe = subscribe((topics) => {
        if (topics.has(`conversation:${conversationId}`) || topics.has("presence") || topics.has("conversations")) render();
      });
    },
  });
}
