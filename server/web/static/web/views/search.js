// Message search: a box above the conversation list, results with the matched words
// marked, and a click that opens the conversation at the message (older pages are
// loaded until it is there, then it is scrolled to and highlighted).
//
// Snippets come from the server HTML-escaped with <mark> around the matches. They are
// never given to innerHTML: the text between the marks is unescaped into text nodes,
// so the only elements a snippet can make are the <mark>s built here.

import * as api from "../api.js";
import * as actions from "../actions.js";
import { h, replaceChildren } from "../dom.js";
import { formatListStamp, parseDate } from "../format.js";
import { conversationName, store, upsertConversation } from "../state.js";

const ENTITIES = { "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'", "&amp;": "&" };
const MAX_OLDER_PAGES = 40; // 2,000 messages back at 50 a page

function unescape(text) {
  return text.replace(/&(?:lt|gt|quot|amp|#x27|#39);/g, (entity) => ENTITIES[entity]);
}

/** The snippet as nodes: text, and <mark> elements for the matches. */
export function snippetNodes(snippet) {
  const nodes = [];
  let marked = false;
  for (const part of snippet.split(/(<mark>|<\/mark>)/)) {
    if (part === "<mark>") marked = true;
    else if (part === "</mark>") marked = false;
    else if (part) nodes.push(marked ? h("mark", {}, unescape(part)) : unescape(part));
  }
  return nodes;
}

/** Open conversation `id` (via `onOpen`) and bring message `messageId` into view. */
export async function openAt(id, messageId, onOpen) {
  // A hit may be in a conversation the list has not loaded yet (older, archived).
  if (!store.conversations.has(id)) upsertConversation(await api.getConversation(id, 1));
  onOpen(id);
  await actions.openHistory(id);
  const conv = store.conversations.get(id);
  for (let n = 0; conv && conv.messages && !conv.messages.has(messageId) && conv.hasOlder && n < MAX_OLDER_PAGES; n += 1) {
    if (conv.loadingOlder) await new Promise((r) => setTimeout(r, 50));
    else await actions.loadOlder(id);
  }
  // The pane renders on the next frames and may scroll to the bottom first.
  for (let tries = 0; tries < 40; tries += 1) {
    await new Promise((r) => setTimeout(r, 50));
    const el = document.getElementById(`m-${messageId}`);
    if (el) {
      el.scrollIntoView({ block: "center" });
      el.classList.add("search-target");
      setTimeout(() => el.classList.remove("search-target"), 4000);
      return true;
    }
  }
  return false;
}

export function createSearch({ onOpen }) {
  document.head.append(h("link", { rel: "stylesheet", href: "/static/web/views/search.css" }));
  const input = h("input.search", {
    type: "search",
    id: "message-search",
    placeholder: "Search messages",
    aria: { label: "Search messages" },
    autocomplete: "off",
    maxLength: 200,
  });
  const status = h("p.search-status.muted", { id: "search-status", role: "status", aria: { live: "polite" } });
  const results = h("ul.search-results", { id: "search-results", aria: { label: "Search results" } });
  const more = h("button.link-button.load-more", { type: "button", hidden: true }, "More results");
  const close = h("button.link-button", { type: "button", id: "search-close" }, "Close search");
  const panel = h("div.search-panel", { id: "search-panel", hidden: true }, status, results, more, close);
  const form = h("form.sidebar-search", { role: "search" }, input);
  const el = h("div.search", {}, form, panel);
  let query = "";
  let next = null;
  let generation = 0;

  function hide() {
    panel.hidden = true;
    results.replaceChildren();
    next = null;
  }

  function item(hit) {
    const conv = store.conversations.get(hit.conversation);
    const msg = hit.message;
    const open = async () => {
      try {
        const shown = await openAt(hit.conversation, msg.id, onOpen);
        if (!shown) status.textContent = "That message is too far back to show.";
      } catch (e) {
        status.textContent = `Could not open the conversation: ${e.message}`;
      }
    };
    return h(
      "li.search-hit",
      {},
      h(
        "button.search-hit-button",
        { type: "button", dataset: { messageId: msg.id, conversation: hit.conversation }, onclick: open },
        h(
          "span.search-hit-head",
          {},
          h("strong", {}, conv ? conversationName(conv) : "Conversation"),
          h("span.muted", {}, ` · ${msg.sender_name} · ${formatListStamp(parseDate(msg.timestamp))}`),
        ),
        h("span.search-snippet", {}, snippetNodes(hit.snippet)),
      ),
    );
  }

  async function run(cursor = null) {
    const mine = ++generation;
    status.textContent = cursor ? "Loading more…" : "Searching…";
    panel.hidden = false;
    more.hidden = true;
    try {
      const page = await api.request("GET", "/api/chat/search/", { query: { q: query, cursor } });
      if (mine !== generation) return;
      if (!cursor) results.replaceChildren();
      results.append(...page.results.map(item));
      next = page.next ? new URL(page.next, location.href).searchParams.get("cursor") : null;
      more.hidden = !next;
      const count = results.children.length;
      status.textContent = count ? `${count}${next ? "+" : ""} message${count === 1 ? "" : "s"} found` : "No messages found.";
    } catch (e) {
      if (mine !== generation) return;
      status.textContent = e.code === "query_invalid" ? "Type a word to search for." : `Search failed: ${e.message}`;
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    query = input.value.trim();
    if (!query) hide();
    else run();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      input.value = "";
      hide();
    }
  });
  input.addEventListener("search", () => {
    if (!input.value) hide();
  });
  more.addEventListener("click", () => next && run(next));
  close.addEventListener("click", () => {
    input.value = "";
    hide();
  });
  replaceChildren(results);
  return { el, hide };
}
