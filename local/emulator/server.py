"""Serve an emulator on a real loopback port from a background thread."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from local.emulator.app import ShopifyEmulator


class QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Tests and the demo make thousands of calls: no access log."""


def serve_in_thread(emulator: ShopifyEmulator, host: str = "127.0.0.1", port: int = 0) -> tuple[BaseWSGIServer, str]:
    """Start a threaded HTTP server; returns it (call `server.shutdown()` to stop) and its base URL."""
    server = make_server(host, port, emulator, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"shopify-emulator-{server.server_port}", daemon=True)
    thread.start()
    return server, f"http://{host}:{server.server_port}"
