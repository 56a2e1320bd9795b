// Log in and create an account.

import * as api from "../api.js";
import { h, icon, replaceChildren } from "../dom.js";

export function renderAuth(root, { onLoggedIn, notice = "" }) {
  let mode = "login";
  const error = h("p.form-error", { role: "alert", id: "auth-error" });
  const info = h("p.form-notice", { role: "status" }, notice);
  const username = h("input", {
    id: "auth-username",
    name: "username",
    autocomplete: "username",
    required: true,
    maxLength: 150,
    autocapitalize: "none",
    spellcheck: "false",
  });
  const password = h("input", {
    id: "auth-password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const email = h("input", { id: "auth-email", name: "email", type: "email", autocomplete: "email" });
  const emailRow = h("div.field", { hidden: true }, h("label", { for: "auth-email" }, "Email (optional)"), email);
  const submit = h("button.primary.wide", { type: "submit" }, "Log in");
  const title = h("h1#auth-title", {}, "Welcome back");
  const subtitle = h("p.muted", {}, "Log in to continue your conversations.");
  const tabLogin = h("button.tab", { type: "button", role: "tab", id: "tab-login" }, "Log in");
  const tabRegister = h("button.tab", { type: "button", role: "tab", id: "tab-register" }, "Create account");

  function setMode(next) {
    mode = next;
    const login = mode === "login";
    tabLogin.setAttribute("aria-selected", String(login));
    tabRegister.setAttribute("aria-selected", String(!login));
    title.textContent = login ? "Welcome back" : "Create your account";
    subtitle.textContent = login
      ? "Log in to continue your conversations."
      : "Pick a username people can find you by.";
    submit.textContent = login ? "Log in" : "Create account";
    password.autocomplete = login ? "current-password" : "new-password";
    emailRow.hidden = login;
    error.textContent = "";
  }
  tabLogin.addEventListener("click", () => setMode("login"));
  tabRegister.addEventListener("click", () => setMode("register"));

  const form = h(
    "form.auth-form",
    { aria: { labelledby: "auth-title" }, novalidate: true },
    h("div.field", {}, h("label", { for: "auth-username" }, "Username"), username),
    h("div.field", {}, h("label", { for: "auth-password" }, "Password"), password),
    emailRow,
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    info.textContent = "";
    const name = username.value.trim();
    if (!name || !password.value) {
      error.textContent = "Enter a username and a password.";
      return;
    }
    submit.disabled = true;
    submit.textContent = mode === "login" ? "Logging in…" : "Creating account…";
    try {
      if (mode === "register") await api.register(name, password.value, email.value.trim());
      await api.login(name, password.value);
      onLoggedIn();
    } catch (e) {
      submit.disabled = false;
      setMode(mode);
      error.textContent = e.status === 401 ? "That username and password do not match an account." : e.message;
    }
  });

  replaceChildren(
    root,
    h(
      "main.auth",
      {},
      h(
        "section.auth-card",
        {},
        h("div.brand", {}, icon("chat", "brand-icon"), h("span", {}, "Parley")),
        h("div.tabs", { role: "tablist", aria: { label: "Log in or create an account" } }, tabLogin, tabRegister),
        title,
        subtitle,
        info,
        form,
        h("p.auth-footer.muted", {}, "Building a client? ", h("a", { href: "/api/docs/" }, "Read the API docs"), "."),
      ),
    ),
  );
  setMode("login");
  info.textContent = notice;
  username.focus();
}
