"""Regenerate the README's screenshots of the web page: `make screenshots` (or
`.venv/bin/python client/web/screenshots.py`). Starts `graphsim serve` on a free loopback port and
drives Debian's chromium through Playwright (no browser download)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> int:
    if not Path(CHROMIUM).is_file():
        print(f"needs Debian's chromium at {CHROMIUM}: make browser", file=sys.stderr)
        return 2
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = subprocess.Popen([sys.executable, "-m", "graphsim.cli", "serve", "--db", ":memory:", "--port", str(port), "--log-level", "warning"],
                              stderr=subprocess.DEVNULL, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        OUT.mkdir(exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860}, base_url=url)
            page.goto("/")  # opens on priya and the classified bucket
            expect(page.locator("#route-decision")).to_have_text("ALLOWED", timeout=20_000)
            page.screenshot(path=str(OUT / "decision-graph.png"))
            page.get_by_role("tab", name="Who can").click()
            page.locator("#who-form").get_by_role("button", name="Who can?").click()
            expect(page.locator("#who-list li")).to_have_count(3)
            page.screenshot(path=str(OUT / "who-can.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait()
    print(f"wrote {OUT / 'decision-graph.png'} and {OUT / 'who-can.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
