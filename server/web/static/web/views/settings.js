// Account settings (SPEC 11): download your data, delete your account. Both ask for
// the password; the export goes out in a header, never in the URL.

import * as api from "../api.js";
import { h } from "../dom.js";
import { openDialog } from "./dialogs.js";

async function exportData(password) {
  const response = await fetch("/api/auth/me/export/", {
    headers: { Accept: "application/json", Authorization: `Bearer ${api.accessToken()}`, "X-Password": password },
  });
  const text = await response.text();
  if (!response.ok) {
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {}
    throw new api.ApiError(response.status, body);
  }
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = h("a", { href: url, download: "parley-export.json", hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function settingsDialog({ onDeleted }) {
  openDialog({
    title: "Settings",
    className: "settings",
    build(body) {
      const password = h("input", {
        type: "password",
        id: "settings-password",
        autocomplete: "current-password",
        required: true,
      });
      const erase = h("input", { type: "checkbox", id: "settings-erase" });
      const status = h("p.form-error", { id: "settings-status", role: "alert" });
      const exportButton = h("button.secondary", { type: "button", id: "settings-export" }, "Download my data");
      const deleteButton = h("button.danger", { type: "button", id: "settings-delete" }, "Delete my account");

      async function run(button, work) {
        status.textContent = "";
        if (!password.value) {
          status.textContent = "Enter your password first.";
          password.focus();
          return;
        }
        button.disabled = true;
        try {
          await work(password.value);
        } catch (e) {
          status.textContent = e.message;
        } finally {
          button.disabled = false;
        }
      }
      exportButton.addEventListener("click", () =>
        run(exportButton, async (value) => {
          await exportData(value);
          status.textContent = "Your data is downloaded.";
        }),
      );
      deleteButton.addEventListener("click", () =>
        run(deleteButton, async (value) => {
          await api.request("DELETE", "/api/auth/me/", { json: { password: value, erase: erase.checked } });
          onDeleted();
        }),
      );
      body.append(
        h("label", { for: "settings-password" }, "Your password (to confirm)"),
        password,
        h("div.dialog-actions", {}, exportButton),
        h("label.checkbox", {}, erase, " Also erase every message I sent and its files"),
        h("div.dialog-actions", {}, deleteButton),
        status,
      );
      queueMicrotask(() => password.focus());
    },
  });
}

/** A settings button in the sidebar's header, before "Log out" (app.js). */
export function mountSettings(sidebarEl, { onDeleted }) {
  const button = h("button.link-button.settings-button", { type: "button", id: "settings" }, "Settings");
  button.addEventListener("click", () => settingsDialog({ onDeleted }));
  const logout = sidebarEl.querySelector("#logout");
  logout.before(button);
}
