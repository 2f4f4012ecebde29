"""Builders of real files for the ingest tests: good ones to read, and broken ones to refuse.

Every file is made here from fictional text, so each test knows exactly what a correct
extraction must contain. Builders return bytes and never touch the file system.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import docx
import pikepdf
from docx.shared import Pt
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

HEADER = "Elmbridge Vale SCP | Child W review | Final"
PARAGRAPHS = [
    "The review considers how agencies worked with Child W and his mother between the first "
    "antenatal booking and the referral made by the nursery in the spring.",
    "Practitioners described a family who were warm with professionals but rarely at home "
    "for planned visits, and several appointments were cancelled at short notice.",
    "The health visitor recorded that the home was cold and that there was little food in "
    "the cupboards, but this was not shared with the nursery or the family support worker.",
    "Nobody asked who else lived in the household, so the presence of a lodger was unknown "
    "to every agency until after the referral.",
]


def _fpdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 20, 20)
    return pdf


def text_pdf(pages: int = 4, header: str = HEADER, title: str | None = "Child W") -> bytes:
    """A multi-page review: running header, "Page n of N" footer, heading, numbered paragraphs."""
    pdf = _fpdf()
    if title:
        pdf.set_title(title)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=8)
        pdf.set_xy(20, 10)
        pdf.cell(0, 5, header)
        pdf.set_xy(20, 32)
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 9, f"{number + 2}. Findings about area {chr(64 + number)}")
        pdf.set_font("Helvetica", size=11)
        pdf.set_xy(20, 46)
        for index in range(1, len(PARAGRAPHS) + 1):
            text = PARAGRAPHS[(index + number) % len(PARAGRAPHS)]
            line = f"{number + 2}.{index} In area {chr(64 + number)}, {text[0].lower()}{text[1:]}"
            pdf.multi_cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        pdf.set_font("Helvetica", size=8)
        pdf.set_xy(20, 282)
        pdf.cell(0, 5, f"Page {number} of {pages}", align="C")
    return bytes(pdf.output())


def hyphenated_pdf() -> bytes:
    """Lines broken mid-word by a hyphen, and a real hyphenated compound at a line end."""
    pdf = _fpdf()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    lines = [
        "The review heard from the practi-",
        "tioners who knew the family best, and from the multi-",
        "agency safeguarding hub that took the first referral.",
    ]
    for offset, line in enumerate(lines):
        pdf.text(20, 40 + offset * 5.5, line)
    return bytes(pdf.output())


LEFT_COLUMN = [
    "Left one: the school nurse saw",
    "the child twice during the",
    "autumn term and recorded that",
    "he was tired and hungry.",
    "Left two: the attendance",
    "officer visited the home.",
]
RIGHT_COLUMN = [
    "Right one: the police were",
    "called to the address after",
    "a neighbour heard shouting",
    "late at night in November.",
    "Right two: a referral was",
    "made to the front door.",
]


def two_column_pdf() -> bytes:
    """Two columns written row by row, so content order interleaves the columns."""
    pdf = _fpdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.text(20, 25, "Key practice episodes across both columns")
    pdf.set_font("Helvetica", size=10)
    for row, (left, right) in enumerate(zip(LEFT_COLUMN, RIGHT_COLUMN, strict=True)):
        y = 40 + row * 5 + (4 if row >= 4 else 0)
        pdf.text(20, y, left)
        pdf.text(110, y, right)
    return bytes(pdf.output())


TABLE_ROWS = [
    ("Recommendation", "Addressed to", "Timescale"),
    ("Relaunch the bruising protocol", "Elmbridge Vale SCP", "Six months"),
    ("Record every adult in the home", "All agencies", "By March"),
    ("Audit safer sleep conversations", "Health visiting", "Annually"),
]


def table_pdf() -> bytes:
    """A paragraph, a bordered table and a closing paragraph."""
    pdf = _fpdf()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "The partnership agreed the actions below.", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(col_widths=(60, 60, 40)) as table:
        for cells in TABLE_ROWS:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.ln(6)
    pdf.multi_cell(0, 6, "Progress will be reported to the board.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


SCANNED_TEXT = ["Chronology of contact", "The nurse saw the baby at home", "No referral was made"]


def text_image(lines: list[str] = SCANNED_TEXT, size: tuple[int, int] = (1700, 900)) -> Image.Image:
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    for index, line in enumerate(lines):
        draw.text((80, 80 + index * 110), line, fill=0, font=font)
    return image


def _image_pdf(image: Image.Image, page_mm: tuple[float, float], text_first: bool) -> bytes:
    pdf = FPDF(unit="mm", format=page_mm)
    pdf.set_auto_page_break(False)
    if text_first:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        pdf.set_xy(20, 20)
        pdf.multi_cell(0, 6, PARAGRAPHS[0], new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf.image(buffer, x=0, y=0, w=page_mm[0], h=page_mm[1] * 0.6)
    return bytes(pdf.output())


def scanned_pdf() -> bytes:
    """Page 1 has a text layer; page 2 is only a picture of text."""
    return _image_pdf(text_image(), (210, 297), text_first=True)


def huge_page_image_pdf() -> bytes:
    """A 5 m square page holding one large image: rendering it at 300 dpi would need ~3.5 GB."""
    image = Image.new("L", (6000, 6000), 255)
    ImageDraw.Draw(image).rectangle((100, 100, 5900, 5900), outline=0, width=20)
    return _image_pdf(image, (5000, 5000), text_first=False)


def many_pages_pdf(pages: int = 5000) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    with pikepdf.open(io.BytesIO(text_pdf(pages=1))) as pdf:
        buffer = io.BytesIO()
        pdf.save(buffer, encryption=pikepdf.Encryption(user="letmein", owner="owner-secret"))
    return buffer.getvalue()


def truncated_pdf() -> bytes:
    data = text_pdf(pages=3)
    return data[: len(data) // 2]


def corrupt_pdf() -> bytes:
    """A PDF header followed by damaged objects and no usable cross-reference table."""
    data = bytearray(text_pdf(pages=2))
    start = data.index(b"obj")
    data[start : start + 4000] = bytes((i * 37) % 251 for i in range(4000))
    xref = data.rfind(b"xref")
    if xref > 0:
        data[xref : xref + 4] = b"xxxx"
    return bytes(data)


def random_bytes(length: int = 4096, seed: int = 7) -> bytes:
    state = seed
    out = bytearray()
    for _ in range(length):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((state >> 16) & 0xFF)
    return bytes(out)


HTML_REPORT = """<!DOCTYPE html>
<html lang="en"><head><title>Elmbridge Vale: inspection of children's services</title>
<style>body { font-family: sans-serif }</style><script>var tracking = "do not read";</script>
</head><body>
<header class="site-header"><a href="/">Inspectorate home</a></header>
<div class="cookie-banner"><p>We use cookies to improve this site.</p><button>Accept</button></div>
<nav><ul><li>Reports</li><li>Contact us</li></ul></nav>
<main>
<article>
<h1>Elmbridge Vale: inspection of children's services</h1>
<p>Inspection dates: 6 to 17 March 2023</p>
<table><tr><th>Judgement</th><th>Grade</th></tr>
<tr><td>Children in care</td><td>Good</td></tr>
<tr><td>Care leavers</td><td>Requires improvement to be good</td></tr></table>
<h2>What needs to improve?</h2>
<ul><li>Pathway plans for care leavers.</li>
<li>Oversight of <em>early help</em> in the north.</li></ul>
<h3>Children in care: good</h3>
<p>Children told inspectors that they feel listened to.<br>Most live in stable homes.</p>
</article>
</main>
<aside><p>Related reports you may like</p></aside>
<form><label>Was this page useful?</label><input type="text"></form>
<footer><p>Crown copyright</p></footer>
</body></html>
"""


def docx_bytes(title: str = "Child W review", with_bomb: int = 0) -> bytes:
    """Heading styles, numbered and bulleted lists, a table between paragraphs, header/footer."""
    document = docx.Document()
    document.core_properties.title = title
    section = document.sections[0]
    section.header.paragraphs[0].text = "OFFICIAL SENSITIVE - header text"
    section.footer.paragraphs[0].text = "Footer text - page"
    document.add_heading("Child W: local review", level=1)
    document.add_paragraph(PARAGRAPHS[0])
    document.add_heading("Key lines of enquiry", level=2)
    document.add_paragraph("Whether the home conditions were understood.", style="List Number")
    document.add_paragraph("Whether the lodger was known to agencies.", style="List Number")
    document.add_paragraph("Views of the nursery staff.", style="List Bullet")
    table = document.add_table(rows=2, cols=3)
    for row, cells in zip(table.rows, TABLE_ROWS[:2], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    run = document.add_paragraph().add_run(PARAGRAPHS[1])
    run.font.size = Pt(11)
    document.add_heading("Findings", level=2)
    document.add_paragraph(PARAGRAPHS[2])
    buffer = io.BytesIO()
    document.save(buffer)
    data = buffer.getvalue()
    if with_bomb:
        data = add_zip_member(data, "word/media/padding.bin", with_bomb)
    return data


def add_zip_member(data: bytes, name: str, zero_bytes: int) -> bytes:
    """Copy a zip and add a member of zeros, which deflate shrinks about a thousandfold."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        with target.open(name, "w", force_zip64=True) as member:
            chunk = bytes(1024 * 1024)
            for _ in range(zero_bytes // len(chunk)):
                member.write(chunk)
    return out.getvalue()


def not_docx_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "A zip that is not a Word document.")
    return out.getvalue()


BULLETS = [
    "Ask who lives in the home and who looks after the baby.",
    "Share what a child says about home with the safeguarding lead.",
    "Revisit safer sleep advice when the household changes.",
]


def drawn_bullets_pdf() -> bytes:
    """List items whose bullets are drawn dots, not characters, with no gap between items."""
    pdf = _fpdf()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.text(20, 30, "The partnership expects practitioners to act on three points.")
    for index, item in enumerate(BULLETS):
        y = 37 + index * 5.5
        pdf.circle(x=26, y=y - 1.3, radius=0.8, style="F")
        pdf.text(30, y, item)
    pdf.text(20, 37 + len(BULLETS) * 5.5, "The board will check progress in the spring audit.")
    return bytes(pdf.output())


def ruled_table_pdf() -> bytes:
    """A table drawn with separate lines, one cell wrapping onto two lines."""
    pdf = _fpdf()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.text(20, 30, "Actions agreed by the board are listed below.")
    xs = (20, 80, 150)
    ys = (36, 44, 57, 65)
    for y in ys:
        pdf.line(xs[0], y, xs[-1], y)
    for x in xs:
        pdf.line(x, ys[0], x, ys[-1])
    cells = [
        (("Action",), ("Owner",)),
        (("Train front-door staff on", "the bruising protocol"), ("Named nurse",)),
        (("Audit referrals",), ("Quality assurance group",)),
    ]
    for row, (left, right) in enumerate(cells):
        for column, lines in enumerate((left, right)):
            for offset, text in enumerate(lines):
                pdf.text(xs[column] + 2, ys[row] + 5 + offset * 4.5, text)
    pdf.text(20, 80, "The board will review these actions in six months.")
    return bytes(pdf.output())


def _run(tag: str, text: str) -> Any:
    from docx.oxml import OxmlElement

    run = OxmlElement("w:r")
    node = OxmlElement(tag)
    node.text = text
    run.append(node)
    return run


def docx_with_revisions() -> bytes:
    """A link, a tracked insertion and a tracked deletion inside one paragraph."""
    from docx.oxml import OxmlElement

    document = docx.Document()
    paragraph = document.add_paragraph("The procedure is on the ")
    link = OxmlElement("w:hyperlink")
    link.append(_run("w:t", "partnership website"))
    paragraph._p.append(link)
    deleted = OxmlElement("w:del")
    deleted.append(_run("w:delText", " (withdrawn draft)"))
    paragraph._p.append(deleted)
    inserted = OxmlElement("w:ins")
    inserted.append(_run("w:t", " and in the staff handbook"))
    paragraph._p.append(inserted)
    paragraph.add_run(".")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def banded_two_column_pdf() -> bytes:
    """Two columns, a full-width line across both, then two more columns, rows interleaved."""
    pdf = _fpdf()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    bands = [
        (["Top left one.", "Top left two.", "Top left three."],
         ["Top right one.", "Top right two.", "Top right three."]),
        (["Low left one.", "Low left two.", "Low left three."],
         ["Low right one.", "Low right two.", "Low right three."]),
    ]  # fmt: skip
    y = 30.0
    for number, (left, right) in enumerate(bands):
        for left_text, right_text in zip(left, right, strict=True):
            pdf.text(20, y, left_text)
            pdf.text(110, y, right_text)
            y += 10
        if number == 0:
            y += 4
            pdf.text(20, y, "This full-width sentence runs across both columns of the page body.")
            y += 14
    return bytes(pdf.output())


BROWSER_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Practice review: Child Y</title>
<style>
@page { size: A4; margin: 20mm; }
body { font-family: "DejaVu Serif", serif; font-size: 11pt; text-align: justify; }
h1 { font-size: 20pt } h2 { font-size: 14pt }
.cols { column-count: 2; column-gap: 10mm }
</style></head><body>
<h1>Practice review: Child Y</h1>
<h2>1. Introduction</h2>
<p>1.1 The official notification described a difficult first fortnight in which practitioners
from several offices struggled to find the flat, and the first visit was made by an unqualified
officer.</p>
<h2>2. Findings</h2>
<div class="cols">
<p>Column text begins here and describes how the school nurse noticed weight loss over the
autumn term, recorded it carefully, and then waited for the family doctor to respond.</p>
<p>The second paragraph of the columns explains that the family doctor did not receive the
letter, because the surgery had merged with another practice and the mailbox was unmonitored
for weeks.</p>
<p>A third paragraph finishes the findings by noting that nobody checked whether the letter had
arrived, and that the child was not seen again by a health professional until the winter.</p>
</div></body></html>
"""


def browser_pdf(chromium: str, folder: Path) -> bytes:
    """The page above printed by headless Chromium: glyph-by-glyph text, real fonts, columns."""
    source = folder / "page.html"
    target = folder / "page.pdf"
    source.write_text(BROWSER_PAGE, encoding="utf-8")
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={target}", source.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return target.read_bytes()
