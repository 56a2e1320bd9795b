// Short notices ("Could not delete the message") in a polite live region.

import { h } from "../dom.js";

let region = null;

export function mountToasts(root) {
  region = h("div.toasts", { role: "status", aria: { live: "polite" } });
  root.append(region);
}

export function toast(text, kind = "info") {
  if (!region) return;
  const item = h(`div.toast.${kind}`, {}, text);
  region.append(item);
  setTimeout(() => item.remove(), 5000);
}
