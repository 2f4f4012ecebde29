"""Ingest throughput in pages per second, beside the two raw PDF libraries, in one run.

Run: `.venv/bin/python benchmarks/bench_ingest.py` (options: --corpus DIR, --synthetic N,
--min-seconds S). Three ways of reading the same text PDFs are timed:

- pypdfium2: open, and take each page's text layer (the floor: nothing is done with the text);
- pdfplumber: `extract_text()` on each page (the library the project was first asked to use);
- ReviewLens: the whole ingest stage, bytes to structured Document (`ingest.pipeline`), or
  `extract_raw` (which includes cleaning) if the pipeline is not importable.

The target is ReviewLens at >= 40% of the pypdfium2 rate on text PDFs. Corpus PDFs with a scanned
page are timed separately, because OCR is a different cost.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewlens.settings import Settings  # noqa: E402

Reader = Callable[[bytes, str], int]  # returns pages read


def read_pypdfium2(data: bytes, name: str) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    pages = len(document)
    for index in range(pages):
        page = document[index]
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        page.close()
    document.close()
    return pages


def read_pdfplumber(data: bytes, name: str) -> int:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_text()
        return len(pdf.pages)


def stage_reader(settings: Settings) -> tuple[str, Reader]:
    try:
        from ingest.pipeline import extract_document
    except ImportError:
        from ingest.extractors import extract_raw

        def run_raw(data: bytes, name: str) -> int:
            return extract_raw(data, name, settings).page_count

        return "extract_raw+clean", run_raw

    def run_pipeline(data: bytes, name: str) -> int:
        return extract_document(data, name, settings).page_count

    return "ingest.pipeline.extract_document", run_pipeline


def synthetic_pdfs(count: int, pages: int = 20, seed: int = 11) -> list[tuple[str, bytes]]:
    """Text PDFs shaped like reviews: running header, numbered headings and paragraphs."""
    from fpdf import FPDF

    rng = random.Random(seed)
    vocabulary = (
        "practitioners agency family child mother father school nurse health visitor referral "
        "assessment risk meeting plan review information shared concern police record home "
        "worker professional curiosity neglect parent support service partnership decision"
    )
    words = vocabulary.split(" ")
    files = []
    for number in range(count):
        pdf = FPDF(format="A4")
        pdf.set_margins(22, 20, 22)
        pdf.set_auto_page_break(True, 22)
        pdf.add_page()
        paragraph = 0
        section = 0
        while pdf.page < pages:
            section += 1
            pdf.set_font("Helvetica", "B", 14)
            heading = f"{section}. Section {section} of review {number}"
            pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=10.5)
            for item in range(1, rng.randint(3, 6)):
                paragraph += 1
                text = " ".join(rng.choice(words) for _ in range(rng.randint(40, 110)))
                pdf.multi_cell(0, 5.2, f"{section}.{item} {text.capitalize()}.", new_x="LMARGIN",
                               new_y="NEXT")  # fmt: skip
                pdf.ln(2.5)
        files.append((f"synthetic-{number}.pdf", bytes(pdf.output())))
    return files


def measure(
    readers: dict[str, Reader], files: list[tuple[str, bytes]], min_seconds: float, wall: bool
) -> dict[str, float]:
    """Pages per second for each reader, passes interleaved so load changes hit all alike.

    Text PDFs are timed in process CPU time, which other work on a shared machine does not
    inflate; OCR runs in a Tesseract subprocess, so those files are timed on the wall clock.
    """
    clock = time.perf_counter if wall else time.process_time
    for reader in readers.values():  # warm up imports and caches
        for name, data in files:
            reader(data, name)
    rates: dict[str, list[float]] = {label: [] for label in readers}
    spent = 0.0
    while spent < min_seconds or len(rates[next(iter(readers))]) < 3:
        for label, reader in readers.items():
            start = clock()
            pages = sum(reader(data, name) for name, data in files)
            elapsed = max(clock() - start, 1e-9)
            spent += elapsed
            rates[label].append(pages / elapsed)
    return {label: statistics.median(values) for label, values in rates.items()}


def report(
    title: str,
    files: list[tuple[str, bytes]],
    stage: tuple[str, Reader],
    seconds: float,
    plumber: bool = True,
    wall: bool = False,
) -> None:
    if not files:
        return
    pages = sum(read_pypdfium2(data, name) for name, data in files)
    clock = "wall clock" if wall else "CPU time"
    print(f"\n{title}: {len(files)} files, {pages} pages ({clock})")
    readers: dict[str, Reader] = {"pypdfium2 text layer": read_pypdfium2}
    if plumber:
        readers["pdfplumber extract_text"] = read_pdfplumber
    readers["ReviewLens ingest stage"] = stage[1]
    rates = measure(readers, files, seconds, wall)
    fast = rates["pypdfium2 text layer"]
    for label, rate in rates.items():
        print(f"  {label:34} {rate:9.1f} pages/s   {rate / fast:.3f}")
    whole = rates["ReviewLens ingest stage"]
    if wall:
        print(f"    ({stage[0]}; OCR pages: no throughput target)")
    else:
        verdict = "met" if whole / fast >= 0.4 else "NOT met"
        print(f"    ({stage[0]}; target >= 0.40 of pypdfium2: {verdict})")
    if plumber:
        print(f"  ReviewLens vs pdfplumber: {whole / rates['pdfplumber extract_text']:.1f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--synthetic", type=int, default=3, help="20-page generated PDFs")
    parser.add_argument("--min-seconds", type=float, default=3.0)
    args = parser.parse_args()
    settings = Settings()
    stage = stage_reader(settings)
    from ingest.extractors import extract_raw

    text_files: list[tuple[str, bytes]] = []
    scanned_files: list[tuple[str, bytes]] = []
    for path in sorted(args.corpus.glob("*.pdf")):
        data = path.read_bytes()
        ocr = extract_raw(data, path.name, settings).ocr_pages
        (scanned_files if ocr else text_files).append((path.name, data))
    if text_files:
        report("Corpus text PDFs", text_files, stage, args.min_seconds)
    if args.synthetic or not text_files:
        report("Generated 20-page text PDFs", synthetic_pdfs(max(args.synthetic, 1)), stage,
               args.min_seconds)  # fmt: skip
    if scanned_files:
        report("Corpus PDFs with a scanned page (OCR)", scanned_files, stage, 1.0, False, True)


if __name__ == "__main__":
    main()
