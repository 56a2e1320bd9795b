// The REST client: JSON over fetch, the JWT pair in localStorage, and one refresh at
// a time. Refresh tokens rotate and the old one is blacklisted, so two refreshes
// with the same token would log the user out: refreshes are serialised (across tabs
// too, with the Web Locks API where the browser has it), and a tab first checks
// whether another tab already stored a newer pair.

import { describeError, parseRetryAfter } from "./errors.js";

const STORAGE_KEY = "parley.tokens";
const listeners = new Set();

export class ApiError extends Error {
  /** `retryAfter`: seconds from the response's Retry-After header, if it had one. */
  constructor(status, body, message, { retryAfter = null } = {}) {
    super(message || describeError(status, body, { retryAfter }));
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
    this.code = body && typeof body === "object" ? body.code : undefined;
  }
}

function failure(status, body, headerValue) {
  return new ApiError(status, body, undefined, { retryAfter: parseRetryAfter(headerValue) });
}

export { describeError };

// --- Tokens -----------------------------------------------------------------------------

function readTokens() {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    return value && value.access && value.refresh ? value : null;
  } catch {
    return null;
  }
}

let tokens = readTokens();

function storeTokens(pair) {
  tokens = pair;
  if (pair) localStorage.setItem(STORAGE_KEY, JSON.stringify(pair));
  else localStorage.removeItem(STORAGE_KEY);
  emit(pair ? "tokens" : "logged-out");
}

function emit(kind, external = false) {
  for (const fn of listeners) fn(kind, external);
}

/** Subscribe to "tokens" (a new pair) and "logged-out" (the session ended); the second
 * argument is true when another tab made the change. */
export function onAuthChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// Another tab logged out, logged in or refreshed.
window.addEventListener("storage", (event) => {
  if (event.key !== STORAGE_KEY) return;
  const next = readTokens();
  const had = tokens;
  tokens = next;
  if (!next && had) emit("logged-out", true);
  else if (next && (!had || next.access !== had.access)) emit("tokens", true);
});

export function isLoggedIn() {
  return tokens !== null;
}

export function accessToken() {
  return tokens ? tokens.access : null;
}

/** Seconds until the access token expires (from its `exp` claim), or 0. */
export function accessExpiresIn() {
  if (!tokens) return 0;
  try {
    const payload = JSON.parse(atob(tokens.access.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return Math.max(0, payload.exp - Date.now() / 1000);
  } catch {
    return 0;
  }
}

let refreshing = null;

/** Get a new access token; resolves to true, or false when the session is over. */
export function refreshTokens() {
  if (!refreshing) {
    const used = tokens ? tokens.access : null;
    const run = () => doRefresh(used);
    refreshing = (navigator.locks ? navigator.locks.request("parley-refresh", run) : run()).finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function doRefresh(usedAccess) {
  const latest = readTokens();
  if (!latest) {
    if (tokens) storeTokens(null);
    return false;
  }
  if (latest.access !== usedAccess) {
    tokens = latest; // another tab refreshed while we waited
    emit("tokens");
    return true;
  }
  let response;
  try {
    response = await fetch("/api/auth/refresh/", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ refresh: latest.refresh }),
    });
  } catch {
    return null; // offline: neither refreshed nor logged out
  }
  if (response.ok) {
    const pair = await response.json();
    storeTokens({ access: pair.access, refresh: pair.refresh || latest.refresh });
    return true;
  }
  if (response.status >= 500) return null;
  const again = readTokens(); // a tab that refreshed first won the rotation
  if (again && again.refresh !== latest.refresh) {
    tokens = again;
    emit("tokens");
    return true;
  }
  storeTokens(null);
  return false;
}

// --- Requests ---------------------------------------------------------------------------

async function parseBody(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("application/json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * request("POST", "/api/chat/conversations/start/", {json: {user2: 3}})
 * Authenticated unless `anonymous`; a 401 refreshes the token once and retries.
 */
export async function request(method, path, { json, query, anonymous = false, retry = true } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, v);
    const qs = params.toString();
    if (qs) url += (url.includes("?") ? "&" : "?") + qs;
  }
  const headers = { Accept: "application/json" };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  if (!anonymous && tokens) headers.Authorization = `Bearer ${tokens.access}`;
  let response;
  try {
    response = await fetch(url, { method, headers, body: json !== undefined ? JSON.stringify(json) : undefined });
  } catch {
    throw new ApiError(0, null);
  }
  if (response.status === 401 && !anonymous && retry) {
    const ok = await refreshTokens();
    if (ok) return request(method, path, { json, query, anonymous, retry: false });
    if (ok === false) throw new ApiError(401, null, "Your session has ended. Log in again.");
  }
  const body = await parseBody(response);
  if (!response.ok) throw failure(response.status, body, response.headers.get("Retry-After"));
  return body;
}

/** GET a protected file (attachments have no public URL) as a Blob. */
export async function fetchBlob(url, { retry = true } = {}) {
  let response;
  try {
    response = await fetch(url, { headers: tokens ? { Authorization: `Bearer ${tokens.access}` } : {} });
  } catch {
    throw new ApiError(0, null);
  }
  if (response.status === 401 && retry && (await refreshTokens())) return fetchBlob(url, { retry: false });
  if (!response.ok) throw failure(response.status, await parseBody(response), response.headers.get("Retry-After"));
  return response.blob();
}

/**
 * Multipart upload with progress (fetch cannot report upload progress; XHR can).
 * Resolves to the created message; `onProgress(loaded, total)`.
 */
export function upload(path, fields, { onProgress, retry = true, signal } = {}) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined || v === null) continue;
      for (const one of Array.isArray(v) ? v : [v]) form.append(k, one); // a list: the field repeated
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json");
    if (tokens) xhr.setRequestHeader("Authorization", `Bearer ${tokens.access}`);
    xhr.upload.onprogress = (e) => onProgress && e.lengthComputable && onProgress(e.loaded, e.total);
    xhr.onerror = () => reject(new ApiError(0, null));
    xhr.onabort = () => reject(new ApiError(0, null, "Upload cancelled."));
    xhr.onload = async () => {
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status === 401 && retry && (await refreshTokens())) {
        upload(path, fields, { onProgress, retry: false, signal }).then(resolve, reject);
      } else if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
      } else {
        reject(failure(xhr.status, body, xhr.getResponseHeader("Retry-After")));
      }
    };
    if (signal) signal.addEventListener("abort", () => xhr.abort());
    xhr.send(form);
  });
}

// --- Endpoints ----------------------------------------------------------------------------

const CONV = "/api/chat/conversations/";
const MSG = "/api/chat/messages/";

export async function login(username, password) {
  const pair = await request("POST", "/api/auth/login/", { json: { username, password }, anonymous: true });
  storeTokens({ access: pair.access, refresh: pair.refresh });
}

export function register(username, password, email) {
  return request("POST", "/api/auth/register/", { json: { username, password, email }, anonymous: true });
}

export async function logout() {
  const pair = tokens;
  storeTokens(null);
  if (pair) {
    try {
      await request("POST", "/api/auth/logout/", { json: { refresh: pair.refresh }, anonymous: true });
    } catch {
      // The local session is gone either way; the refresh token expires by itself.
    }
  }
}

export const me = () => request("GET", "/api/auth/me/");
export const searchUsers = (search) => request("GET", "/api/users/", { query: { search, limit: 20 } });

/** One page of conversations; `next` is the cursor URL of the following page or null. */
export async function listConversations({ url, embed = 1, archived = false } = {}) {
  const target = url ? new URL(url, location.href) : null;
  const path = target ? target.pathname + target.search : CONV;
  const headers = { Accept: "application/json" };
  let response;
  const run = async () => {
    if (tokens) headers.Authorization = `Bearer ${tokens.access}`;
    const query = target ? "" : `?limit=50&embed=${embed}${archived ? "&archived=true" : ""}`;
    return fetch(path + query, { headers });
  };
  try {
    response = await run();
    if (response.status === 401 && (await refreshTokens())) response = await run();
  } catch {
    throw new ApiError(0, null);
  }
  const body = await parseBody(response);
  if (!response.ok) throw failure(response.status, body, response.headers.get("Retry-After"));
  const link = response.headers.get("Link") || "";
  const match = link.match(/<([^>]+)>;\s*rel="next"/);
  return { results: body, next: match ? match[1] : null };
}

export const getConversation = (id, embed = 1) => request("GET", `${CONV}${id}/`, { query: { embed } });
export const startDirect = (userId) => request("POST", `${CONV}start/`, { json: { user2: userId } });
export const createGroup = (title, participants) => request("POST", CONV, { json: { title, participants } });
export const renameGroup = (id, title) => request("PATCH", `${CONV}${id}/`, { json: { title } });
export const deleteConversation = (id) => request("DELETE", `${CONV}${id}/`);
export const addMembers = (id, participants) =>
  request("POST", `${CONV}${id}/add_participants/`, { json: { participants } });
export const removeMember = (id, user) => request("POST", `${CONV}${id}/remove_participant/`, { json: { user } });
export const leaveConversation = (id) => request("POST", `${CONV}${id}/leave/`);

/** Keyset history: the newest page, or the page just older than `before`. */
export const messagesPage = (id, { before, limit = 50 } = {}) =>
  request("GET", `${CONV}${id}/messages/`, { query: { before, limit } });

/** Durable events after `since` (the same frames as the socket); for the placeholders
 * of deleted messages in a history page. */
export const conversationEvents = (id, since, limit = 500) =>
  request("GET", `${CONV}${id}/events/`, { query: { since, limit } });

export const sendMessage = (id, content, clientId, extras = {}) =>
  request("POST", `${CONV}${id}/send_message/`, { json: { content, client_id: clientId, ...extras } });
/** One message with a file and (optionally) text, multipart. */
export const sendFile = (id, file, content, clientId, extras, opts) =>
  upload(
    `${CONV}${id}/send_message/`,
    { attachment: file, content: content || undefined, client_id: clientId, ...extras },
    opts,
  );
export const editMessage = (id, content) => request("POST", `${MSG}${id}/edit_message/`, { json: { content } });
export const deleteMessage = (id) => request("POST", `${MSG}${id}/delete_message/`);
export const markRead = (id) => request("POST", `${MSG}${id}/mark_read/`);

/** Live messages that mention the caller, newest first: the newest page, or the page
 * just older than message `before` (the `before` of the previous page's `next`). */
export const mentionsPage = ({ before, limit = 20 } = {}) =>
  request("GET", "/api/chat/mentions/", { query: { before, limit } });
