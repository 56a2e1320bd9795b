"""STORAGES: static files through WhiteNoise, attachments on disk or in S3-compatible storage."""

from __future__ import annotations

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

# The STORAGES alias Parley's attachments use when they live in object storage.
ATTACHMENTS = "attachments"


def storages(env: environ.Env) -> dict[str, dict[str, Any]]:
    """Attachments: Parley's private directory under MEDIA_ROOT (one host, or a shared
    volume), or S3-compatible object storage (STORAGE_BACKEND=s3) so that hosts share no
    disk. Either way never public: downloads go through the authorizing view."""
    result: dict[str, dict[str, Any]] = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    }
    backend = env.str("STORAGE_BACKEND", default="filesystem")
    if backend == "filesystem":
        return result
    if backend != "s3":
        raise ImproperlyConfigured("STORAGE_BACKEND must be 'filesystem' or 's3'.")
    endpoint = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    result[ATTACHMENTS] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": endpoint,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            # Unset: boto3's own chain (instance role, ~/.aws, AWS_* variables).
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("AWS_LOCATION", default="attachments"),
            # No ACL header by default: the bucket's own policy keeps objects private
            # (and some S3-compatible stores refuse ACLs); "private" where wanted.
            "default_acl": env.str("AWS_DEFAULT_ACL", default="") or None,
            "querystring_auth": True,
            "querystring_expire": 60,
            # Names are 128 random bits: no existence check (a HEAD) per upload.
            "file_overwrite": True,
            "signature_version": "s3v4",
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="path" if endpoint else "") or None,
        },
    }
    return result
