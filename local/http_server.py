"""A werkzeug WSGI server on loopback, served from a daemon thread (the local API and Lambda endpoints)."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

LOOPBACK = "127.0.0.1"


class _SilentRequestHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """The apps log what matters themselves; werkzeug's access lines would mix with moto's."""


class BackgroundServer:
    def __init__(self, app: Any, *, port: int = 0, name: str) -> None:
        """`port` 0 picks a free port."""
        self._server = make_server(LOOPBACK, port, app, threaded=True, request_handler=_SilentRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
