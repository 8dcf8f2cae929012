"""Shopify Admin GraphQL emulator (API 2026-07) for the local stack, the tests and the benchmarks.

emu = ShopifyEmulator()
emu.add_store(shop_id="us-parent", name="US Store", currency="USD", access_token="shpat_x")
server, base_url = serve_in_thread(emu)          # or httpx.WSGITransport(app=emu) in-process
# POST {base_url}/stores/us-parent/admin/api/2026-07/graphql.json  (X-Shopify-Access-Token: shpat_x)
"""

from local.emulator.app import ShopifyEmulator
from local.emulator.schema import API_VERSION
from local.emulator.server import serve_in_thread

__all__ = ["API_VERSION", "ShopifyEmulator", "serve_in_thread"]
