"""One real server per session on the sample corpus, driven by Debian's Chromium.

The corpus is ingested once with the command line users run; a second server with API keys runs
on a copy of that data folder so the role tests never change what the other tests see.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import (
    ADMIN_KEY,
    CHROMIUM,
    CHROMIUM_ARGS,
    CORPUS_DIR,
    READER_KEY,
    PageProblems,
    Server,
)

from search_api.testing import REVIEWLENS


@pytest.fixture(scope="session")
def corpus_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample corpus ingested once with `reviewlens ingest`, as the README does."""
    data_dir = tmp_path_factory.mktemp("web") / "data"
    files = [
        p for p in sorted(CORPUS_DIR.iterdir()) if p.is_file() and not p.name.endswith(".json")
    ]
    files = [p for p in files if p.name != "README.md"]
    assert files, "the sample corpus is empty"
    result = subprocess.run(
        [REVIEWLENS, "ingest", *map(str, files), "--data-dir", str(data_dir)],
        capture_output=True,
        timeout=900,
        env={**os.environ, "REVIEWLENS_API_KEYS": ""},
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    # the keyed server's copy is taken now, before any server has the files open
    shutil.copytree(data_dir, data_dir.parent / "keyed-data")
    return data_dir


@pytest.fixture(scope="session")
def server(corpus_data: Path) -> Iterator[Server]:
    """Open server: no keys configured, so every caller on loopback is an admin."""
    srv = Server(corpus_data)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def keyed_server(corpus_data: Path) -> Iterator[Server]:
    """A server that needs keys, on its own copy of the ingested data."""
    srv = Server(
        corpus_data.parent / "keyed-data", api_keys=f"reader:{READER_KEY},admin:{ADMIN_KEY}"
    )
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, problems: PageProblems) -> Iterator[Any]:
    """A fresh tab at laptop size; fails the test on any script error or CSP violation."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    tab.on("console", problems.console)
    tab.on("pageerror", problems.page_error)
    tab.on("dialog", problems.dialog)
    yield tab
    context.close()
    assert not problems.errors, problems.errors
