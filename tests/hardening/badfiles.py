"""Real broken, hostile and oddly named files, built in memory for the hardening tests.

Each builder returns bytes made here from fictional text; nothing is read from outside.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import docx
import pikepdf
from fpdf import FPDF
from PIL import Image, ImageDraw

BODY = [
    "1.1 The nursery noticed that Child P arrived hungry on most Mondays and told the health "
    "visitor, who planned a home visit that did not take place.",
    "1.2 The stepfather was not known to any agency, and professionals did not ask who else "
    "cared for the children.",
]


def text_pdf(pages: int = 2) -> bytes:
    pdf = FPDF(format="A4")
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.cell(0, 10, f"Part {number}: what happened", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for line in BODY:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def truncated_pdf() -> bytes:
    data = text_pdf(3)
    return data[: len(data) // 2]


def corrupt_pdf() -> bytes:
    """A PDF header, then bytes that are no PDF objects at all, then an end marker."""
    return b"%PDF-1.6\n" + bytes((i * 89 + 7) % 256 for i in range(6000)) + b"\n%%EOF\n"


def encrypted_pdf() -> bytes:
    with pikepdf.open(io.BytesIO(text_pdf(1))) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(user="s3cret-user", owner="s3cret-owner"))
    return out.getvalue()


def many_pages_pdf(pages: int = 3000) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def huge_page_image_pdf() -> bytes:
    """A 4 m square page with one big picture: a naive render at 300 dpi needs gigabytes."""
    image = Image.new("L", (4000, 4000), 255)
    ImageDraw.Draw(image).rectangle((50, 50, 3950, 3950), outline=0, width=12)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = FPDF(unit="mm", format=(4000, 4000))
    pdf.add_page()
    pdf.image(buffer, x=0, y=0, w=4000, h=4000)
    return bytes(pdf.output())


def docx_file() -> bytes:
    document = docx.Document()
    document.add_heading("Child P: rapid review", level=1)
    for line in BODY:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_zip_bomb(megabytes: int = 80) -> bytes:
    """A real .docx with an extra member of zeros that inflates about a thousandfold."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(docx_file())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        with target.open("word/media/filler.bin", "w", force_zip64=True) as member:
            block = bytes(1024 * 1024)
            for _ in range(megabytes):
                member.write(block)
    return out.getvalue()


def truncated_docx() -> bytes:
    data = docx_file()
    return data[: len(data) // 3]


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def noise(length: int = 8192) -> bytes:
    state = 12345
    out = bytearray()
    for _ in range(length):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((state >> 16) & 0xFF)
    return bytes(out)


SCRIPT_SECRET = "scriptbodyxq"  # a word that only occurs inside the script element
HTML_WITH_SCRIPTS = f"""<!DOCTYPE html><html><head><title>Thornleigh learning briefing</title>
<script>var note = "{SCRIPT_SECRET}"; document.write("<b>{SCRIPT_SECRET}</b>");</script></head>
<body><h1>Thornleigh learning briefing</h1>
<p onclick="alert('x')">The briefing draws out what practitioners learned about neglect and
the voice of the child in a family known to several agencies.</p>
<script src="https://example.invalid/tracker.js"></script>
<p>Practitioners should ask about every adult in the household.</p>
<img src="x" onerror="alert('x')"></body></html>
""".encode()


@dataclass(frozen=True)
class BadFile:
    """One hostile input and what must happen to it: refused at upload with one of `refuse`
    codes, or accepted and failed as a job with one of `fail` codes."""

    case: str
    file_name: str
    build: object  # () -> bytes
    codes: tuple[str, ...]

    def data(self) -> bytes:
        builder = self.build
        assert callable(builder)
        result = builder()
        assert isinstance(result, bytes)
        return result


# The limits the tests run with, so oversize and bomb cases stay small and fast.
UPLOAD_LIMIT = 2 * 1024 * 1024
UNZIPPED_LIMIT = 40 * 1024 * 1024
PAGE_LIMIT = 500

BAD_FILES = [
    BadFile("zero_byte", "empty.pdf", lambda: b"", ("empty_file",)),
    BadFile("whitespace_only", "blank.txt", lambda: b"  \n\n\t \n", ("no_text", "empty_file")),
    BadFile("corrupt_pdf", "review.pdf", corrupt_pdf, ("corrupt_file",)),
    BadFile("truncated_pdf", "review.pdf", truncated_pdf, ("corrupt_file",)),
    BadFile("encrypted_pdf", "locked.pdf", encrypted_pdf, ("encrypted_file",)),
    BadFile("noise_named_pdf", "scan.pdf", noise, ("unsupported_type", "corrupt_file")),
    BadFile("png_named_docx", "report.docx", png_bytes, ("unsupported_type",)),
    BadFile("truncated_docx", "report.docx", truncated_docx, ("corrupt_file",)),
    BadFile("docx_zip_bomb", "bomb.docx", docx_zip_bomb, ("zip_bomb",)),
    BadFile("thousands_of_pages", "long.pdf", many_pages_pdf, ("too_many_pages",)),
    BadFile("oversized", "big.txt", lambda: b"neglect " * (UPLOAD_LIMIT // 8 + 100_000), ("_413",)),
]


# test-only extraction functions for the sandbox (module level, so a child process can load them)
def hang_forever(data: bytes, file_name: str) -> None:
    import time

    while True:
        time.sleep(1)


def crash_hard(data: bytes, file_name: str) -> None:
    import ctypes

    ctypes.string_at(0)  # a read of address zero: SIGSEGV, as a broken native parser would


def allocate_without_end(data: bytes, file_name: str) -> None:
    hoard = []
    while True:
        hoard.append(bytearray(50 * 1024 * 1024))


def scanned_pdf(pages: int = 12) -> bytes:
    """Pages that are only pictures of text: each needs OCR, which takes seconds per page."""
    from PIL import ImageFont

    font = ImageFont.load_default(size=40)
    pdf = FPDF(unit="mm", format="A4")
    for number in range(pages):
        image = Image.new("L", (1650, 2300), 255)
        draw = ImageDraw.Draw(image)
        for line in range(24):
            draw.text(
                (90, 90 + line * 88),
                f"Entry {number}.{line}: the social worker visited and saw the baby asleep.",
                fill=0,
                font=font,
            )
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        pdf.add_page()
        pdf.image(buffer, x=0, y=0, w=210, h=297)
    return bytes(pdf.output())
