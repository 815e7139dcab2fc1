"""Load a page in headless chromium over the DevTools protocol: which images show, which errors it logs."""

from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# Waits for every <img> to finish loading or failing, then describes each.
IMAGES = """
Promise.all(Array.from(document.images).map(i => i.decode().then(() => true, () => false)))
  .then(() => Array.from(document.images).map(i => ({
      src: (i.getAttribute('src') || '').slice(0, 40), alt: i.alt, complete: i.complete,
      naturalWidth: i.naturalWidth, shownWidth: i.getBoundingClientRect().width})))
"""


@dataclass
class PageCheck:
    """What the browser saw: each <img> and every error the page logged."""

    images: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """One line per image not shown and per console error; empty for a good page."""
        hidden = [f"image {i['alt'] or i['src']!r} not shown (naturalWidth {i['naturalWidth']}, "
                  f"shown width {i['shownWidth']})" for i in self.images
                  if not i["complete"] or i["naturalWidth"] <= 0 or i["shownWidth"] <= 0]
        return hidden + [f"console error: {e}" for e in self.errors]


class DevTools:
    """Chromium started with --remote-debugging-pipe: commands on its fd 3, replies and events on its fd 4."""

    def __init__(self, chromium: str, profile: Path):
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", f"--user-data-dir={profile}",
                "--remote-debugging-pipe", "about:blank"]
        # bash (dash takes one-digit descriptors only) puts the pipe ends on the 3 and 4 chromium expects.
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_browser} 4>&{from_browser}', chromium, *args],
            pass_fds=(to_browser, from_browser), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._next_id, self.events = b"", 0, []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        return self._next_id

    def receive(self, deadline: float) -> dict:
        """The next message; TimeoutError after `deadline` (time.monotonic())."""
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited: {self.process.stderr.read().decode(errors='replace')[-2000:]}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        """Send a command and return its result; events that arrive meanwhile go to `events`."""
        wanted, deadline = self.send(method, params, session), time.monotonic() + timeout
        while True:
            message = self.receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        """Wait until the event `method` has arrived (or already had); return it."""
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self.receive(deadline))
        return next(e for e in self.events if e.get("method") == method)

    def drain(self, seconds: float) -> None:
        """Collect the events of the next `seconds`."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self.receive(deadline))
        except TimeoutError:
            pass

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._write)
            os.close(self._read)


def errors(events: list[dict]) -> list[str]:
    """Uncaught exceptions, console.error/assert calls and error log entries (failed loads) among `events`."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            found.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"{params['entry'].get('text')} ({params['entry'].get('url', '')})")
    return found


def check_page(chromium: str, path: Path, timeout: float = 60) -> PageCheck:
    """Open `path` in headless chromium; report each <img> and the errors logged while it loads."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        browser = DevTools(chromium, Path(profile))
        try:
            target = browser.call("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
            session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                browser.call(f"{domain}.enable", session=session)
            browser.call("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session)
            browser.wait_for("Page.loadEventFired", timeout)
            result = browser.call("Runtime.evaluate", {"expression": IMAGES, "returnByValue": True,
                                                       "awaitPromise": True}, session=session, timeout=timeout)
            browser.drain(0.5)
        finally:
            browser.close()
    if "exceptionDetails" in result:
        raise RuntimeError(f"the image probe failed: {result['exceptionDetails']}")
    return PageCheck(result["result"]["value"], errors(browser.events))
