"""parley.realtime.dbcalls: a socket thread keeps its connection, and drops it only when it broke."""

from __future__ import annotations

import pytest
from django.db import connection

from parley.realtime.dbcalls import _drop_broken_connections

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_healthy_connection_is_kept_after_a_failed_query() -> None:
    connection.ensure_connection()
    kept = connection.connection
    connection.errors_occurred = True  # e.g. an IntegrityError answered as a 409

    _drop_broken_connections()

    assert connection.connection is kept
    assert connection.errors_occurred is False


def test_a_broken_connection_is_dropped_and_the_next_call_gets_a_new_one() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("an in-process SQLite connection does not break (Django's is_usable is always true)")
    connection.ensure_connection()
    broken = connection.connection
    broken.close()  # what a database restart does to it
    connection.errors_occurred = True

    _drop_broken_connections()

    assert connection.connection is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert connection.connection is not broken
