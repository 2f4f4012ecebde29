"""What the browser tests share: a real `reviewlens serve` process, page problem tracking and
screenshots. Fixtures using these live in conftest.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO_ROOT / "corpus"
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
REVIEWLENS = str(Path(sys.executable).with_name("reviewlens"))
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    data_dir: Path
    api_keys: str = ""
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "REVIEWLENS_API_KEYS": self.api_keys}
        log = (self.data_dir.parent / f"server-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [REVIEWLENS, "serve", "--data-dir", str(self.data_dir), "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.process.poll() is None, "the server exited while starting"
            time.sleep(0.3)
        raise AssertionError("the server did not come up")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

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
