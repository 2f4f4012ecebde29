"""The README cannot drift from the code: every setting, command and API route is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewlens.cli import COMMANDS
from reviewlens.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    assert f"REVIEWLENS_{field.upper()}" in README


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_documented(command: str) -> None:
    assert f"`reviewlens {command}" in README


def test_every_api_route_is_documented(tmp_path: Path) -> None:
    from search_api.app import create_app

    app = create_app(Settings(data_dir=tmp_path))
    documented = set(re.findall(r"`(?:GET|POST|DELETE|PUT|PATCH) (/api/[^`\s]+)`", README))
    # path parameters are compared by position, not name: "{id}" in the README, "{document_id}"
    # in the code, "{csv,xlsx}" for "{fmt}"
    documented = {re.sub(r"\{[^}]*\}", "{}", path) for path in documented}
    routes = {re.sub(r"\{[^}]*\}", "{}", path) for path in app.openapi()["paths"]}
    assert routes - documented == set(), "routes missing from README"
    assert documented - routes == set(), "README documents routes that do not exist"
