"""Private storage for attachments, on any Django storage backend; never a public URL.

`attachment_storage` (the FileField's storage) hands every call to the backend chosen
by PARLEY["ATTACHMENT_STORAGE"]:

    None (default)   Parley's own FileSystemStorage under MEDIA_ROOT/attachments,
                     files 0600, directories 0700
    "<alias>"        `django.core.files.storage.storages[alias]`, a backend the host
                     configures in STORAGES, e.g. django-storages' S3Storage, so that
                     several hosts share the files (docs/operations.md)

Whatever the backend, `url()` is refused: files go out only through the authorizing
download view (parley.attachments), which streams them or redirects to a short-lived
presigned URL. The class keeps its name and deconstructs without arguments, so the
migrations do not change with the choice.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property


class LocalAttachmentStorage(FileSystemStorage):
    def __init__(self) -> None:
        super().__init__(base_url=None, file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @cached_property
    def base_location(self) -> str:
        return os.path.join(settings.MEDIA_ROOT, "attachments")


@deconstructible
class AttachmentStorage(Storage):
    _backend: Storage | None = None

    @property
    def backend(self) -> Storage:
        if self._backend is None:
            from parley.conf import parley_settings

            alias = parley_settings.ATTACHMENT_STORAGE
            self._backend = storages[alias] if alias else LocalAttachmentStorage()
        return self._backend

    def reset(self) -> None:
        self._backend = None

    def url(self, name: str | None) -> str:
        raise NotImplementedError("Attachments are served only by the authorizing download view.")

    # --- Everything else goes to the backend ------------------------------------------------

    def open(self, name: str, mode: str = "rb") -> Any:
        return self.backend.open(name, mode)

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        return self.backend.save(name, content, max_length=max_length)

    def _open(self, name: str, mode: str = "rb") -> Any:
        return self.backend.open(name, mode)

    def _save(self, name: str, content: Any) -> str:
        return self.backend.save(name, content)

    def get_valid_name(self, name: str) -> str:
        return self.backend.get_valid_name(name)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return self.backend.get_available_name(name, max_length=max_length)

    def generate_filename(self, filename: str | os.PathLike[str]) -> str:
        return self.backend.generate_filename(filename)

    def path(self, name: str) -> str:
        return self.backend.path(name)

    def delete(self, name: str) -> None:
        self.backend.delete(name)

    def exists(self, name: str) -> bool:
        return self.backend.exists(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self.backend.listdir(path)

    def size(self, name: str) -> int:
        return self.backend.size(name)

    def get_modified_time(self, name: str) -> datetime:
        return self.backend.get_modified_time(name)

    def get_created_time(self, name: str) -> datetime:
        return self.backend.get_created_time(name)

    def get_accessed_time(self, name: str) -> datetime:
        return self.backend.get_accessed_time(name)

    @property
    def location(self) -> str:
        """The local directory, for the filesystem backend only."""
        return str(getattr(self.backend, "location", ""))


def open_stream(name: str) -> tuple[IO[bytes], int | None]:
    """A file-like to stream the file from, and its size when known. Object storage
    streams the object's body as it arrives: django-storages' own `open()` downloads
    the whole object before the first byte can go out."""
    backend = attachment_storage.backend
    bucket = getattr(backend, "bucket", None)
    if bucket is not None and hasattr(backend, "_normalize_name"):
        from botocore.exceptions import ClientError
        from storages.utils import clean_name

        try:
            got = bucket.Object(backend._normalize_name(clean_name(name))).get()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise FileNotFoundError(name) from None
            raise
        return got["Body"], int(got["ContentLength"])
    handle = backend.open(name, "rb")
    return handle, None


def presigned_url(name: str, *, seconds: int, parameters: dict[str, str]) -> str | None:
    """A GET URL for the object valid `seconds`, with response headers forced by
    `parameters` (ResponseContentDisposition, ...); None where the backend cannot
    sign one (the filesystem)."""
    backend = attachment_storage.backend
    if not hasattr(backend, "bucket") or not getattr(backend, "querystring_auth", False):
        return None
    return str(backend.url(name, parameters=parameters, expire=seconds))  # type: ignore[call-arg]


attachment_storage = AttachmentStorage()


def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting in {"PARLEY", "STORAGES", "MEDIA_ROOT"}:
        attachment_storage.reset()


setting_changed.connect(_reset, dispatch_uid="parley-attachment-storage")
