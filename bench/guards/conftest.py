"""The product test suite's fixtures (real tokens, the real ASGI app) for the guards."""

from tests.conftest import *  # noqa: F403
