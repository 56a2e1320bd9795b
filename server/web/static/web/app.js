// Entry point: log in, or start the session and lay out the list and the open
// conversation. The open conversation lives in the URL (#/c/<id>), so a reload or
// the back button keeps the place.

import * as api from "./api.js";
import * as actions from "./actions.js";
import { isSilenced } from "./chatstate.js";
import { h, icon } from "./dom.js";
import { store, subscribe } from "./state.js";
import { renderAuth } from "./views/auth.js";
import { mountBlockControls } from "./views/block.js";
import { detailsDialog } from "./views/details.js";
import { confirmDialog, imageDialog, newChatDialog, newGroupDialog } from "./views/dialogs.js";
import { mountPushButton } from "./push.js";
import { createMentionsList } from "./views/mentions-list.js";
import { createPane } from "./views/pane.js";
import { createSearch } from "./views/search.js";
import { mountSettings } from "./views/settings.js";
import { createSidebar } from "./views/sidebar.js";
import { mountToasts, toast } from "./views/toast.js";

const root = document.getElementById("app");
let shell = null;
let unsubscribe = () => {};

function routeId() {
  const match = location.hash.match(/^#\/c\/(\d+)$/);
  return match ? Number(match[1]) : null;
}

function open(id) {
  const target = id === null ? "#/" : `#/c/${id}`;
  if (location.hash !== target) location.hash = target;
  else applyRoute();
}

/** "(3) Parley": the unread messages of every conversation but the open one and those
 * muted or set to notify of nothing (their list badges still count them). */
function renderTitle() {
  const unread = [...store.conversations.values()].reduce(
    (sum, c) => sum + (c.id === store.openId || isSilenced(c) ? 0 : c.unread),
    0,
  );
  document.title = unread ? `(${unread}) Parley` : "Parley";
}

function applyRoute() {
  if (!shell) return;
  let id = routeId();
  if (id !== null && !store.conversations.has(id)) id = null;
  store.openId = id;
  shell.pane.show(id);
  shell.layout.classList.toggle("show-pane", id !== null);
  shell.sidebar.render();
  renderTitle();
  shell.blocks.update();
  if (id !== null && window.matchMedia("(min-width: 721px)").matches) shell.pane.focusComposer();
}

window.addEventListener("hashchange", applyRoute);

function showAuth(notice = "") {
  unsubscribe();
  shell = null;
  document.title = "Parley";
  renderAuth(root, { onLoggedIn: () => showApp(), notice });
}

function showLoading(text) {
  root.replaceChildren(h("main.splash", { role: "status" }, icon("chat", "brand-icon"), h("p", {}, text)));
}

let starting = false;

async function showApp(attempt = 0) {
  if (starting || shell) return;
  starting = true;
  showLoading("Loading your conversations…");
  try {
    await actions.startSession((reason) => showAuth(reason));
  } catch (e) {
    starting = false;
    if (e.status === 401 || !api.isLoggedIn()) {
      showAuth("Your session has ended. Log in again.");
      return;
    }
    const wait = Math.min(30, 2 ** attempt);
    showLoading(`Cannot reach the server (${e.message}). Trying again in ${wait} s…`);
    setTimeout(() => api.isLoggedIn() && !shell && showApp(attempt + 1), wait * 1000);
    return;
  }
  starting = false;
  buildShell();
}

function buildShell() {
  const onConfirm = (text, action) => confirmDialog(text, action);
  const sidebar = createSidebar({
    onOpen: open,
    onNewChat: () => newChatDialog({ onOpen: open }),
    onNewGroup: () => newGroupDialog({ onOpen: open }),
  });
  const pane = createPane({
    onBack: () => open(null),
    onDetails: (id) => detailsDialog(id, { onConfirm }),
    onConfirm,
    onImage: (msg) => imageDialog(msg),
  });
  const search = createSearch({ onOpen: open });
  const mentions = createMentionsList({ onOpen: open, onShow: () => search.hide() });
  // The mentions button sits beside the search box and its panel where search results
  // appear; one of the two panels is open at a time.
  const searchForm = search.el.querySelector("form.sidebar-search");
  searchForm.append(mentions.toggle);
  searchForm.addEventListener("submit", () => mentions.hide());
  search.el.append(mentions.panel);
  sidebar.el.querySelector(".sidebar-actions").after(search.el);
  const layout = h("div.layout", { id: "layout" }, sidebar.el, pane.el);
  root.replaceChildren(layout);
  mountToasts(root);
  const blocks = mountBlockControls(pane.el);
  mountSettings(sidebar.el, { onDeleted: () => actions.logout() });
  shell = { sidebar, pane, layout, blocks };

  unsubscribe = subscribe((topics) => {
    if (!shell) return;
    if (topics.has("route")) {
      if (store.notice) toast(store.notice);
      store.notice = null;
      open(null);
    }
    if (topics.has("conversations") || topics.has("presence")) {
      sidebar.render();
      renderTitle();
    }
    if (topics.has("connection")) sidebar.renderConnection();
    pane.update(topics);
    shell.blocks.update();
  });
  sidebar.renderConnection();
  mountPushButton(sidebar.el.querySelector(".sidebar-actions"));
  applyRoute();
}

// Logging in from another tab logs this one in too (logging out is handled by actions.js).
api.onAuthChange((kind, external) => {
  if (kind === "tokens" && external && !shell && !starting) showApp();
});

if (api.isLoggedIn()) showApp();
else showAuth();
