"""A real browser for the sign-in tests (docs/browser-sign-in.md): Debian's Chromium,
headless, driven by Selenium through Debian's chromedriver (nothing is downloaded), and an
app's redirect URI served on loopback that records what the browser brings back.

Without Chromium the browser tests skip, except in CI (``CI`` set), where they fail: CI
installs it (``.ci/run``) and must run them.
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def require(path: str, package: str) -> None:
    """Skips the test when `path` (a program or a module) is missing, with one line saying
    what to install; fails in CI."""
    if os.path.isfile(path):
        return
    message = f"{path} is missing (Debian's {package})"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {message}")
    pytest.skip(message)


def chromium():
    """A fresh headless Chromium: its own profile, so no cookie survives from another test.
    The server's certificate is self-signed, as the seeds' `curl -k` assumes."""
    require(CHROMIUM, "chromium")
    require(CHROMEDRIVER, "chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                 "--window-size=1000,800", "--no-first-run", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


class Callback:
    """An app's redirect URI, `http://127.0.0.1:PORT/callback` (a loopback redirect URI,
    RFC 8252 §7.3): answers a small page and remembers every query it received."""

    def __init__(self) -> None:
        received: list[dict[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                if parts.path != "/favicon.ico":  # the browser's own request, not the flow's
                    received.append({name: values[0] for name, values in parse_qs(parts.query).items()}
                                    | {"_path": parts.path})
                body = b"<!doctype html><title>App</title><p id='app'>Back at the app.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *arguments) -> None:
                pass  # the queries hold codes: nothing on the console

        self.received = received
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def uri(self, path: str = "/callback") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def last(self) -> dict[str, str]:
        assert self.received, "the app's redirect URI was never reached"
        return self.received[-1]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

