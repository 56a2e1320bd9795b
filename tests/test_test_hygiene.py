"""The suite cleans up after itself: no var/test-* files after `make test` (.ci/run
checks the folder after each run; these check the hook that makes it so)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import remove_sqlite_test_database


def test_removes_the_database_and_its_wal_and_shm_files_only(tmp_path: Path):
    ours = ["test-parley-123.sqlite3_gw0", "test-parley-123.sqlite3_gw0-wal", "test-parley-123.sqlite3_gw0-shm"]
    others = ["test-parley-1234.sqlite3_gw0-wal", "test-parley-12.sqlite3_gw0-shm", "parley.sqlite3", "secret_key"]
    for name in ours + others:
        (tmp_path / name).write_bytes(b"x")

    removed = remove_sqlite_test_database(tmp_path / "test-parley-123.sqlite3_gw0")

    assert sorted(p.name for p in removed) == sorted(ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(others)
    assert remove_sqlite_test_database(tmp_path / "test-parley-123.sqlite3_gw0") == []


def test_the_hook_targets_the_database_this_run_really_uses(db):
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite test databases are files under var/")
    in_use = Path(connection.settings_dict["NAME"])
    configured = Path(settings.DATABASES["default"]["TEST"]["NAME"])
    assert in_use.exists()
    assert in_use.parent == configured.parent == Path(settings.BASE_DIR) / "var"
    assert in_use.name.startswith(configured.name)
