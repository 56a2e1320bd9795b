// Files picked, pasted or dropped into the composer wait here, previewed (an image as a
// thumbnail from a local blob: URL, any other file as its name and size), until the
// message is sent: the first one goes out WITH the composer's text, as one message.
// Each conversation keeps its own picks, as it keeps its own draft.

import { h, icon, replaceChildren } from "../dom.js";
import { formatSize } from "../format.js";
import { fileRefusal } from "../errors.js";

/** onChange(): the picks changed (the composer re-checks what Send may do). */
export function createStaging({ limit, onError, onChange = () => {} }) {
  const byConversation = new Map(); // conversation id -> [{file, url}]
  let current = null;
  const el = h("ul.staged", { id: "staged-files", aria: { label: "Files to send" }, hidden: true });

  function items() {
    return current === null ? [] : byConversation.get(current) || [];
  }

  function release(item) {
    if (item.url) URL.revokeObjectURL(item.url);
  }

  function render() {
    const list = items();
    el.hidden = list.length === 0;
    replaceChildren(
      el,
      list.map((item) => {
        const { file } = item;
        const label = `${file.name}, ${formatSize(file.size)}`;
        const preview = item.url
          ? h("img.staged-thumb", { src: item.url, alt: `Preview of ${file.name}` })
          : h("span.staged-icon", {}, icon("file", "file-icon"));
        const remove = h(
          "button.icon-button.small.staged-remove",
          { type: "button", aria: { label: `Remove ${file.name}` }, title: "Remove" },
          icon("close"),
        );
        remove.addEventListener("click", () => {
          byConversation.set(current, items().filter((other) => other !== item));
          release(item);
          render();
          onChange();
        });
        return h(
          "li.staged-file",
          { dataset: { name: file.name }, title: label },
          preview,
          h("span.file-text", {}, h("span.file-name", {}, file.name), h("span.file-size", {}, formatSize(file.size))),
          remove,
        );
      }),
    );
  }

  /** Keep the files that may be sent; explain the first one refused. */
  function add(files) {
    if (current === null) return;
    const list = items();
    for (const file of files) {
      const refusal = fileRefusal(file, limit);
      if (refusal) {
        onError(refusal);
        continue;
      }
      const url = file.type && file.type.startsWith("image/") ? URL.createObjectURL(file) : null;
      list.push({ file, url });
    }
    byConversation.set(current, list);
    render();
    onChange();
  }

  /** The files to send now; the list empties. */
  function take() {
    const list = items();
    byConversation.delete(current);
    for (const item of list) release(item);
    render();
    onChange();
    return list.map((item) => item.file);
  }

  function setConversation(id) {
    current = id;
    render();
  }

  return { el, add, take, setConversation, count: () => items().length };
}
