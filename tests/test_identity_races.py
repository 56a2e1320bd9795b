"""First sight of a host user, many times at once: one user, never two.

Real threads with their own connections (tests.test_concurrency.race); the unique
external id decides on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import pytest

from parley.models import ExternalIdentity
from parley.services.identities import identity_provision, identity_upsert
from server.accounts.models import User
from tests.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 8


def test_concurrent_first_sight_of_one_sub_creates_one_user():
    for round_ in range(3):
        sub = f"racer-{round_}"
        users = race(THREADS, lambda i, sub=sub: identity_provision(external_id=sub, name="Race Car"))
        assert len({user.pk for user in users}) == 1
        assert ExternalIdentity.objects.filter(external_id=sub).count() == 1
    assert User.objects.count() == 3  # the losers' user rows rolled back with their savepoints


def test_concurrent_first_sight_of_many_subs_with_one_name_gives_each_a_username():
    users = race(THREADS, lambda i: identity_provision(external_id=f"twin-{i}", name="Twin"))
    assert len({user.pk for user in users}) == THREADS
    assert len({user.username for user in User.objects.all()}) == THREADS


def test_concurrent_upserts_of_one_external_id_create_it_once():
    results = race(THREADS, lambda i: identity_upsert(external_id="put-race", data={"display_name": f"n{i}"}))
    assert [created for _, created in results].count(True) == 1
    assert len({identity.user_id for identity, _ in results}) == 1
    assert User.objects.count() == 1
    assert ExternalIdentity.objects.get(external_id="put-race").display_name in {f"n{i}" for i in range(THREADS)}
