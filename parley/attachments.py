"""Attachment intake and delivery: bounded, renamed, typed by content, never active.

- Stored under a random, extension-less name in private storage (parley.storage: a
  private directory, or object storage such as S3), never given a public URL.
- The original file name is kept only for display and Content-Disposition, cleaned of
  paths, control characters and excess length.
- The served type comes from the file's first bytes, not the client's claim: PNG, JPEG,
  GIF and WebP are shown inline; everything else (SVG and HTML included) is sent as
  an `application/octet-stream` download, with `nosniff` and a sandboxing CSP.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO

from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

from parley.common.errors import InvalidInput, NotFound, PayloadTooLarge
from parley.conf import parley_settings
from parley.models import attachment_upload_to
from parley.storage import attachment_storage, open_stream, presigned_url

logger = logging.getLogger(__name__)

INLINE_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
DOWNLOAD_TYPE = "application/octet-stream"
MAX_NAME_BYTES = 200
CHUNK_BYTES = 64 * 1024
STREAM_BLOCK_BYTES = 256 * 1024


@dataclass(frozen=True)
class StoredAttachment:
    path: str
    name: str
    size: int
    content_type: str


def sanitize_filename(raw: str) -> str:
    """A display name that cannot name a path or smuggle control characters."""
    name = unicodedata.normalize("NFKC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext) <= 16 else ""
        budget = MAX_NAME_BYTES - len(ext.encode()) - (1 if ext else 0)
        stem = (stem if ext else name).encode()[:budget].decode(errors="ignore")
        name = f"{stem}.{ext}" if ext else stem
    return name or "attachment"


def sniff_content_type(head: bytes) -> str:
    for magic, content_type in INLINE_TYPES.items():
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return DOWNLOAD_TYPE


def attachment_validate(upload: UploadedFile) -> None:
    size = upload.size or 0
    if size > parley_settings.MAX_ATTACHMENT_BYTES:
        limit_mib = parley_settings.MAX_ATTACHMENT_BYTES / (1024 * 1024)
        raise PayloadTooLarge(f"The attachment is larger than the {limit_mib:g} MiB limit.")
    if size == 0:
        raise InvalidInput("The attachment is empty.", field="attachment", code="empty_attachment")


def attachment_store(upload: UploadedFile) -> StoredAttachment:
    """Write the upload to private storage before the message transaction starts,
    so that no disk write happens while the conversation is locked."""
    attachment_validate(upload)
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    path = attachment_storage.save(attachment_upload_to(None, ""), upload)  # type: ignore[arg-type]
    return StoredAttachment(
        path=path,
        name=sanitize_filename(upload.name or ""),
        size=upload.size or 0,
        content_type=sniff_content_type(head),
    )


def attachment_discard(path: str) -> None:
    try:
        attachment_storage.delete(path)
    except Exception:  # noqa: BLE001 - disk or object storage: the orphan sweep retries
        logger.warning("could not delete attachment file %s", path)


async def _read_chunks(handle: IO[bytes]) -> AsyncIterator[bytes]:
    """The file in chunks read off the event loop. Django's ASGI handler reads a
    synchronous iterator (FileResponse's own) whole into memory before sending a byte."""
    read = sync_to_async(handle.read, thread_sensitive=False)
    while chunk := await read(CHUNK_BYTES):
        yield chunk


def attachment_response(
    *, path: str, name: str, content_type: str, asynchronous: bool
) -> FileResponse | HttpResponseRedirect:
    """The file as a download, streamed from storage; or, with ATTACHMENT_DOWNLOADS =
    "redirect" on object storage, a 302 to a presigned URL valid ATTACHMENT_URL_SECONDS
    that forces the same Content-Type and Content-Disposition. The caller has checked
    that the requester may see the file: nobody else ever gets either.

    `asynchronous` when Django's ASGI handler serves the request: it would read a
    synchronous iterator whole into memory before sending a byte. Under the WSGI
    handler (production, server/asgi.py) FileResponse's own iterator streams it."""
    inline = content_type != DOWNLOAD_TYPE
    if parley_settings.ATTACHMENT_DOWNLOADS == "redirect":
        url = presigned_url(
            path,
            seconds=parley_settings.ATTACHMENT_URL_SECONDS,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition_header(not inline, name) or "attachment",
                "ResponseCacheControl": "private, no-store",
            },
        )
        if url is not None:
            redirect = HttpResponseRedirect(url)
            redirect["Cache-Control"] = "private, no-store"  # the URL is a credential, briefly
            redirect["Referrer-Policy"] = "no-referrer"
            return redirect
    try:
        handle, size = open_stream(path)
    except FileNotFoundError:  # removed from storage behind the database's back
        logger.warning("attachment file %s is missing", path)
        raise NotFound("The attachment file is missing.", code="attachment_missing")
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=name,
        content_type=content_type,
    )
    # Django's 4 KiB default meant 6,400 reads and sends for 25 MiB: 36 MB/s through
    # the WSGI bridge (bench/ops.py attachments).
    response.block_size = STREAM_BLOCK_BYTES
    if size is not None:
        response["Content-Length"] = str(size)
    if asynchronous:
        # FileResponse has set Content-Length and closes the file; stream it asynchronously.
        response.streaming_content = _read_chunks(handle)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, max-age=3600"
    return response
