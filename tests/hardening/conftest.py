"""Fixtures of the hardening tests; the helpers behind them live in `hardening_support`, which
the tests import by that unique name (every folder here has a `conftest`)."""

from hardening_support import backend_env, live_server, make_client

__all__ = ["backend_env", "live_server", "make_client"]
