"""Private storage for attachments: under MEDIA_ROOT/attachments, never given a public URL."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property


@deconstructible
class AttachmentStorage(FileSystemStorage):
    def __init__(self) -> None:
        super().__init__(base_url=None, file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @cached_property
    def base_location(self) -> str:
        return os.path.join(settings.MEDIA_ROOT, "attachments")

    def url(self, name: str | None) -> str:
        raise NotImplementedError("Attachments are served only by the authorizing download view.")


attachment_storage = AttachmentStorage()
