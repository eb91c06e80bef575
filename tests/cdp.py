"""A minimal headless-Chromium driver for the browser test: the DevTools protocol over a pipe.

Chromium started with ``--remote-debugging-pipe`` reads protocol commands on file descriptor 3
and writes replies and events on descriptor 4, each a JSON message ending in a NUL byte. That is
all this module speaks: no websocket, no port, no browser download, no package beyond the
standard library. It holds the transport and the few calls the browser test needs (open a page,
run JavaScript, take a screenshot, see network requests); what to check on a page lives in
``tests/test_browser.py``.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

#: Names of the Chromium executable tried in order (Debian's package installs `chromium`).
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """``$EMO_CHROMIUM`` if set, else the first of :data:`CANDIDATES` on the PATH."""
    given = os.environ.get("EMO_CHROMIUM")
    if given:
        return given if Path(given).exists() or shutil.which(given) else None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


class ProtocolError(RuntimeError):
    """Chromium answered a command with an error, died, or did not answer in time."""


class Chromium:
    """One headless Chromium with one page (tab), driven over the DevTools pipe.

    Use as a context manager; ``open(url)`` loads a page and waits for its load event,
    ``evaluate(js)`` runs an expression (awaiting a promise) and returns its JSON value,
    ``screenshot(path)`` saves the whole page as PNG. Requests to http(s) addresses are
    blocked (the book must work offline) and recorded in ``remote_requests``.
    """

    def __init__(self, executable: str, width: int = 1280, height: int = 900,
                 timeout: float = 60.0) -> None:
        self.width, self.height, self.timeout = width, height, timeout
        self._profile = tempfile.TemporaryDirectory(prefix="emo-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def on_fds_3_and_4() -> None:  # runs in the child between fork and exec
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        args = [executable, "--headless", "--remote-debugging-pipe", "--no-first-run",
                "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
                f"--user-data-dir={self._profile.name}", f"--window-size={width},{height}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        # Chromium's own log goes to a file: an unread stderr pipe could fill and block it.
        self._log = Path(self._profile.name) / "chromium.log"
        with open(self._log, "wb") as log:
            self._proc = subprocess.Popen(args + ["about:blank"], pass_fds=(3, 4),
                                          preexec_fn=on_fds_3_and_4, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=log)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self.remote_requests: list[str] = []
        self.session = self._attach()

    # ------------------------------------------------------------------ transport
    def _send(self, method: str, params: dict[str, Any] | None = None,
              session: str | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]
        return self._next_id

    def _receive(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                log = self._log.read_text(errors="replace")[-2000:]
                raise ProtocolError(f"Chromium closed the pipe; its log ends:\n{log}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(raw)
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith(("http://", "https://")):
                self.remote_requests.append(url)
        return message

    def call(self, method: str, params: dict[str, Any] | None = None, *,
             session: str | None = "page", timeout: float | None = None) -> dict[str, Any]:
        """Send one command (to the page's session unless ``session=None``), return its result."""
        sid = self.session if session == "page" else session
        wanted = self._send(method, params, sid)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            message = self._receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise ProtocolError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def wait_for_event(self, method: str, timeout: float | None = None) -> dict[str, Any]:
        for i, event in enumerate(self._events):
            if event["method"] == method:
                return self._events.pop(i)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            message = self._receive(deadline)
            if message.get("method") == method:
                return message
            if "method" in message:
                self._events.append(message)

    # ------------------------------------------------------------------ page
    def _attach(self) -> str:
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=None)
        session = self.call("Target.attachToTarget",
                            {"targetId": target["targetId"], "flatten": True},
                            session=None)["sessionId"]
        for method in ("Page.enable", "Runtime.enable", "Network.enable"):
            self.call(method, session=session)
        self.call("Network.setBlockedURLs", {"urls": ["http://*", "https://*"]}, session=session)
        self._metrics(self.width, self.height, session=session)
        return session

    def open(self, url: str) -> None:
        """Load ``url`` and wait for its load event."""
        self._events = [e for e in self._events if e["method"] != "Page.loadEventFired"]
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise ProtocolError(f"cannot open {url}: {result['errorText']}")
        self.wait_for_event("Page.loadEventFired")

    def evaluate(self, expression: str, timeout: float | None = None) -> Any:
        """The JSON value of a JavaScript expression (a promise is awaited)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise ProtocolError(f"JavaScript error: {text}")
        return result["result"].get("value")

    def screenshot(self, path: Path, max_height: int = 16000) -> Path:
        """Save the whole page (not only the window) as a PNG: the window is made as tall as
        the page for the capture (capturing beyond a short window shifts sticky layouts)."""
        height = self.call("Page.getLayoutMetrics")["cssContentSize"]["height"]
        height = max(1, min(int(height), max_height))
        self._metrics(self.width, height)
        try:
            data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        finally:
            self._metrics(self.width, self.height)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def _metrics(self, width: int, height: int, session: str | None = "page") -> None:
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  session=session)

    def close(self) -> None:
        try:
            self.call("Browser.close", session=None, timeout=5)
        except ProtocolError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
