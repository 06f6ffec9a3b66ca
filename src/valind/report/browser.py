"""Open a report in headless Chromium over the DevTools protocol: check it loads cleanly, take a screenshot.

Used by the browser test and to make the README screenshot:

    python -m valind.report.browser RUN_DIR/report/report.html -o docs/report-screenshot.png

Needs Debian's `chromium` package (or CHROMIUM=/path/to/chrome) and the
`websocket-client` package. Only the local file is loaded; every network
request the page makes is recorded, so a test can assert there are none.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]
IMAGES_JS = """JSON.stringify((() => { const imgs = Array.from(document.images);
  return {total: imgs.length, loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
          height: document.documentElement.scrollHeight, title: document.title,
          scripts: document.scripts.length}; })())"""


@dataclass
class PageCheck:
    images_total: int = 0
    images_loaded: int = 0
    page_height: int = 0
    title: str = ""
    scripts: int = 0
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for


def find_chromium() -> str | None:
    env = os.environ.get("CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class _DevTools:
    """A minimal DevTools protocol client over one page's websocket."""

    def __init__(self, ws_url: str):
        import websocket  # websocket-client

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"DevTools {method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)
        raise TimeoutError(f"DevTools {method}: no answer in {timeout}s")

    def wait_for(self, event: str, timeout: float = 30) -> None:
        if any(e.get("method") == event for e in self.events):
            return
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == event:
                return
            if msg.get("method") == "Page.javascriptDialogOpening":  # an alert() ran: the page executed code
                raise RuntimeError(f"the page opened a JavaScript dialog: {msg.get('params', {}).get('message')!r}")
        raise TimeoutError(f"DevTools: {event} did not arrive in {timeout}s")

    def close(self) -> None:
        self.ws.close()


def check_page(html_path: str | Path, screenshot: str | Path | None = None, *, width: int = 1280,
               height: int = 900, full_page: bool = False, timeout: float = 60) -> PageCheck:
    """Load `html_path` in headless Chromium; report images, console errors and requests; optionally screenshot."""
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("chromium not found (Debian: apt-get install chromium; or set CHROMIUM)")
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="valind-chromium-") as profile:
        proc = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                 f"--window-size={width},{height}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = _devtools_port(Path(profile), proc, timeout)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
                targets = json.load(resp)
            page = next(t for t in targets if t.get("type") == "page")
            dt = _DevTools(page["webSocketDebuggerUrl"])
            try:
                for domain in ("Page", "Runtime", "Log", "Network"):
                    dt.call(f"{domain}.enable")
                dt.call("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
                dt.events.clear()
                dt.call("Page.navigate", {"url": url})
                dt.wait_for("Page.loadEventFired", timeout)
                info = json.loads(dt.call("Runtime.evaluate", {"expression": IMAGES_JS,
                                                               "returnByValue": True})["result"]["value"])
                check = PageCheck(images_total=info["total"], images_loaded=info["loaded"],
                                  page_height=info["height"], title=info["title"], scripts=info["scripts"])
                if screenshot is not None:
                    params = {"format": "png"}
                    if full_page:
                        params.update(captureBeyondViewport=True,
                                      clip={"x": 0, "y": 0, "width": width, "height": info["height"], "scale": 1})
                    data = dt.call("Page.captureScreenshot", params, timeout)["data"]
                    Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                    Path(screenshot).write_bytes(base64.b64decode(data))
                _collect_problems(dt.events, check, url)
            finally:
                dt.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return check


def _devtools_port(profile: Path, proc: subprocess.Popen, timeout: float) -> int:
    port_file = profile / "DevToolsActivePort"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if port_file.exists():
            lines = port_file.read_text().split()
            if lines:
                return int(lines[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with code {proc.returncode} before DevTools started")
        time.sleep(0.1)
    raise TimeoutError("chromium DevTools did not start")


def _collect_problems(events: list[dict], check: PageCheck, page_url: str) -> None:
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            check.console_errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                                 for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            check.console_errors.append(params.get("exceptionDetails", {}).get("text", "exception"))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            check.console_errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            req_url = params.get("request", {}).get("url", "")
            if req_url != page_url and not req_url.startswith("data:"):
                check.requests.append(req_url)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Screenshot a valind report in headless Chromium and check it loads.")
    p.add_argument("html")
    p.add_argument("-o", "--output", default="report-screenshot.png")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=1600)
    p.add_argument("--full-page", action="store_true")
    args = p.parse_args(argv)
    check = check_page(args.html, args.output, width=args.width, height=args.height, full_page=args.full_page)
    print(f"{args.output}: images {check.images_loaded}/{check.images_total} loaded, "
          f"{len(check.console_errors)} console errors, {len(check.requests)} other requests")
    for err in check.console_errors:
        print("  console:", err)
    return 0 if check.images_loaded == check.images_total and not check.console_errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
