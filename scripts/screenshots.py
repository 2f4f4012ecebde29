"""Screenshots of every page of a running ReviewLens server, at laptop size, for the docs and for
a look before a release.

    .venv/bin/python scripts/screenshots.py http://127.0.0.1:8000 [--key KEY] [--out DIR]

Uses Debian's Chromium through Playwright (no browser download). The first indexed document and
the first search hit are picked from the API, so it works on any library.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]


def _get(base: str, path: str, key: str | None) -> Any:
    request = urllib.request.Request(base + path)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--key", help="API key, when the server needs one")
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/screenshots"))
    parser.add_argument("--query", default="neglect")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    pages = {
        "search": f"/search?q={args.query}",
        "dashboard": "/dashboard",
        "recommendations": "/recommendations",
        "upload": "/upload",
        "admin": "/admin",
    }
    hits = _get(base, f"/api/search?q={args.query}&limit=1", args.key)["hits"]
    if hits:
        hit = hits[0]
        pages["document"] = f"/documents/{hit['document_id']}#p-{hit['passage_index']}"
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        if args.key:
            page.goto(base + "/search")
            page.evaluate("key => sessionStorage.setItem('reviewlens.apiKey', key)", args.key)
        for name, path in pages.items():
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            target = args.out / f"{name}.png"
            page.screenshot(path=str(target), full_page=name != "document")
            print(target)
        browser.close()


if __name__ == "__main__":
    main()
