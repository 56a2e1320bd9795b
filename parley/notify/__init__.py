"""Notifications when the app is closed (SPEC 12): the parts that are neither a write nor a read.

    destinations  where Parley may send a request (http(s), public addresses after DNS,
                  every redirect), and the pinned HTTP client that sends it
    preferences   who gets a push: notification level, mute, mentions (one place)
    webhooks      Standard Webhooks signing and one delivery attempt
    webpush       VAPID keys and one encrypted push to one subscription

The outbox and its fan-out are writes (parley.services.outbox), the worker that drains
it is its own process (parley.worker, `manage.py parley_worker`).
"""
