"""The pages in a real Chromium against a real server on the sample corpus. Expected numbers are
read from the JSON API in the same test, so each check compares the page with the API."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_support import ADMIN_KEY, READER_KEY, PageProblems, Server, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

expect = pytest.importorskip("playwright.sync_api").expect

DOC_TYPE_LABELS = {
    "audit": "Multi-agency audit",
    "sar": "Safeguarding adult review",
    "scr": "Serious case review",
    "dhr": "Domestic homicide review",
    "cspr": "Child safeguarding practice review",
    "ofsted_ilacs": "Ofsted ILACS inspection",
    "briefing": "Learning briefing",
}


def wait_for_job(server: Server, job_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = server.api(f"/api/jobs/{job_id}")
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish")


def upload_via_api(server: Server, name: str, body: bytes) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/api/documents", files=[("files", (name, body, "text/plain"))], timeout=60
    )
    assert response.status_code == 202, response.text
    item: dict[str, Any] = response.json()["jobs"][0]
    return item


def test_pages_send_security_headers_and_serve_only_known_static_files(server: Server) -> None:
    page = httpx.get(f"{server.url}/search")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    # no script inline in the shell: every <script> has a src
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) is None
    css = httpx.get(f"{server.url}/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    again = httpx.get(
        f"{server.url}/static/app.css", headers={"If-None-Match": css.headers["etag"]}
    )
    assert again.status_code == 304
    for path in ("/static/pages.py", "/static/..%2fpages.py", "/static/%2e%2e/__init__.py"):
        assert httpx.get(f"{server.url}{path}").status_code == 404, path
    missing = httpx.get(f"{server.url}/documents/not-a-document")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert "frame-ancestors 'none'" in missing.headers["content-security-policy"]
    home = httpx.get(f"{server.url}/")
    assert home.status_code == 307 and home.headers["location"] == "/search"


def test_search_with_filters_facet_counts_paging_export_and_shared_url(
    server: Server, page: Any
) -> None:
    expected = server.api("/api/search", q="neglect", limit=0)
    assert expected["total"] > 0
    page.goto(f"{server.url}/search?q=neglect")
    expect(page.locator("#result-count")).to_contain_text(f"{expected['total']} passage")
    expect(page.locator("#q")).to_have_value("neglect")
    # every facet count on the page is the API's count
    for facet in ("doc_type", "stance"):
        for value, count in expected["facets"][facet].items():
            label = page.locator(f"#facet-{facet} input[value='{value}'] + label")
            expect(label).to_contain_text(f"({count})")
    # highlighted matches are <mark> elements in the passages
    assert page.locator("#results mark").count() >= 1
    assert {m.lower() for m in page.locator("#results mark").all_text_contents()} <= {
        "neglect",
        "neglected",
        "neglects",
        "neglecting",
    }
    screenshot(page, "search-results")

    top_type = next(iter(expected["facets"]["doc_type"]))
    page.locator(f"#facet-doc_type input[value='{top_type}']").check()
    page.wait_for_url(re.compile(f"doc_type={top_type}"))
    filtered = server.api("/api/search", q="neglect", doc_type=top_type, limit=0)
    expect(page.locator("#result-count")).to_contain_text(f"{filtered['total']} passage")
    types = page.locator(".doc-hit-type").all_text_contents()
    assert types and all(t.startswith(DOC_TYPE_LABELS[top_type]) for t in types)

    # the year range goes in the URL too, and the URL alone reproduces the search
    year = next(iter(filtered["facets"]["year"]))
    page.fill("#year_from", year)
    page.fill("#year_to", year)
    page.press("#year_to", "Enter")
    page.wait_for_url(re.compile(f"year_from={year}"))
    narrowed = server.api(
        "/api/search", q="neglect", doc_type=top_type, year_from=year, year_to=year, limit=0
    )
    expect(page.locator("#result-count")).to_contain_text(f"{narrowed['total']} passage")
    shared = page.url
    other = page.context.new_page()
    other.goto(shared)
    expect(other.locator("#result-count")).to_contain_text(f"{narrowed['total']} passage")
    expect(other.locator(f"#facet-doc_type input[value='{top_type}']")).to_be_checked()
    expect(other.locator("#year_from")).to_have_value(year)
    other.close()

    # the CSV export link gives exactly the hits of this search
    with page.expect_download() as info:
        page.click("#export-csv")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text("utf-8-sig"))))
    assert rows[0][0] == "document_id"
    assert len(rows) - 1 == narrowed["total"]

    # paging: an empty query lists every passage, 20 to a page
    everything = server.api("/api/search", limit=0)["total"]
    page.goto(f"{server.url}/search")
    expect(page.locator("#result-count")).to_contain_text(f"{everything} passages found")
    expect(page.locator("#page-info")).to_have_text(f"Page 1 of {-(-everything // 20)}")
    page.click("#next-page")
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.locator("#result-count")).to_contain_text("showing 21 to 40")
    page.go_back()
    expect(page.locator("#result-count")).to_contain_text("showing 1 to 20")


def test_theme_facet_narrows_to_passages_with_the_theme(server: Server, page: Any) -> None:
    page.goto(f"{server.url}/search?q=baby")
    expect(page.locator("#facet-theme")).to_be_visible()
    first = page.locator("#facet-theme input").first
    theme_id = first.get_attribute("value")
    label = page.locator("#facet-theme label").first.text_content() or ""
    theme_label = label.rsplit(" (", 1)[0]
    first.check()
    page.wait_for_url(re.compile(f"theme={theme_id}"))
    filtered = server.api("/api/search", q="baby", theme=theme_id, limit=20)
    expect(page.locator("#result-count")).to_contain_text(f"{filtered['total']} passage")
    for hit in page.locator(".hit").all():
        assert theme_label in hit.locator(".chips").inner_text()


def test_open_a_document_at_a_passage_with_evidence_highlighted(server: Server, page: Any) -> None:
    page.goto(f"{server.url}/search?q=%22bruising%22")
    link = page.locator(".open-passage").first
    href = link.get_attribute("href") or ""
    match = re.search(r"/documents/([0-9a-f]{64})\?from=.*#p-(\d+)$", href)
    assert match, href
    doc_id, index = match.group(1), int(match.group(2))
    link.click()
    page.wait_for_url(re.compile(f"#p-{index}$"))
    target = page.locator(f"#p-{index}")
    expect(target).to_have_class(re.compile(r"\bcurrent\b"))
    expect(target).to_be_in_viewport()
    expect(target).to_be_focused()
    doc = server.api(f"/api/documents/{doc_id}")
    expect(page.locator("#doc-title")).to_have_text(doc["title"])
    passage = doc["passages"][index]
    expect(target.locator(".passage-text")).to_have_text(passage["text"])

    # the marked characters are exactly the union of the tags' evidence spans, passage by passage
    marked = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.passage')].map((div) => {
            const covered = [];
            let pos = 0;
            for (const node of div.querySelector('.passage-text').childNodes) {
              const len = node.textContent.length;
              if (node.nodeName === 'MARK') for (let i = pos; i < pos + len; i++) covered.push(i);
              pos += len;
            }
            return [div.id, covered];
        }))"""
    )
    checked = 0
    for p in doc["passages"]:
        want = sorted({i for tag in p["themes"] for s, e in tag["spans"] for i in range(s, e)})
        assert marked[f"p-{p['index']}"] == want, p["index"]
        checked += bool(want)
    assert checked > 0
    # theme chips and recommendations as the API has them
    tags = [t["label"] for t in passage["themes"]]
    for label in tags:
        expect(target.locator(".tag-list")).to_contain_text(label)
    expect(page.locator("#recommendations > li")).to_have_count(max(1, len(doc["recommendations"])))
    expect(page.locator("#back-link")).to_have_attribute("href", re.compile(r"^/search\?q="))
    screenshot(page, "document-at-passage", full_page=False)


def test_inspection_shows_its_judgements_and_original_downloads(server: Server, page: Any) -> None:
    listing = server.api("/api/documents", doc_type="ofsted_ilacs")
    assert listing["items"], "the corpus has an ILACS report"
    doc_id = listing["items"][0]["id"]
    doc = server.api(f"/api/documents/{doc_id}")
    page.goto(f"{server.url}/documents/{doc_id}")
    table = page.locator("table.judgements")
    expect(table).to_be_visible()
    judgements = doc["metadata"]["judgements"]
    expect(table.locator("tbody tr")).to_have_count(len(judgements))
    if "inadequate" in judgements.values():
        expect(table).to_contain_text("Inadequate")
    expect(page.locator("#doc-meta")).to_contain_text(doc["file_name"])
    with page.expect_download() as info:
        page.click("#download-original")
    body = Path(info.value.path()).read_bytes()
    assert hashlib.sha256(body).hexdigest() == doc_id
    screenshot(page, "document-inspection")


def test_dashboard_charts_match_the_frequency_api(server: Server, page: Any) -> None:
    by_year = server.api("/api/themes/frequency", by="year")["rows"]
    totals: dict[str, int] = {}
    for row in by_year:
        totals[row["theme"]] = totals.get(row["theme"], 0) + row["documents"]
    chosen = sorted(totals, key=lambda t: (-totals[t], t))[:3]
    qs = "&".join(f"theme={t}" for t in chosen)
    page.goto(f"{server.url}/dashboard?{qs}&by=year&count=documents")
    page.wait_for_selector("body[data-ready=true]")
    expected = server.api("/api/themes/frequency", by="year", theme=chosen)["rows"]
    bars = page.eval_on_selector_all(
        "#chart-time rect.bar",
        "els => els.map(e => [e.dataset.series, e.dataset.key, Number(e.dataset.value)])",
    )
    assert sorted(map(tuple, bars)) == sorted(
        (r["theme"], r["key"], r["documents"]) for r in expected if r["documents"]
    )
    # the table under the chart holds the same numbers, zeros for quiet years included
    labels = {t["id"]: t["label"] for t in server.api("/api/themes")["themes"]}
    table = page.locator("#chart-time table")
    header = table.locator("thead th").all_text_contents()[1:]
    for row in expected:
        line = table.locator("tbody tr", has=page.locator("th", has_text=labels[row["theme"]]))
        cells = line.locator("td").all_text_contents()
        assert cells[header.index(row["key"])] == str(row["documents"])

    by_type = server.api("/api/themes/frequency", by="doc_type", theme=chosen)["rows"]
    type_bars = page.eval_on_selector_all(
        "#chart-type rect.bar", "els => els.map(e => Number(e.dataset.value))"
    )
    assert sum(type_bars) == sum(r["documents"] for r in by_type)
    cells = server.api("/api/themes/cooccurrence")["cells"]
    pair = [c for c in cells if c["theme_a"] in chosen and c["theme_b"] in chosen]
    for cell in pair:
        shown = page.locator(
            f"#chart-co g.cell[data-a='{cell['theme_a']}'][data-b='{cell['theme_b']}']"
        )
        expect(shown).to_have_attribute("data-value", str(cell["documents"]))
    screenshot(page, "dashboard")

    # each chart downloads as SVG, PNG and CSV
    tools = page.locator("#chart-time .chart-tools button")
    with page.expect_download() as svg_info:
        tools.nth(0).click()
    svg_text = Path(svg_info.value.path()).read_text("utf-8")
    assert svg_text.startswith("<?xml") and "<svg" in svg_text and 'class="bar"' in svg_text
    with page.expect_download() as png_info:
        tools.nth(1).click()
    assert Path(png_info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as csv_info:
        tools.nth(2).click()
    rows = list(csv.reader(io.StringIO(Path(csv_info.value.path()).read_text("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [labels[t] for t in chosen]

    # a bar opens the search for that theme and year, which finds passages; the table under
    # the chart has the same link for keyboard users
    row = next(r for r in expected if r["documents"])
    bar = page.locator(
        f"#chart-time rect.bar[data-series='{row['theme']}'][data-key='{row['key']}']"
    )
    line = table.locator("tbody tr", has=page.locator("th", has_text=labels[row["theme"]]))
    cell_link = line.locator("td").nth(header.index(row["key"])).locator("a")
    assert cell_link.get_attribute("href") == bar.get_attribute("data-href")
    bar.click()
    page.wait_for_url(re.compile(rf"/search\?theme={row['theme']}&year_from={row['key']}"))
    hits = server.api(
        "/api/search", theme=row["theme"], year_from=row["key"], year_to=row["key"], limit=0
    )
    assert hits["total"] == row["passages"]
    expect(page.locator("#result-count")).to_contain_text(f"{hits['total']} passage")

    # a heat map cell opens the search for passages carrying both themes
    if pair:
        cell = pair[0]
        page.go_back()
        page.wait_for_selector("body[data-ready=true]")
        page.locator(
            f"#chart-co g.cell[data-a='{cell['theme_a']}'][data-b='{cell['theme_b']}']"
        ).click()
        page.wait_for_url(re.compile(r"/search\?theme=.+&theme="))
        expect(page.locator("#result-count")).to_contain_text(f"{cell['passages']} passage")


def test_dashboard_by_quarter_and_passages(server: Server, page: Any) -> None:
    theme = server.api("/api/themes/frequency", by="quarter")["rows"][0]["theme"]
    page.goto(f"{server.url}/dashboard?theme={theme}&by=quarter&count=passages")
    page.wait_for_selector("body[data-ready=true]")
    expected = server.api("/api/themes/frequency", by="quarter", theme=theme)["rows"]
    bars = page.eval_on_selector_all(
        "#chart-time rect.bar", "els => els.map(e => [e.dataset.key, Number(e.dataset.value)])"
    )
    assert sorted(map(tuple, bars)) == sorted((r["key"], r["passages"]) for r in expected)
    assert all(re.fullmatch(r"\d{4}-Q[1-4]", key) for key, _ in bars)


UPLOAD_TEXT = """Learning briefing: Quillbrook family

1. Practitioners in Quillbrook did not share information about the family's repeated house moves.

2. The health visitor recorded concerns about neglect and home conditions, but the referral to
children's social care was not followed up.

3. Recommendation: agencies should use the escalation policy when a referral is not answered.
"""


def test_upload_shows_progress_duplicates_failures_and_becomes_searchable(
    server: Server, page: Any, tmp_path: Path
) -> None:
    good = tmp_path / "quillbrook-briefing.txt"
    good.write_text(UPLOAD_TEXT)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    page.goto(f"{server.url}/upload")
    page.set_input_files("#file-input", [str(good), str(empty)])
    good_row = page.locator("tr.upload-row", has_text="quillbrook-briefing.txt")
    expect(good_row).to_have_attribute("data-state", "done", timeout=180_000)
    expect(good_row.locator("a")).to_have_text(re.compile("^Open"))
    bad_row = page.locator("tr.upload-row", has_text="empty.txt")
    expect(bad_row).to_have_attribute("data-state", "failed")
    expect(bad_row.locator(".reason")).not_to_be_empty()
    expect(bad_row.get_by_role("button", name=re.compile("^Retry"))).to_be_visible()
    expect(page.locator("#status")).not_to_be_empty()
    screenshot(page, "upload")

    # the same bytes again are reported as a duplicate, not processed twice
    page.set_input_files("#file-input", [str(good)])
    rows = page.locator("tr.upload-row", has_text="quillbrook-briefing.txt")
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".duplicate")).to_contain_text("Already in the library")

    # dropping a file on the drop zone uploads it like the file input does
    page.evaluate(
        """() => {
            const data = new DataTransfer();
            const text = 'Dropped note\\n\\n1. The Quillbrook family home was cold and the ' +
                'children missed school.\\n\\n2. Nobody asked the father about his role.\\n';
            data.items.add(new File([text],
                                    'dropped-note.txt', {type: 'text/plain'}));
            document.getElementById('drop-zone').dispatchEvent(
                new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));
        }"""
    )
    dropped = page.locator("tr.upload-row", has_text="dropped-note.txt")
    expect(dropped).to_have_attribute("data-state", "done", timeout=180_000)

    page.goto(f"{server.url}/search?q=Quillbrook")
    expect(page.locator(".doc-hit")).to_have_count(2)
    expect(page.locator("#results mark").first).to_have_text("Quillbrook")


def test_failed_job_is_listed_with_its_reason_and_can_be_retried(server: Server, page: Any) -> None:
    # bytes that claim to be a PDF but are not: accepted, then fail in extraction
    response = httpx.post(
        f"{server.url}/api/documents",
        files=[
            ("files", ("broken-report.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50, "application/pdf"))
        ],
        timeout=60,
    )
    assert response.status_code == 202
    job = wait_for_job(server, response.json()["jobs"][0]["id"])
    assert job["state"] == "failed"
    page.goto(f"{server.url}/upload")
    row = page.locator("#failed-rows tr", has_text="broken-report.pdf")
    expect(row).to_contain_text(job["error"])
    row.get_by_role("button", name=re.compile("^Retry")).click()
    retried = page.locator("tr.upload-row", has_text="broken-report.pdf")
    expect(retried).to_have_attribute("data-state", "failed", timeout=120_000)
    assert server.api(f"/api/jobs/{job['id']}")["attempts"] >= 2


XSS_TEXT = """Briefing note: messages quoted in the chronology

1. The chronology quoted a message that read <script>alert('x')</script> word for word.

2. A second message read <img src=x onerror="alert('y')"> and was kept as evidence of coercive
control by the partner.
"""


def test_document_text_with_markup_stays_text(
    server: Server, page: Any, problems: PageProblems
) -> None:
    item = upload_via_api(server, "quoted <i onmouseover=alert(1)>markup.txt", XSS_TEXT.encode())
    job = wait_for_job(server, item["id"])
    assert job["state"] == "done", job
    doc_id = item["document_id"]

    page.goto(f"{server.url}/search?q=chronology+quoted")
    expect(page.locator("#results")).to_contain_text("<script>alert('x')</script>")
    page.goto(f"{server.url}/documents/{doc_id}")
    expect(page.locator("#passages")).to_contain_text("<script>alert('x')</script>")
    expect(page.locator("#passages")).to_contain_text("<img src=x onerror=\"alert('y')\">")
    expect(page.locator("#doc-meta")).to_contain_text("quoted <i onmouseover=alert(1)>markup.txt")
    assert page.locator("#main script, #main img, #main i").count() == 0
    page.wait_for_timeout(500)
    assert problems.dialogs == []
    screenshot(page, "document-with-markup")

    # an admin (everyone, with no keys) can delete it from its page, after confirming
    page.click("#delete-document")
    expect(page.locator("#delete-document")).to_contain_text("Confirm")
    page.click("#delete-document")
    expect(page.locator("h1")).to_have_text("Document deleted")
    assert httpx.get(f"{server.url}/api/documents/{doc_id}").status_code == 404


def test_search_form_by_keyboard(server: Server, page: Any) -> None:
    page.goto(f"{server.url}/search")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    for _ in range(20):
        if page.evaluate("document.activeElement.id") == "q":
            break
        page.keyboard.press("Tab")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("neglect")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=neglect"))
    expect(page.locator(".doc-hit").first).to_be_visible()
    for _ in range(40):
        if page.evaluate("document.activeElement.type") == "checkbox":
            break
        page.keyboard.press("Tab")
    focused = page.evaluate(
        "({name: document.activeElement.name, value: document.activeElement.value,"
        " outline: getComputedStyle(document.activeElement).outlineStyle})"
    )
    assert focused["name"] == "theme"
    assert focused["outline"] == "solid"
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(f"theme={focused['value']}"))
    expect(page.locator(f"#facet-theme input[value='{focused['value']}']")).to_be_focused()
    expect(page.locator(f"#facet-theme input[value='{focused['value']}']")).to_be_checked()
    # "Show all" grows a facet list and leaves focus on the first value it revealed
    page.goto(f"{server.url}/search")
    more = page.locator("#facet-theme button")
    expect(more).to_have_text(re.compile(r"^Show all \d+"))
    before = page.locator("#facet-theme input").count()
    more.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#facet-theme input")).not_to_have_count(before)
    expect(page.locator("#facet-theme input").nth(before)).to_be_focused()
    # every control on the search form has a label
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('#search-form input, #search-form select')]
            .filter((i) => !(i.labels && i.labels.length) && !i.getAttribute('aria-label'))
            .map((i) => i.id || i.name)"""
    )
    assert unlabelled == []


def test_reader_key_sees_no_admin_actions(keyed_server: Server, page: Any) -> None:
    page.goto(f"{keyed_server.url}/search")
    expect(page.locator("#sign-in")).to_be_visible()
    screenshot(page, "sign-in", full_page=False)
    page.fill("#api-key", "not-a-key")
    page.press("#api-key", "Enter")
    expect(page.locator("#sign-in-reason")).to_contain_text("not recognised")
    page.fill("#api-key", READER_KEY)
    page.press("#api-key", "Enter")
    expect(page.locator("#session-role")).to_have_text("Signed in as reader")
    expect(page.locator("#sign-in")).to_be_hidden()
    total = keyed_server.api("/api/search", key=READER_KEY, limit=0)["total"]
    expect(page.locator("#result-count")).to_contain_text(f"{total} passages found")
    expect(page.get_by_role("link", name="Administration")).to_be_hidden()

    doc_id = keyed_server.api("/api/documents", key=READER_KEY, limit=1)["items"][0]["id"]
    page.goto(f"{keyed_server.url}/documents/{doc_id}")
    expect(page.locator(".passage").first).to_be_visible()
    expect(page.locator("#delete-document")).to_be_hidden()
    # downloads carry the key too
    with page.expect_download() as info:
        page.click("#download-original")
    assert hashlib.sha256(Path(info.value.path()).read_bytes()).hexdigest() == doc_id

    page.goto(f"{keyed_server.url}/admin")
    expect(page.locator("#admin-denied")).to_be_visible()
    expect(page.locator("#admin-body")).to_be_hidden()
    page.goto(f"{keyed_server.url}/upload")
    expect(page.locator("#upload-denied")).to_be_visible()
    expect(page.locator("#drop-zone")).to_be_hidden()


def test_admin_reindexes_with_progress_and_deletes(keyed_server: Server, page: Any) -> None:
    page.goto(f"{keyed_server.url}/admin")
    page.fill("#api-key", ADMIN_KEY)
    page.press("#api-key", "Enter")
    expect(page.get_by_role("link", name="Administration")).to_be_visible()
    listing = keyed_server.api("/api/documents", key=ADMIN_KEY, limit=500)
    expect(page.locator("#doc-rows tr")).to_have_count(min(20, listing["total"]))
    themes = keyed_server.api("/api/themes", key=ADMIN_KEY)
    expect(page.locator("#tax-version")).to_have_text(themes["version"])
    expect(page.locator("#tax-count")).to_have_text(str(len(themes["themes"])))
    screenshot(page, "admin")

    page.click("#reindex")
    expect(page.locator("#reindex-progress")).to_be_visible()
    expect(page.locator("#reindex-label")).to_contain_text("Rebuilt", timeout=400_000)
    expect(page.locator("#reindex-label")).to_contain_text(
        f"{listing['total']} of {listing['total']} documents"
    )

    row = page.locator("#doc-rows tr").last
    title = row.locator("th").inner_text()
    button = row.locator("button")
    expect(button).to_have_text(re.compile("^Delete"))
    button.click()
    expect(button).to_contain_text("Confirm")
    button.click()
    expect(page.locator("#doc-rows tr", has_text=title)).to_have_count(0)
    after = keyed_server.api("/api/documents", key=ADMIN_KEY, limit=500)["total"]
    assert after == listing["total"] - 1


CONTRAST_SCRIPT = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (node) => {
    for (let n = node; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const el = t.parentElement;
    if (!t.textContent.trim() || !el.checkVisibility() || el.closest('svg')) continue;
    const style = getComputedStyle(el);
    const a = lum(parse(style.color).slice(0, 3)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const large = parseFloat(style.fontSize) >= 24 ||
      (parseFloat(style.fontSize) >= 18.6 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      failures.push([t.textContent.trim().slice(0, 40), ratio.toFixed(2)]);
    }
  }
  return failures;
}"""


@pytest.mark.parametrize("path", ["/search?q=neglect", "/dashboard", "/upload", "/admin"])
def test_text_has_enough_contrast(server: Server, page: Any, path: str) -> None:
    page.goto(f"{server.url}{path}")
    page.wait_for_load_state("networkidle")
    assert page.evaluate(CONTRAST_SCRIPT) == []


def test_a_malformed_query_is_explained_not_broken(server: Server, page: Any) -> None:
    answer = httpx.get(f"{server.url}/api/search", params={"q": '"hidden men'})
    assert answer.status_code == 400
    page.goto(f"{server.url}/search?q=%22hidden+men")
    expect(page.locator("#search-error")).to_have_text(answer.json()["error"]["message"])
    expect(page.locator(".doc-hit")).to_have_count(0)
    # fixing the query in the box recovers without a reload
    page.fill("#q", '"hidden men"')
    page.press("#q", "Enter")
    expect(page.locator("#search-error")).to_be_hidden()
    expect(page.locator("#result-count")).not_to_be_empty()


def test_recommendations_with_similar_ones_elsewhere(server: Server, page: Any) -> None:
    expected = server.api("/api/recommendations", limit=20, similar=3)
    assert expected["total"] > 0
    page.goto(f"{server.url}/recommendations")
    expect(page.locator("#rec-count")).to_contain_text(f"{expected['total']} recommendation")
    items = page.locator("#rec-list > li")
    expect(items).to_have_count(len(expected["items"]))
    first = next(r for r in expected["items"] if r["similar"])
    shown = page.locator("#rec-list > li", has_text=first["text"]).first
    similar = shown.locator(".similar li")
    expect(similar).to_have_count(len(first["similar"]))
    best = first["similar"][0]
    expect(similar.first).to_contain_text(f"{round(best['score'] * 100)}% similar")
    screenshot(page, "recommendations")

    # only the ones made elsewhere too: every one left has a close match
    page.check("#rec-repeated")
    page.click("#rec-form button[type=submit]")
    page.wait_for_url(re.compile(r"repeated=1"))
    close = [r for r in expected["items"] if any(s["score"] >= 0.3 for s in r["similar"])]
    expect(items).to_have_count(len(close))

    # a similar recommendation opens its document at that recommendation
    if close:
        link = items.first.locator(".similar a").first
        href = link.get_attribute("href") or ""
        index = href.rsplit("#r-", 1)[1]
        link.click()
        target = page.locator(f"#r-{index}")
        expect(target).to_have_class(re.compile(r"\bcurrent\b"))
        expect(target).to_be_in_viewport()
