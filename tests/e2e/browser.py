"""Headless Chromium for the browser tests: Debian's package (installed on demand), driven over the DevTools protocol
with websocket-client. Only what the tests need: open a page, evaluate JavaScript, record the URLs it requested."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import websocket

CHROMIUM_NAMES = ("chromium", "chromium-browser")
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
)
START_TIMEOUT_S = 30.0


class BrowserUnavailable(Exception):
    """Chromium is not installed and could not be installed here; the message says why."""


def find_chromium() -> str | None:
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def ensure_chromium() -> str:
    """The Chromium binary; installs Debian's `chromium` package when it is missing."""
    found = find_chromium()
    if found:
        return found
    if shutil.which("apt-get") is None:
        raise BrowserUnavailable("chromium is not installed and there is no apt-get to install it")
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    if os.geteuid() != 0 and shutil.which("sudo"):
        install = ["sudo", "-n", *install]
    result = subprocess.run(install, capture_output=True, text=True, check=False, timeout=900)
    found = find_chromium()
    if result.returncode != 0 or found is None:
        raise BrowserUnavailable(f"`{' '.join(install)}` failed ({result.returncode}): {result.stderr.strip()[-400:]}")
    return found


class Page:
    """One page target over the DevTools protocol."""

    def __init__(self, socket: websocket.WebSocket) -> None:
        self._socket = socket
        self._next_id = 0
        self.requested_urls: list[str] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message_id = self._next_id
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("method") == "Network.requestWillBeSent":
                self.requested_urls.append(message["params"]["request"]["url"])
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 20.0) -> Any:
        """Evaluate until the expression is truthy; returns its value."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"still false after {timeout_s} s: {expression}")


@contextmanager
def headless_page(binary: str) -> Iterator[Page]:
    """A fresh headless Chromium (its own profile directory) and its first page, with network events on."""
    with tempfile.TemporaryDirectory(prefix="shopsync-chromium-") as profile:
        process = subprocess.Popen(
            [binary, *HEADLESS_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port = _devtools_port(Path(profile) / "DevToolsActivePort", process)
            page_url = _page_websocket_url(port)
            socket = websocket.create_connection(page_url, timeout=30, suppress_origin=True)
            try:
                page = Page(socket)
                page.send("Network.enable")
                page.send("Page.enable")
                yield page
            finally:
                socket.close()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _devtools_port(port_file: Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BrowserUnavailable(f"chromium exited with {process.returncode} before opening its DevTools port")
        if port_file.exists() and (lines := port_file.read_text().splitlines()):
            return int(lines[0])
        time.sleep(0.1)
    raise BrowserUnavailable(f"chromium did not open its DevTools port within {START_TIMEOUT_S} s")


def _page_websocket_url(port: int) -> str:
    targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
    (page,) = [target for target in targets if target["type"] == "page"]
    return str(page["webSocketDebuggerUrl"])
