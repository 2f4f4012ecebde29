"""Fixtures every test folder may use. Folder-specific fixtures live in that folder's conftest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewlens.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = REPO_ROOT / "corpus"


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def corpus_dir() -> Path:
    return CORPUS_DIR


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings with a private data folder, so no test sees another's data."""
    monkeypatch.setenv("REVIEWLENS_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield Settings()
    get_settings.cache_clear()
