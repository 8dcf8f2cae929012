"""`python -m local.emulator --port 8300 [--seed]`: serve the emulator on loopback in the foreground."""

from __future__ import annotations

import argparse
import logging
import threading

from werkzeug.serving import make_server

from local.emulator.app import ShopifyEmulator
from local.emulator.schema import API_VERSION
from local.emulator.seed import seed_demo_stores
from local.emulator.server import QuietRequestHandler

LOOPBACK = "127.0.0.1"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--seed", action="store_true", help="create us-parent, eu-child and uk-child with a catalog")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # seeding makes hundreds of calls
    emulator = ShopifyEmulator()
    server = make_server(LOOPBACK, args.port, emulator, threaded=True, request_handler=QuietRequestHandler)
    base_url = f"http://{LOOPBACK}:{server.server_port}"
    if args.seed:
        # Seed over real HTTP, like merchant tooling, while the server already answers.
        threading.Thread(target=_seed, args=(base_url,), daemon=True).start()
    print(f"Shopify emulator (Admin API {API_VERSION}) on {base_url}; Ctrl-C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _seed(base_url: str) -> None:
    summary = seed_demo_stores(base_url)
    for store in summary.stores.values():
        print(
            f"  {store.shop_id:9} {store.currency}  {store.products} products, {store.variants} variants  "
            f"{store.admin_api_base_url}  token {store.access_token}",
            flush=True,
        )


if __name__ == "__main__":
    main()
