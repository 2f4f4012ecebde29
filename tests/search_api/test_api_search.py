"""Search, themes, frequency, co-occurrence, emerging terms, recommendations and exports through
the API, over one small library ingested once through real uploads."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from test_api_support import (
    client_factory,
    docx_review,
    pdf_review,
    review_bytes,
    upload,
    wait_for_jobs,
)

from search_api.export import FREQUENCY_HEADER, SEARCH_HEADER, csv_stream, xlsx_bytes


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, list[Any]]]:
    factory = client_factory(tmp_path_factory.mktemp("search"))
    make = next(factory)
    client = make()
    files = [
        ("q.txt", review_bytes("Child Q: practice review", 2023, "Calderwick")),
        (
            "p.txt",
            review_bytes(
                "Child P: practice review",
                2024,
                "Calderwick",
                extra="Bruising to a non-mobile baby was seen by the GP and not referred.",
            ),
        ),
        ("r.docx", docx_review("Child R: practice review", 2022, "Ashmoor")),
        ("s.pdf", pdf_review("Child S: practice review", 2021, "Brindle Cross")),
    ]
    items = upload(client, files).json()["jobs"]
    jobs = wait_for_jobs(client, [i["id"] for i in items])
    assert {j["state"] for j in jobs.values()} == {"done"}, jobs
    docs = [client.get(f"/api/documents/{i['document_id']}").json() for i in items]
    yield client, docs
    with contextlib.suppress(StopIteration):
        next(factory)


def test_search_shape_and_highlights(library: tuple[TestClient, list[Any]]) -> None:
    client, docs = library
    body = client.get("/api/search", params={"q": "hidden men", "limit": 50}).json()
    assert body["total"] == len(body["hits"]) == 4
    for hit in body["hits"]:
        for key in ("document_id", "title", "doc_type", "year", "page", "paragraph", "section"):
            assert key in hit
        assert "hidden men" in hit["text"]
        assert any("<mark>hidden</mark>" in h for h in hit["highlights"])
        assert isinstance(hit["themes"], list)
    assert set(body["facets"]) >= {"theme", "doc_type", "year", "agency", "stance"}
    assert body["facets"]["year"] == {"2021": 1, "2022": 1, "2023": 1, "2024": 1}


def test_filters_narrow_and_paging_is_stable(library: tuple[TestClient, list[Any]]) -> None:
    client, _docs = library
    everything = client.get("/api/search", params={"q": "cupboards", "limit": 10}).json()
    assert everything["total"] == 4
    recent = client.get(
        "/api/search", params={"q": "cupboards", "year_from": 2023, "year_to": 2024}
    ).json()
    assert {h["year"] for h in recent["hits"]} == {2023, 2024}
    pages = [
        client.get("/api/search", params={"q": "cupboards", "limit": 1, "offset": n}).json()
        for n in range(4)
    ]
    assert [p["hits"][0]["document_id"] for p in pages] == [
        h["document_id"] for h in everything["hits"]
    ]
    baby = client.get("/api/search", params={"q": '"non-mobile baby"'}).json()
    assert baby["total"] == 1 and baby["hits"][0]["year"] == 2024
    excluded = client.get("/api/search", params={"q": "cupboards -GP"}).json()
    assert excluded["total"] == 4
    none = client.get("/api/search", params={"q": "zyxwvut"}).json()
    assert none == {"total": 0, "hits": [], "facets": none["facets"]}


def test_theme_filter_requires_every_theme(library: tuple[TestClient, list[Any]]) -> None:
    client, docs = library
    theme = next(iter(docs[0]["themes"]))
    one = client.get("/api/search", params={"theme": theme, "limit": 200}).json()
    assert one["total"] > 0
    assert all(theme in h["themes"] for h in one["hits"])
    both = client.get("/api/search", params=[("theme", theme), ("theme", "no_such_theme")]).json()
    assert both["total"] == 0


@pytest.mark.parametrize(
    "query", ['"unclosed phrase', "(neglect", "neglect AND", "-neglect", "OR", "((("]
)
def test_malformed_query_is_a_400_with_a_message(
    library: tuple[TestClient, list[Any]], query: str
) -> None:
    client, _docs = library
    response = client.get("/api/search", params={"q": query})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_query" and error["message"]


def test_invalid_parameters_are_422_in_the_error_shape(
    library: tuple[TestClient, list[Any]],
) -> None:
    client, _docs = library
    for params in (
        {"limit": "many"},
        {"limit": 100000},
        {"doc_type": "novel"},
        {"stance": "happy"},
        {"year_from": "last year"},
    ):
        response = client.get("/api/search", params=params)
        assert response.status_code == 422, params
        error = response.json()["error"]
        assert error["code"] == "invalid_parameter"
        assert str(next(iter(params.values()))) not in error["message"]
    for path in ("/api/documents", "/api/jobs", "/api/recommendations", "/api/search"):
        huge = client.get(path, params={"offset": 69912378488317493248})
        assert huge.status_code == 422, path
    backwards = client.get("/api/search", params={"year_from": 2024, "year_to": 2020})
    assert backwards.status_code == 400
    assert client.get("/api/themes/frequency", params={"by": "week"}).status_code == 422
    missing = client.get("/api/no/such/route")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = client.put("/api/search")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_themes_lists_the_taxonomy(library: tuple[TestClient, list[Any]]) -> None:
    client, docs = library
    body = client.get("/api/themes").json()
    assert body["version"] == docs[0]["taxonomy_version"]
    ids = {t["id"] for t in body["themes"]}
    assert set(docs[0]["themes"]) <= ids
    assert all(t["label"] and t["group"] in body["groups"] for t in body["themes"])


def test_frequency_counts_documents_once(library: tuple[TestClient, list[Any]]) -> None:
    client, docs = library
    body = client.get("/api/themes/frequency", params={"by": "year"}).json()
    assert body["by"] == "year"
    rows = {(r["theme"], r["key"]): r for r in body["rows"]}
    expected: dict[tuple[str, str], tuple[int, int]] = {}
    for doc in docs:
        for theme, passages in doc["themes"].items():
            key = (theme, str(doc["year"]))
            documents, total = expected.get(key, (0, 0))
            expected[key] = (documents + 1, total + passages)
    assert {k: (r["documents"], r["passages"]) for k, r in rows.items()} == expected
    by_source = client.get("/api/themes/frequency", params={"by": "source"}).json()
    assert {r["key"] for r in by_source["rows"]} <= {
        str(d["metadata"].get("area") or d["metadata"].get("partnership")) for d in docs
    }
    theme = next(iter(docs[0]["themes"]))
    only = client.get("/api/themes/frequency", params={"by": "doc_type", "theme": theme}).json()
    assert only["rows"] and {r["theme"] for r in only["rows"]} == {theme}
    quarters = client.get("/api/themes/frequency", params={"by": "quarter"}).json()
    assert all("-Q" in r["key"] for r in quarters["rows"])


def test_cooccurrence_emerging_and_recommendations(
    library: tuple[TestClient, list[Any]],
) -> None:
    client, docs = library
    cells = client.get("/api/themes/cooccurrence").json()["cells"]
    assert cells
    assert all(c["theme_a"] < c["theme_b"] and c["passages"] >= 1 for c in cells)

    emerging = client.get("/api/themes/emerging", params={"min_count": 1}).json()
    assert emerging["recent_passages"] > 0 and emerging["baseline_passages"] > 0
    assert any(t["term"] in ("bruising", "bruise", "mobile", "gp") for t in emerging["terms"])
    explicit = client.get(
        "/api/themes/emerging",
        params={"recent_from": 2024, "recent_to": 2024, "baseline_from": 2021, "baseline_to": 2023},
    )
    assert explicit.status_code == 200
    wrong = client.get(
        "/api/themes/emerging",
        params={"recent_from": 2024, "recent_to": 2020, "baseline_from": 2019, "baseline_to": 2019},
    )
    assert wrong.status_code == 400

    recs = client.get("/api/recommendations").json()
    assert recs["total"] >= 1
    for item in recs["items"]:
        assert all(s["document_id"] != item["document_id"] for s in item["similar"])


def test_export_search_csv_and_xlsx_match_the_search(
    library: tuple[TestClient, list[Any]],
) -> None:
    client, _docs = library
    params = {"q": "cupboards OR partner"}
    total = client.get("/api/search", params=params).json()["total"]
    response = client.get("/api/export/search.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="search.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == SEARCH_HEADER
    assert len(rows) - 1 == total

    response = client.get("/api/export/search.xlsx", params=params)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == SEARCH_HEADER and len(values) - 1 == total

    bad = client.get("/api/export/search.csv", params={"q": '"open'})
    assert bad.status_code == 400
    assert client.get("/api/export/search.pdf").status_code == 422


def test_export_frequency_matches_the_json(library: tuple[TestClient, list[Any]]) -> None:
    client, _docs = library
    rows = client.get("/api/themes/frequency", params={"by": "year"}).json()["rows"]
    response = client.get("/api/export/frequency.xlsx", params={"by": "year"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == FREQUENCY_HEADER
    assert [(v[0], v[2], v[3], v[4]) for v in values[1:]] == [
        (r["theme"], r["key"], r["documents"], r["passages"]) for r in rows
    ]
    text = client.get("/api/export/frequency.csv", params={"by": "year"}).text
    assert len(list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))) == len(rows) + 1


def test_exported_cells_are_never_formulas(tmp_path: Path) -> None:
    rows: list[list[Any]] = [['=HYPERLINK("http://x")', "+1", "-2", "@sum", "plain", 3]]
    text = "".join(csv_stream(["a", "b", "c", "d", "e", "f"], rows))
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert parsed[1] == ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@sum", "plain", "3"]
    book = load_workbook(io.BytesIO(xlsx_bytes("t", ["a", "b", "c", "d", "e", "f"], rows)))
    sheet = book.active
    assert sheet is not None
    cells = list(sheet.iter_rows(min_row=2))[0]
    assert [c.data_type for c in cells[:5]] == ["s"] * 5
    assert cells[0].value == '=HYPERLINK("http://x")'
    assert cells[5].value == 3
