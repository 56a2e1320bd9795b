"""Kept for hosts whose routing imported the consumer from here: it is
parley.realtime.consumer.ChatConsumer (parley.routing has the routes)."""

from parley.realtime.consumer import ChatConsumer

__all__ = ["ChatConsumer"]
