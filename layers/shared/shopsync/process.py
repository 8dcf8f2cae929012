"""Process-wide caches in one place: what a warm Lambda keeps between invocations, forgotten on demand."""

from __future__ import annotations


def reset_process_state() -> None:
    """Forget cached settings, AWS clients, secrets and Shopify cost buckets (tests and the local stack point the
    process at new endpoints)."""
    from shopsync.settings import get_settings
    from shopsync.shopify.throttle import reset_cost_buckets
    from shopsync.store.aws import reset_clients
    from shopsync.store.secrets import clear_cache

    get_settings.cache_clear()
    reset_clients()
    clear_cache()
    reset_cost_buckets()
