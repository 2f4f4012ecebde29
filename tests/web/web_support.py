"""What the browser tests share: a real `reviewlens serve` process, page problem tracking and
screenshots. Fixtures using these live in conftest.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from search_api.testing import ServeProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO_ROOT / "corpus"
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READER_KEY = "reader-key-for-browser-tests-0001"
ADMIN_KEY = "admin-key-for-browser-tests-0002"


class Server(ServeProcess):
    def __init__(self, data_dir: Path, api_keys: str = "") -> None:
        super().__init__(data_dir, env={"REVIEWLENS_API_KEYS": api_keys})

    def api(self, path: str, key: str | None = None, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = httpx.get(f"{self.url}{path}", params=params, headers=headers, timeout=60)
        response.raise_for_status()
        return response.json()


class PageProblems:
    """Script errors and CSP refusals seen by a page; a test fails if any occur."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def console(self, message: Any) -> None:
        # a 4xx answer the page shows to the user (401 sign-in, 422 refused upload) is expected
        expected = message.text.startswith(
            "Failed to load resource: the server responded with a status of 4"
        )
        if message.type == "error" and not expected:
            self.errors.append(message.text)

    def page_error(self, error: Any) -> None:
        self.errors.append(str(error))

    def dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
