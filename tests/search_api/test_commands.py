"""The command line over a real data folder: ingest (with a failure), search, themes, export,
documents, reindex, and serve's refusal to listen beyond loopback without keys."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from test_api_support import corrupt_pdf, docx_review, review_bytes

from reviewlens.cli import main

COMMANDS = ["ingest", "search", "themes", "export", "reindex", "documents", "serve"]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A folder of reviews (one broken) ingested once; returns (data dir, ingest output)."""
    root = tmp_path_factory.mktemp("cli")
    folder = root / "reviews"
    (folder / "2023").mkdir(parents=True)
    (folder / "2023" / "child-q.txt").write_bytes(review_bytes("Child Q: review", 2023))
    (folder / "child-r.docx").write_bytes(docx_review("Child R: review", 2022))
    (folder / "damaged.pdf").write_bytes(corrupt_pdf())
    (folder / "notes.csv").write_text("a,b\n")
    data = root / "data"
    result = CliRunner().invoke(
        main, ["ingest", str(folder), "--data-dir", str(data), "--workers", "1", "--json"]
    )
    assert result.exit_code == 1, result.output
    return data, result.output


def test_ingest_reports_each_file_and_fails_on_errors(ingested: tuple[Path, str]) -> None:
    _data, output = ingested
    report = json.loads(output[output.index("{") :])
    states = {Path(f["path"]).name: f for f in report["files"]}
    assert states["child-q.txt"]["state"] == "done"
    assert states["child-r.docx"]["state"] == "done"
    assert states["damaged.pdf"]["state"] == "failed"
    assert states["damaged.pdf"]["error_code"] == "corrupt_file"
    assert report["failed"] == 1
    assert [Path(p).name for p in report["not_read"]] == ["notes.csv"]


def test_ingest_again_shows_the_summary_table(ingested: tuple[Path, str]) -> None:
    data, _output = ingested
    folder = data.parent / "reviews"
    result = CliRunner().invoke(main, ["ingest", str(folder), "--data-dir", str(data)])
    assert result.exit_code == 1
    assert "2 already in the library" in result.output
    assert "Files that failed" in result.output
    assert "damaged.pdf" in result.output and "corrupt_file" in result.output
    good_only = CliRunner().invoke(main, ["ingest", str(folder / "2023"), "--data-dir", str(data)])
    assert good_only.exit_code == 0, good_only.output


def test_search_json_and_errors(ingested: tuple[Path, str]) -> None:
    data, _output = ingested
    result = CliRunner().invoke(
        main, ["search", "hidden men", "--data-dir", str(data), "--json", "--year-from", "2023"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["total"] == 1 and body["hits"][0]["year"] == 2023
    table = CliRunner().invoke(main, ["search", "cupboards", "--data-dir", str(data)])
    assert table.exit_code == 0 and "2 passages" in table.output
    bad = CliRunner().invoke(main, ["search", '"unclosed', "--data-dir", str(data)])
    assert bad.exit_code == 2
    assert "Error:" in bad.output


def test_themes_table_and_json(ingested: tuple[Path, str]) -> None:
    data, _output = ingested
    result = CliRunner().invoke(main, ["themes", "--data-dir", str(data), "--json"])
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert body["by"] == "year" and {r["key"] for r in body["rows"]} == {"2022", "2023"}
    table = CliRunner().invoke(
        main, ["themes", "--by", "doc_type", "--data-dir", str(data)], terminal_width=200
    )
    assert table.exit_code == 0 and "per theme by doc_type" in table.output


def test_export_files(ingested: tuple[Path, str], tmp_path: Path) -> None:
    data, _output = ingested
    out = tmp_path / "hits.csv"
    result = CliRunner().invoke(
        main,
        ["export", "search", "-q", "cupboards", "--out", str(out), "--data-dir", str(data)],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 3 and rows[0][0] == "document_id"
    xlsx = tmp_path / "freq.xlsx"
    result = CliRunner().invoke(
        main,
        ["export", "frequency", "--format", "xlsx", "--out", str(xlsx), "--data-dir", str(data)],
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(xlsx).active
    assert sheet is not None and sheet.max_row > 1


def test_documents_and_reindex(ingested: tuple[Path, str]) -> None:
    data, _output = ingested
    listed = CliRunner().invoke(main, ["documents", "--data-dir", str(data), "--json"])
    assert listed.exit_code == 0
    assert json.loads(listed.output)["total"] == 2
    # the damaged file fails again, so the reindex reports it but keeps the library
    result = CliRunner().invoke(main, ["reindex", "--data-dir", str(data), "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert "Reindex failed: 3 documents" in result.output
    assert "1 of 3 documents failed" in result.output
    again = CliRunner().invoke(main, ["documents", "--data-dir", str(data), "--json"])
    assert json.loads(again.output)["total"] == 2


def test_serve_refuses_non_loopback_without_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REVIEWLENS_API_KEYS", raising=False)
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path), "--host", "10.1.2.3"])
    assert result.exit_code != 0
    assert "refusing to listen on 10.1.2.3" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_data_dir(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "--data-dir" in result.output
