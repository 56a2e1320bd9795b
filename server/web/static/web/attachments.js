// Attachments have no public URL: they are fetched with the Authorization header and
// shown from blob: URLs (allowed by the page's img-src), one fetch per message.

import { fetchBlob } from "./api.js";

const blobs = new Map(); // message id -> Promise<object URL>

export function attachmentUrl(message) {
  if (!blobs.has(message.id)) {
    const promise = fetchBlob(message.attachment).then((blob) => URL.createObjectURL(blob));
    promise.catch(() => blobs.delete(message.id));
    blobs.set(message.id, promise);
  }
  return blobs.get(message.id);
}

/** Save the file under its own name, through a temporary link to its blob: URL. */
export async function downloadAttachment(message) {
  const url = await attachmentUrl(message);
  const a = document.createElement("a");
  a.href = url;
  a.download = message.attachment_name || "attachment";
  document.body.append(a);
  a.click();
  a.remove();
}

/** Forget every file (at logout: the next user of this tab must not reach them). */
export function revokeAttachments() {
  for (const promise of blobs.values()) promise.then((url) => URL.revokeObjectURL(url)).catch(() => {});
  blobs.clear();
}
