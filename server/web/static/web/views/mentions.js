// Mentions: `@` in the composer offers the conversation's members (arrows to choose,
// Enter or Tab to take, Esc to close), and `@username` of a member stands out in a
// message (more so when it is you).

import { avatar, h } from "../dom.js";
import { store } from "../state.js";

const MAX_SUGGESTIONS = 6;
const TRIGGER = /(^|[\s(])@([\w.+-]*)$/;

/** Autocomplete for `input`; its keydown listener must be added before the composer's. */
export function createMentionPicker({ input, getConv }) {
  const list = h("ul.mention-list", { id: "mention-list", role: "listbox", aria: { label: "Members to mention" }, hidden: true });
  let options = [];
  let active = 0;
  let start = -1; // index of the "@" being completed

  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", "mention-list");

  function close() {
    list.hidden = true;
    options = [];
    start = -1;
    input.removeAttribute("aria-activedescendant");
    input.setAttribute("aria-expanded", "false");
  }

  function render() {
    list.replaceChildren(
      ...options.map((m, n) =>
        h(
          "li.mention-option",
          {
            id: `mention-option-${n}`,
            role: "option",
            class: n === active ? "active" : "",
            aria: { selected: n === active ? "true" : "false" },
            dataset: { username: m.username },
            onmousedown: (event) => {
              event.preventDefault(); // keep the focus in the composer
              pick(n);
            },
          },
          avatar(m.username),
          h("span", {}, m.username),
        ),
      ),
    );
    list.hidden = options.length === 0;
    input.setAttribute("aria-expanded", options.length ? "true" : "false");
    if (options.length) input.setAttribute("aria-activedescendant", `mention-option-${active}`);
    else input.removeAttribute("aria-activedescendant");
  }

  function update() {
    const conv = getConv();
    const before = input.value.slice(0, input.selectionStart ?? input.value.length);
    const match = conv ? before.match(TRIGGER) : null;
    if (!match) {
      close();
      return;
    }
    const prefix = match[2].toLowerCase();
    start = before.length - match[2].length - 1;
    options = [...conv.members.values()]
      .filter((m) => !store.me || m.id !== store.me.id)
      .filter((m) => m.username.toLowerCase().startsWith(prefix))
      .sort((a, b) => a.username.localeCompare(b.username))
      .slice(0, MAX_SUGGESTIONS);
    active = Math.min(active, Math.max(0, options.length - 1));
    render();
  }

  function pick(n) {
    const member = options[n];
    if (!member || start < 0) return;
    const caret = input.selectionStart ?? input.value.length;
    const insert = `@${member.username} `;
    input.value = input.value.slice(0, start) + insert + input.value.slice(caret);
    const at = start + insert.length;
    input.setSelectionRange(at, at);
    close();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  input.addEventListener("keydown", (event) => {
    if (list.hidden || !options.length) return;
    const keys = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in keys) {
      active = (active + keys[event.key] + options.length) % options.length;
      render();
    } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      pick(active);
    } else if (event.key === "Escape") {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  });
  input.addEventListener("input", () => {
    active = 0;
    update();
  });
  input.addEventListener("click", update);
  input.addEventListener("blur", () => setTimeout(close, 100));

  return { el: list, close };
}

/** Text nodes with each `@username` of a member wrapped in a highlight. */
export function highlightMentions(nodes, conv, msg) {
  const names = new Map();
  for (const m of conv.members.values()) names.set(m.username.toLowerCase(), m);
  const ids = new Set((msg.mentions || []).map(String));
  if (!names.size) return nodes;
  const out = [];
  for (const node of nodes) {
    if (node.nodeType !== Node.TEXT_NODE) {
      out.push(node);
      continue;
    }
    const text = node.textContent;
    let last = 0;
    for (const match of text.matchAll(/(^|[^\w@])@([\w.@+-]+)/g)) {
      let name = match[2];
      let member = names.get(name.toLowerCase());
      while (!member && /[.+-]$/.test(name)) {
        name = name.slice(0, -1);
        member = names.get(name.toLowerCase());
      }
      if (!member) continue;
      const at = match.index + match[1].length;
      if (at > last) out.push(document.createTextNode(text.slice(last, at)));
      const me = store.me && member.id === store.me.id;
      out.push(
        h("span.mention", { class: me ? "mention-me" : "", dataset: { userId: member.id, mentioned: ids.has(String(member.id)) ? "true" : null } }, `@${name}`),
      );
      last = at + name.length + 1;
    }
    if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  }
  return out;
}
