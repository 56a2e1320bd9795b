// Web Push in the client: a button asks the browser's permission, registers the
// service worker (/sw.js, scope "/"), subscribes with the server's VAPID key and hands
// the subscription to POST /api/push/subscriptions/. The server then pushes new
// messages while no socket of this user is open; sw.js shows them.

import * as api from "./api.js";
import { h } from "./dom.js";
import { toast } from "./views/toast.js";

const SW_URL = "/sw.js";

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export function registerWorker() {
  return navigator.serviceWorker.register(SW_URL, { scope: "/" });
}

/** Ask, register, subscribe, tell the server. Resolves to the stored subscription. */
export async function enablePush() {
  const { enabled, public_key: publicKey } = await api.request("GET", "/api/push/key/", { anonymous: true });
  if (!enabled) throw new Error("this server sends no notifications.");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error("Notifications are blocked for this site in the browser.");
  await registerWorker();
  const registration = await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(publicKey),
    });
  }
  return api.request("POST", "/api/push/subscriptions/", { json: subscription.toJSON() });
}

async function serverHasPush() {
  try {
    return (await api.request("GET", "/api/push/key/", { anonymous: true })).enabled === true;
  } catch {
    return false;
  }
}

/** The "Notifications" button, in `container`; hidden where push cannot work. */
export function mountPushButton(container) {
  if (!pushSupported() || !container) return null;
  const button = h(
    "button.secondary",
    { type: "button", id: "enable-push", hidden: true, title: "Get notified of new messages while Parley is closed" },
    h("span", {}, "Notifications"),
  );
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await enablePush();
      button.hidden = true;
      toast("Notifications are on for this browser.");
    } catch (e) {
      toast(`Notifications could not be turned on: ${e.message}`);
    } finally {
      button.disabled = false;
    }
  });
  container.append(button);
  serverHasPush().then(async (available) => {
    if (!available) return;
    await registerWorker().catch(() => {});
    const registration = await navigator.serviceWorker.getRegistration("/");
    const subscription = registration && (await registration.pushManager.getSubscription());
    if (subscription && Notification.permission === "granted") {
      // Bind this browser's subscription to whoever is logged in now.
      api.request("POST", "/api/push/subscriptions/", { json: subscription.toJSON() }).catch(() => {});
    } else {
      button.hidden = Notification.permission === "denied";
    }
  });
  return button;
}

// Logging out ends this browser's subscription: the push service then answers 410 and
// the server forgets it, so the next person on this browser gets nobody else's pushes.
api.onAuthChange(async (kind) => {
  if (kind !== "logged-out" || !pushSupported()) return;
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = registration && (await registration.pushManager.getSubscription());
  if (subscription) await subscription.unsubscribe().catch(() => {});
});
