"""Shared pieces of the API, service, jobs and CLI tests: real small review files (TXT, DOCX,
PDF) written here, an app factory over a private data folder, and a job poller.

The sample text is fictional and written for these tests.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from reviewlens.settings import Settings
from search_api.app import create_app

END_STATES = ("done", "failed")

PARAGRAPHS = [
    "Learning from the review",
    "1.1 The health visitor recorded that the home was cold and that there was little food in "
    "the cupboards. Neglect of the baby's basic needs was evident over several months.",
    "1.2 The mother's new partner was not known to any agency. Professionals did not ask who "
    "else lived in the household, and the hidden men around the child were never assessed.",
    "1.3 Police attended two incidents of domestic abuse in the spring. Information sharing "
    "between the police and children's social care was slow, and the referral was not "
    "followed up.",
    "1.4 The school described good practice: the designated safeguarding lead escalated "
    "concerns promptly and the child's voice was recorded in every meeting.",
    "Recommendations",
    "2.1 The partnership should ensure that practitioners ask about every adult in the "
    "household, including fathers and new partners.",
]


def review_text(title: str, year: int, area: str, extra: str = "") -> str:
    """A short plain-text review with a title, a date, an area and numbered paragraphs."""
    head = [
        title,
        f"{area} Safeguarding Children Partnership",
        f"Published: 12 March {year}",
        "",
    ]
    body = [p + ("\n" if not p[0].isdigit() else "") for p in PARAGRAPHS]
    if extra:
        body.append(f"1.5 {extra}")
    return "\n".join(head) + "\n" + "\n\n".join(body) + "\n"


def review_bytes(title: str, year: int = 2023, area: str = "Calderwick", extra: str = "") -> bytes:
    return review_text(title, year, area, extra).encode("utf-8")


def docx_review(title: str, year: int = 2022, area: str = "Ashmoor") -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    document.add_paragraph(f"{area} Safeguarding Children Partnership")
    document.add_paragraph(f"Published: 4 June {year}")
    for paragraph in PARAGRAPHS:
        if paragraph[0].isdigit():
            document.add_paragraph(paragraph)
        else:
            document.add_heading(paragraph, level=1)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_review(title: str, year: int = 2021, area: str = "Brindle Cross") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, f"{area} Safeguarding Children Partnership", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, f"Published: 20 October {year}", new_x="LMARGIN", new_y="NEXT")
    for paragraph in PARAGRAPHS:
        pdf.ln(3)
        if paragraph[0].isdigit():
            pdf.set_font("Helvetica", size=11)
        else:
            pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def corrupt_pdf() -> bytes:
    """Starts like a PDF, then is nothing of the sort."""
    return b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "workers": 1,
        "extract_timeout_s": 60,
        # these tests search in tight loops on purpose; rate limits have tests of their own
        "rate_limit_searches_per_minute": 1_000_000,
        "rate_limit_uploads_per_minute": 1_000_000,
    }
    values.update(overrides)
    return Settings(**values)


def wait_for_jobs(
    client: TestClient,
    job_ids: list[str],
    timeout: float = 90.0,
    headers: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Poll until every job has ended; returns job id -> last JSON."""
    deadline = time.monotonic() + timeout
    latest: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        for job_id in job_ids:
            response = client.get(f"/api/jobs/{job_id}", headers=headers)
            assert response.status_code == 200, response.text
            latest[job_id] = response.json()
        if all(job["state"] in END_STATES for job in latest.values()):
            return latest
        time.sleep(0.1)
    raise AssertionError(f"jobs did not finish: {[j['state'] for j in latest.values()]}")


AppFactory = Callable[..., TestClient]


def client_factory(tmp_path: Path) -> Iterator[AppFactory]:
    """Body of each module's `make_client` fixture: builds real apps (worker included) over a
    private data folder, and closes them all at the end."""
    opened: list[TestClient] = []

    def factory(start_worker: bool = True, **overrides: Any) -> TestClient:
        settings = make_settings(tmp_path / "data", **overrides)
        app = create_app(settings, start_worker=start_worker, worker_threads=2, tag_processes=0)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield factory
    for client in reversed(opened):
        client.__exit__(None, None, None)


def upload(
    client: TestClient,
    files: list[tuple[str, bytes]],
    headers: dict[str, str] | None = None,
) -> Any:
    return client.post(
        "/api/documents",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        headers=headers,
    )
