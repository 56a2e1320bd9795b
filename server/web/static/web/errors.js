// Error texts a person can act on: what went wrong and what to do, from the status,
// the `Retry-After` header, the configured limits and the stable `code`; never a raw
// code, a status number alone or JSON.

import { formatSize } from "./format.js";

/** "in 40 seconds", "in a minute", "in 12 minutes", "in 2 hours". */
export function inTime(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  if (s < 60) return s === 1 ? "in a second" : `in ${s} seconds`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return minutes === 1 ? "in a minute" : `in ${minutes} minutes`;
  const hours = Math.ceil(minutes / 60);
  return hours === 1 ? "in an hour" : `in ${hours} hours`;
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function parseRetryAfter(value) {
  if (value === null || value === undefined || value === "") return null;
  if (/^\d+$/.test(String(value).trim())) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

/** "26.2 MB is over the 25 MB limit", with as many decimals as it takes to differ. */
export function overLimit(size, limit) {
  let digits = 1;
  while (digits < 3 && formatSize(size, digits) === formatSize(limit, digits)) digits += 1;
  return `${formatSize(size, digits)} is over the ${formatSize(limit)} limit`;
}

/** Why a file cannot be sent, or null if it can. */
export function fileRefusal(file, limit) {
  if (file.size > limit) return `“${file.name}” is not attached: ${overLimit(file.size, limit)}.`;
  if (file.size === 0) return `“${file.name}” is not attached: the file is empty.`;
  return null;
}

const CODE_TEXTS = {
  not_participant: "You are no longer in this conversation.",
  not_sender: "Only the sender can change this message.",
  not_admin: "Only an admin of the group can do that.",
  not_found: "That message no longer exists.",
  empty_message: "Write something or attach a file first.",
  content_too_long: "That message is too long.",
  invalid_characters: "That message contains characters that cannot be sent.",
  conflict: "Something changed at the same time. Try again.",
  too_large: "That is over the upload limit.",
  attachment_missing: "That file is no longer available.",
  database_unavailable: "The server is having trouble. Try again in a moment.",
  server_error: "The server had a problem. Try again.",
  not_connected: "Not connected. It will be sent when the connection is back.",
  disconnected: "The connection dropped. Try again.",
  timeout: "The server did not answer. Try again.",
  closed: "Disconnected.",
  blocked: "You cannot message this person.",
  invalid_emoji: "That is not an emoji that can be used as a reaction.",
  reaction_not_found: "You had not reacted with that emoji.",
  message_deleted: "That message was deleted.",
  reply_to_invalid: "The message you are replying to is not available.",
  mention_not_member: "You can only mention members of this conversation.",
};

/** A sentence for a socket `error` frame. */
export function socketErrorText(code, detail) {
  if (code === "rate_limited" || code === "flooding") return "You are sending too fast. Wait a moment and try again.";
  if (CODE_TEXTS[code]) return CODE_TEXTS[code];
  return typeof detail === "string" && detail ? detail : "That did not work. Try again.";
}

function sentence(text) {
  const t = String(text).trim();
  return /[.!?…]$/.test(t) ? t : `${t}.`;
}

/**
 * A human sentence for a failed request: status, body (`{detail, code}` or DRF field
 * errors), and `retryAfter` seconds (from the header) where the server sent one.
 */
export function describeError(status, body, { retryAfter = null } = {}) {
  const code = body && typeof body === "object" ? body.code : undefined;
  if (status === 429) {
    const wait = retryAfter ?? (body && Number(body.retry_after)) ?? null;
    return wait ? `Too many requests. Try again ${inTime(wait)}.` : "Too many requests. Wait a moment and try again.";
  }
  if (status === 503) {
    return retryAfter ? `The server is busy. Try again ${inTime(retryAfter)}.` : "The server is busy. Try again in a moment.";
  }
  if (code && CODE_TEXTS[code]) return CODE_TEXTS[code];
  if (body && typeof body === "object") {
    if (typeof body.detail === "string" && body.detail) return sentence(body.detail);
    const parts = [];
    for (const [field, value] of Object.entries(body)) {
      if (field === "code" || field === "retry_after") continue;
      const text = Array.isArray(value) ? value.filter((v) => typeof v === "string").join(" ") : typeof value === "string" ? value : "";
      if (text) parts.push(field === "non_field_errors" ? sentence(text) : `${field.replace(/_/g, " ")}: ${sentence(text)}`);
    }
    if (parts.length) return parts.join(" ");
  }
  if (status === 0) return "The server cannot be reached. Check your connection.";
  if (status === 413) return "That is over the upload limit.";
  if (status === 401) return "Your session has ended. Log in again.";
  if (status === 403) return "You are not allowed to do that.";
  if (status === 404) return "That no longer exists.";
  if (status >= 500) return "The server had a problem. Try again.";
  return "That did not work. Try again.";
}
