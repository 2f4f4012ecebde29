"""Build the sample corpus in corpus/ from the fictional sources in corpus/src/.

The corpus is the project's test bed, so every file has to come out the same on every machine:
fixed creation dates, a fixed noise seed for the scanned pages and re-zipped DOCX files with
fixed timestamps. The sidecar of facts (<file>.facts.json) is written from the same run, so the
page a phrase is claimed to be on is the page the layout actually put it on.

Source format (corpus/src/*.src): YAML front matter between '---' lines, then blocks separated
by blank lines:
  # Heading {kind}        level-1 heading ('## ...' level 2); {kind} puts it in the facts
  1.1 Text ...            a paragraph; [[phrase]] marks a checked passage, '~' a hyphenation point
  - item                  bullet list (consecutive '- ' lines)
  | a | b |               table rows, the first one is the header
  @rec number=1 addressee="..." timescale="..." contains="..."   a recommendation fact
  @pagebreak  @twocol  @endtwocol  @box Title {kind} / @endbox  @scan / @endscan   layout
  @lines                  the following lines stay separate paragraphs (an address block)
docs/corpus.md describes the documents and the sidecar format.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import io
import json
import random
import re
import shlex
import sys
import textwrap
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SRC_DIR = ROOT / "corpus" / "src"
OUT_DIR = ROOT / "corpus"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FIXED_TIME = dt.datetime(2025, 1, 1, 9, 0, 0, tzinfo=dt.UTC)

FACT_RE = re.compile(r"\[\[(.+?)\]\]")
PARA_NO_RE = re.compile(r"^(\d+(?:\.\d+)+|\d{1,3}(?=\.\s))\.?\s+")
HEADING_RE = re.compile(r"^(#{1,3})\s+(.*?)\s*(?:\{(\w+)\})?\s*$")


# --- source model -------------------------------------------------------------------------


@dataclass
class Block:
    kind: str  # heading, para, bullets, table, pagebreak, twocol, endtwocol, box, endbox, scan...
    text: str = ""
    level: int = 1
    section_kind: str | None = None
    items: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def paragraph(self) -> str | None:
        m = PARA_NO_RE.match(self.text)
        return m.group(1) if m else None


@dataclass
class Source:
    meta: dict[str, Any]
    blocks: list[Block]
    recs: list[dict[str, str]]


def _clean(text: str) -> tuple[str, list[str]]:
    """Strip the fact markers, keeping the phrases they marked."""
    facts = FACT_RE.findall(text)
    return FACT_RE.sub(lambda m: m.group(1), text), facts


def parse_source(path: Path) -> Source:
    raw = path.read_text(encoding="utf-8")
    _, front, body = raw.split("---\n", 2)
    meta = yaml.safe_load(front)
    blocks: list[Block] = []
    recs: list[dict[str, str]] = []
    for chunk in re.split(r"\n\s*\n", body.strip()):
        lines = [ln.rstrip() for ln in chunk.strip().splitlines()]
        if not lines:
            continue
        rest: list[str] = []
        keep_lines = False
        for ln in lines:
            if ln.startswith("@"):
                word, _, arg = ln[1:].partition(" ")
                if word == "lines":
                    keep_lines = True
                elif word == "rec":
                    recs.append(dict(kv.split("=", 1) for kv in shlex.split(arg)))
                elif word == "box":
                    bm = re.match(r"(.*?)\s*(?:\{(\w+)\})?$", arg.strip())
                    assert bm is not None
                    blocks.append(Block("box", bm.group(1), 1, bm.group(2)))
                else:
                    blocks.append(Block(kind=word, text=arg.strip()))
            else:
                rest.append(ln)
        if not rest:
            continue
        if keep_lines:  # an address block: one line, one paragraph
            blocks += [Block("para", ln.strip()) for ln in rest]
            continue
        first = rest[0]
        if m := HEADING_RE.match(first):
            blocks.append(Block("heading", m.group(2), len(m.group(1)), m.group(3)))
            rest = rest[1:]
            if not rest:
                continue
            first = rest[0]
        if first.startswith("- "):
            items, facts = [], []
            for ln in rest:
                if ln.startswith("- "):
                    items.append(ln[2:])
                else:
                    items[-1] += " " + ln.strip()
            cleaned = [_clean(i) for i in items]
            for _, f in cleaned:
                facts += f
            blocks.append(Block("bullets", items=[c for c, _ in cleaned], facts=facts))
        elif first.startswith("|"):
            rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in rest]
            rows = [r for r in rows if not all(set(c) <= set("-: ") for c in r)]
            facts = []
            clean_rows = []
            for r in rows:
                cr = []
                for c in r:
                    t, f = _clean(c)
                    cr.append(t)
                    facts += f
                clean_rows.append(cr)
            blocks.append(Block("table", rows=clean_rows, facts=facts))
        else:
            text, facts = _clean(" ".join(ln.strip() for ln in rest))
            blocks.append(Block("para", text, facts=facts))
    return Source(meta, blocks, recs)


def plain(text: str) -> str:
    return text.replace("~", "")


SUFFIXES = (
    "tioners",
    "tioner",
    "tions",
    "tion",
    "ments",
    "ment",
    "ness",
    "ities",
    "ity",
    "ance",
    "ence",
    "ised",
    "ising",
    "ings",
    "ing",
    "ally",
    "ship",
    "ful",
)


TYPESET = {"fi": "\ufb01", "fl": "\ufb02", "'": "\u2019"}


def typeset(text: str) -> str:
    """Ligatures and curly quotes, as a word processor puts them into a PDF's text layer."""
    text = re.sub(r'"(\S[^"]*)"', "\u201c\\1\u201d", text)
    for plain_form, glyph in TYPESET.items():
        text = text.replace(plain_form, glyph)
    return text


def untypeset(text: str) -> str:
    for plain_form, glyph in TYPESET.items():
        text = text.replace(glyph, plain_form)
    return text.replace("\u201c", '"').replace("\u201d", '"')


def auto_hyphen_points(word: str) -> str:
    """Mark a break before a common suffix, as a word processor's hyphenation would."""
    core = word.rstrip(".,;:)")
    if len(core) < 9 or not core.isalpha():
        return word
    for suf in SUFFIXES:
        if core.lower().endswith(suf) and len(core) - len(suf) >= 4:
            cut = len(core) - len(suf)
            return word[:cut] + "~" + word[cut:]
    return word


# --- PDF ----------------------------------------------------------------------------------


@dataclass
class Placed:
    """Where the layout put a block: facts are written from this, not from guesses."""

    block: Block
    page: int
    ocr: bool = False


class PdfLayout:
    """A small hand-rolled layout engine over fpdf2, so hyphenation, columns and the page of
    every paragraph are under our control."""

    def __init__(self, src: Source, toc_pages: dict[str, int] | None) -> None:
        from fpdf import FPDF

        meta = src.meta
        self.src = src
        self.meta = meta
        self.toc_pages = toc_pages or {}
        layout = self

        class _Pdf(FPDF):
            def header(self) -> None:
                layout._header()

            def footer(self) -> None:
                layout._footer()

        self.pdf = _Pdf(format="A4", unit="mm")
        self.pdf.set_creation_date(FIXED_TIME)
        self.pdf.set_title(meta["title"])
        self.pdf.set_author(meta.get("author", meta.get("area", "")))
        self.pdf.set_producer("ReviewLens corpus builder")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(22, 25, 22)
        self.font = meta.get("font", "Helvetica")
        self.typeset = bool(meta.get("ttf"))
        if meta.get("ttf"):  # an embedded Unicode font, set as a word processor would
            name = meta["ttf"]
            self.pdf.add_font(name, "", str(FONT_DIR / f"{name}.ttf"))
            self.pdf.add_font(name, "B", str(FONT_DIR / f"{name}-Bold.ttf"))
            self.font = name
        self.size = float(meta.get("font_size", 10.5))
        self.lh = self.size * 0.5
        self.top = 25.0
        self.bottom = 297 - 22.0
        self.placed: list[Placed] = []
        self.headings: list[tuple[Block, int]] = []
        self.hyphenated: list[str] = []
        self.scan_pages: list[int] = []
        self.cols = 1
        self.col = 0
        self.in_scan = False
        self.scan_lines: list[tuple[str, str, float]] = []
        self.y = self.top
        self.hyphenate = bool(meta.get("hyphenate", False))

    # page furniture
    def _header(self) -> None:
        h = self.meta.get("header")
        if not h or self.in_scan or self.pdf.page_no() in self.scan_pages:
            return
        p = self.pdf
        p.set_font(self.font, "", 8)
        p.set_text_color(90, 90, 90)
        p.set_xy(22, 12)
        p.cell(166, 4, h, align="L")
        p.set_draw_color(150, 150, 150)
        p.line(22, 17, 188, 17)
        p.set_text_color(0, 0, 0)

    def _footer(self) -> None:
        f = self.meta.get("footer")
        if f is None or self.pdf.page_no() in self.scan_pages:
            return
        p = self.pdf
        p.set_font(self.font, "", 8)
        p.set_text_color(90, 90, 90)
        p.set_xy(22, 285)
        style = self.meta.get("page_numbers", "Page {n} of {nb}")
        p.cell(100, 4, f, align="L")
        p.set_xy(122, 285)
        p.cell(66, 4, style.format(n=p.page_no(), nb="{nb}"), align="R")
        p.set_text_color(0, 0, 0)

    # geometry
    @property
    def x0(self) -> float:
        if self.cols == 1:
            return 22.0
        return 22.0 + self.col * (self.colw + 8)

    @property
    def colw(self) -> float:
        return 166.0 if self.cols == 1 else (166.0 - 8) / 2

    def new_page(self) -> None:
        self.pdf.add_page()
        self.y = self.top
        self.col = 0

    def ensure(self, h: float) -> None:
        if self.y + h <= self.bottom:
            return
        if self.cols == 2 and self.col == 0:
            self.col = 1
            self.y = self.top
        else:
            self.new_page()

    # text
    def wrap(
        self, text: str, width: float, style: str = "", size: float | None = None
    ) -> list[str]:
        p = self.pdf
        p.set_font(self.font, style, size or self.size)
        if self.typeset:
            text = typeset(text)
        lines: list[str] = []
        cur = ""
        for word in text.split():
            cand = (cur + " " + plain(word)).strip()
            if p.get_string_width(cand) <= width:
                cur = cand
                continue
            if self.hyphenate and "~" not in word:
                word = auto_hyphen_points(word)
            if "~" in word:
                parts = word.split("~")
                done = False
                for i in range(len(parts) - 1, 0, -1):
                    head = "".join(parts[:i]) + "-"
                    if p.get_string_width((cur + " " + head).strip()) <= width:
                        lines.append((cur + " " + head).strip())
                        self.hyphenated.append(untypeset(plain(word)).strip(".,;:()"))
                        cur = "".join(parts[i:])
                        done = True
                        break
                if done:
                    continue
            if cur:
                lines.append(cur)
            cur = plain(word)
        if cur:
            lines.append(cur)
        return lines

    def text_lines(
        self, lines: list[str], x: float, style: str = "", size: float | None = None
    ) -> None:
        p = self.pdf
        size = size or self.size
        lh = size * 0.5
        for ln in lines:
            self.ensure(lh)
            p.set_font(self.font, style, size)
            p.set_xy(self.x0 + x, self.y)
            p.cell(self.colw - x, lh, ln)
            self.y += lh

    def para(self, b: Block, keep: bool) -> int:
        num = b.paragraph
        indent = 12.0 if (num and self.meta.get("hanging_numbers", True) and self.cols == 1) else 0
        body = PARA_NO_RE.sub("", b.text) if indent else b.text
        lines = self.wrap(body, self.colw - indent)
        if keep:
            self.ensure(len(lines) * self.lh)
        else:
            self.ensure(self.lh)
        page = self.pdf.page_no()
        if indent:
            self.pdf.set_font(self.font, "", self.size)
            self.pdf.set_xy(self.x0, self.y)
            label = m.group(0).strip() if (m := PARA_NO_RE.match(b.text)) else ""
            self.pdf.cell(indent, self.lh, label)
        self.text_lines(lines, indent)
        self.y += self.lh * 0.6
        return page

    def heading(self, b: Block) -> int:
        size = {1: self.size + 4, 2: self.size + 1.5, 3: self.size + 0.5}[b.level]
        lines = self.wrap(b.text, self.colw, "B", size)
        self.y += 2 if b.level == 1 else 1
        self.ensure(len(lines) * size * 0.5 + 3 * self.lh)  # never strand a heading
        page = self.pdf.page_no()
        if b.level == 1:
            self.pdf.set_text_color(20, 60, 110)
        self.text_lines(lines, 0, "B", size)
        self.pdf.set_text_color(0, 0, 0)
        self.y += 2
        return page

    def bullets(self, b: Block) -> int:
        page = -1
        for item in b.items:
            lines = self.wrap(item, self.colw - 6)
            self.ensure(min(len(lines), 2) * self.lh)
            if page < 0:
                page = self.pdf.page_no()
            self.pdf.set_fill_color(0, 0, 0)
            self.pdf.circle(self.x0 + 1.5, self.y + self.lh / 2, 0.8, style="F")
            self.text_lines(lines, 6)
            self.y += 1
        self.y += self.lh * 0.5
        return page

    def table(self, b: Block) -> int:
        p = self.pdf
        ncol = len(b.rows[0])
        widths = self.meta.get("table_widths", {}).get(str(ncol))
        if widths:
            widths = [w * self.colw / sum(widths) for w in widths]
        else:
            widths = [self.colw / ncol] * ncol
        first_page = -1
        for ri, row in enumerate(b.rows):
            style = "B" if ri == 0 else ""
            cells = [
                self.wrap(c, w - 3, style, self.size - 1) for c, w in zip(row, widths, strict=True)
            ]
            lh = (self.size - 1) * 0.5
            h = max(len(c) for c in cells) * lh + 3
            self.ensure(h)
            if first_page < 0:
                first_page = p.page_no()
            x = self.x0
            for c, w in zip(cells, widths, strict=True):
                if ri == 0:
                    p.set_fill_color(225, 232, 242)
                    p.rect(x, self.y, w, h, style="DF")
                else:
                    p.rect(x, self.y, w, h)
                yy = self.y + 1.5
                for ln in c:
                    p.set_font(self.font, style, self.size - 1)
                    p.set_xy(x + 1.5, yy)
                    p.cell(w - 3, lh, ln)
                    yy += lh
                x += w
            self.y += h
        self.y += self.lh
        return first_page

    def box(self, box: Block, blocks: list[Block]) -> None:
        """A boxed section (learning briefs): measure first, then draw the frame and the text."""
        lh = self.lh
        inner = self.colw - 8
        tl = self.wrap(box.text, inner, "B", self.size + 1)
        h = len(tl) * (self.size + 1) * 0.5 + 4
        for b in blocks:
            if b.kind == "para":
                h += len(self.wrap(b.text, inner)) * lh + 2
            elif b.kind == "bullets":
                h += sum(len(self.wrap(i, inner - 6)) * lh + 1 for i in b.items) + 2
        self.ensure(h + 4)
        page = self.pdf.page_no()
        p = self.pdf
        p.set_draw_color(20, 60, 110)
        p.set_fill_color(240, 244, 250)
        p.rect(self.x0, self.y, self.colw, h + 2, style="DF")
        top = self.y
        self.y += 3
        saved_x = self.x0
        p.set_text_color(20, 60, 110)
        for ln in tl:
            p.set_font(self.font, "B", self.size + 1)
            p.set_xy(saved_x + 4, self.y)
            p.cell(inner, (self.size + 1) * 0.5, ln)
            self.y += (self.size + 1) * 0.5
        p.set_text_color(0, 0, 0)
        self.headings.append((box, page))
        self.y += 1
        for b in blocks:
            if b.kind == "para":
                for ln in self.wrap(b.text, inner):
                    p.set_font(self.font, "", self.size)
                    p.set_xy(saved_x + 4, self.y)
                    p.cell(inner, lh, ln)
                    self.y += lh
                self.placed.append(Placed(b, page))
            elif b.kind == "bullets":
                for item in b.items:
                    p.set_fill_color(20, 60, 110)
                    p.circle(saved_x + 5.5, self.y + lh / 2, 0.8, style="F")
                    for ln in self.wrap(item, inner - 6):
                        p.set_font(self.font, "", self.size)
                        p.set_xy(saved_x + 10, self.y)
                        p.cell(inner - 6, lh, ln)
                        self.y += lh
                    self.y += 1
                self.placed.append(Placed(b, page))
            self.y += 2
        self.y = top + h + 2 + 5

    def title_page(self) -> None:
        tp = self.meta.get("title_page")
        if not tp:
            return
        self.new_page()
        y = 70.0
        for i, line in enumerate(tp):
            size = 22.0 if i == 1 else 13.0
            style = "B" if i == 1 else ""
            for ln in self.wrap(line, 150, style, size):
                self.pdf.set_font(self.font, style, size)
                self.pdf.set_xy(30, y)
                self.pdf.cell(150, size * 0.5, ln, align="C")
                y += size * 0.55
            y += 8
        self.y = self.bottom  # the title page is full: the body starts on a fresh page

    def contents(self) -> None:
        entries = [b for b in self.src.blocks if b.kind == "heading" and b.level == 1]
        self.new_page()
        self.pdf.set_font(self.font, "B", self.size + 4)
        self.pdf.set_xy(22, self.y)
        self.pdf.cell(166, 8, "Contents")
        self.y += 12
        for b in entries:
            n = str(self.toc_pages.get(b.text, 0))
            p = self.pdf
            p.set_font(self.font, "", self.size)
            tw = p.get_string_width(b.text + " ")
            nw = p.get_string_width(" " + n)
            dots = "." * int((166 - tw - nw) / p.get_string_width("."))
            p.set_xy(22, self.y)
            p.cell(166, self.lh, f"{b.text} {dots} {n}")
            self.y += self.lh * 1.6

    # scanned pages: text is drawn into a noisy bitmap instead of the text layer
    def scan_page_flush(self) -> None:
        if not self.scan_lines:
            return
        from PIL import Image, ImageDraw, ImageFont

        dpi = 200
        scale = dpi / 25.4
        img = Image.new("L", (int(210 * scale), int(297 * scale)), 255)
        draw = ImageDraw.Draw(img)
        fonts: dict[str, Any] = {}
        for text, style, y_mm in self.scan_lines:
            size = float(style.split(":")[1])
            bold = style.startswith("B")
            key = f"{bold}{size}"
            if key not in fonts:
                name = "DejaVuSerif-Bold.ttf" if bold else "DejaVuSerif.ttf"
                fonts[key] = ImageFont.truetype(str(FONT_DIR / name), int(size * dpi / 72))
            draw.text((22 * scale, y_mm * scale), text, fill=0, font=fonts[key])
        page_no = self.pdf.page_no()
        n_txt = f"{self.meta.get('footer', '')}    Page {page_no}"
        small = ImageFont.truetype(str(FONT_DIR / "DejaVuSerif.ttf"), int(9 * dpi / 72))
        draw.text((22 * scale, 283 * scale), n_txt, fill=0, font=small)
        rng = random.Random(page_no * 7919)
        px = img.load()
        assert px is not None
        w, h = img.size
        for _ in range(1400):  # photocopier dust
            x, y = rng.randrange(w), rng.randrange(h)
            px[x, y] = rng.choice((0, 60, 110))
        img = img.rotate(0.35, resample=Image.Resampling.BILINEAR, fillcolor=255)
        bw = img.point(lambda v: 0 if v < 150 else 255).convert("1")
        buf = io.BytesIO()
        bw.save(buf, format="TIFF", compression="group4")
        buf.seek(0)
        self.pdf.image(buf, x=0, y=0, w=210, h=297)
        self.scan_lines = []
        self.scan_pages.append(page_no)

    def scan_block(self, b: Block) -> int:
        """Lay out a block for a scanned page in mm, as the typewriter left it."""
        from PIL import ImageFont

        size = 11.0 if b.kind != "heading" else 13.0
        style = ("B:" if b.kind == "heading" else "R:") + str(size)
        font = ImageFont.truetype(
            str(FONT_DIR / ("DejaVuSerif-Bold.ttf" if b.kind == "heading" else "DejaVuSerif.ttf")),
            int(size * 200 / 72),
        )
        width_px = 160 * 200 / 25.4
        words = plain(b.text if b.kind != "bullets" else " ".join(b.items)).split()
        lines: list[str] = []
        cur = ""
        for w in words:
            cand = (cur + " " + w).strip()
            if font.getlength(cand) <= width_px:
                cur = cand
            else:
                lines.append(cur)
                cur = w
        if cur:
            lines.append(cur)
        lh = size * 0.5
        need = len(lines) * lh + (3 if b.kind == "heading" else 0)
        if self.y + need > 270:
            self.scan_page_flush()
            self.new_page()
        page = self.pdf.page_no()
        if b.kind == "heading":
            self.y += 3
        for ln in lines:
            self.scan_lines.append((ln, style, self.y))
            self.y += lh
        self.y += lh * 0.7
        return page

    def run(self) -> None:
        m = self.meta
        self.pdf.alias_nb_pages("{nb}")
        self.title_page()
        if m.get("contents"):
            self.contents()
        blocks = self.src.blocks
        if blocks[0].kind not in ("scan", "twocol"):
            self.new_page()
        i = 0
        while i < len(blocks):
            b = blocks[i]
            i += 1
            if b.kind == "pagebreak":
                if self.in_scan:
                    self.scan_page_flush()
                self.new_page()
            elif b.kind == "twocol":
                if self.pdf.page_no() == 0 or self.y > self.top:
                    self.new_page()
                self.cols, self.col = 2, 0
            elif b.kind == "endtwocol":
                self.cols = 1
                if i < len(blocks):
                    self.new_page()
            elif b.kind == "scan":
                self.in_scan = True
                self.new_page()
            elif b.kind == "endscan":
                self.scan_page_flush()
                self.in_scan = False
                if i < len(blocks):
                    self.new_page()
            elif b.kind == "box":
                inner: list[Block] = []
                while blocks[i].kind != "endbox":
                    inner.append(blocks[i])
                    i += 1
                i += 1
                self.box(b, inner)
            elif self.in_scan:
                page = self.scan_block(b)
                if b.kind == "heading":
                    self.headings.append((b, page))
                else:
                    self.placed.append(Placed(b, page, ocr=True))
            elif b.kind == "heading":
                self.headings.append((b, self.heading(b)))
            elif b.kind == "para":
                self.placed.append(Placed(b, self.para(b, keep=bool(b.facts))))
            elif b.kind == "bullets":
                self.placed.append(Placed(b, self.bullets(b)))
            elif b.kind == "table":
                self.placed.append(Placed(b, self.table(b)))
            else:
                raise ValueError(f"unknown block @{b.kind}")
        if self.in_scan:
            self.scan_page_flush()


def build_pdf(src: Source) -> tuple[bytes, dict[str, Any]]:
    toc: dict[str, int] | None = None
    for _ in range(2):  # the contents page needs the pages the first pass found
        lay = PdfLayout(src, toc)
        lay.run()
        toc = {b.text: p for b, p in lay.headings if b.level == 1}
    data = bytes(lay.pdf.output())
    placed = {id(p.block): p for p in lay.placed}
    pages = {id(b): p for b, p in lay.headings}
    return data, {
        "page_count": lay.pdf.page_no(),
        "para_page": {k: v.page for k, v in placed.items()},
        "ocr": {k: v.ocr for k, v in placed.items()},
        "heading_page": pages,
        "ocr_pages": lay.scan_pages,
        "hyphenated": sorted(set(lay.hyphenated)),
    }


# --- DOCX ---------------------------------------------------------------------------------


def build_docx(src: Source) -> tuple[bytes, dict[str, Any]]:
    from docx import Document as Docx
    from docx.shared import Pt

    m = src.meta
    d = Docx()
    d.styles["Normal"].font.name = "Arial"
    d.styles["Normal"].font.size = Pt(10.5)
    cp = d.core_properties
    cp.title = m["title"]
    cp.author = m.get("author", "")
    cp.created = FIXED_TIME.replace(tzinfo=None)
    cp.modified = FIXED_TIME.replace(tzinfo=None)
    cp.last_printed = FIXED_TIME.replace(tzinfo=None)
    cp.revision = 1
    sec = d.sections[0]
    if m.get("header"):
        sec.header.paragraphs[0].text = m["header"]
    if m.get("footer"):
        sec.footer.paragraphs[0].text = m["footer"]
    for line in m.get("title_page", []):
        d.add_paragraph(line, style="Title" if line == m["title"] else None)
    if m.get("title_page"):
        d.add_page_break()
    for b in src.blocks:
        if b.kind == "heading":
            d.add_heading(b.text, level=b.level)
        elif b.kind == "para":
            num = b.paragraph
            text = plain(b.text)
            if num:
                text = num + "\t" + PARA_NO_RE.sub("", text)
            d.add_paragraph(text)
        elif b.kind == "bullets":
            for item in b.items:
                d.add_paragraph(plain(item), style="List Bullet")
        elif b.kind == "table":
            t = d.add_table(rows=0, cols=len(b.rows[0]))
            t.style = "Table Grid"
            for ri, row in enumerate(b.rows):
                cells = t.add_row().cells
                for c, txt in zip(cells, row, strict=True):
                    c.text = plain(txt)
                    if ri == 0:
                        for r in c.paragraphs[0].runs:
                            r.bold = True
        elif b.kind == "pagebreak":
            d.add_page_break()
    buf = io.BytesIO()
    d.save(buf)
    return _fixed_zip(buf.getvalue()), {"page_count": 1}


def _fixed_zip(data: bytes) -> bytes:
    """python-docx stamps zip entries with the current time; restamp them for repeatable bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 9, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, zin.read(info.filename))
    return out.getvalue()


# --- HTML, Markdown, plain text -----------------------------------------------------------


def _html_body(src: Source) -> str:
    e = html.escape
    out: list[str] = []
    for b in src.blocks:
        if b.kind == "heading":
            lvl = b.level + 1
            out.append(f"<h{lvl}>{e(b.text)}</h{lvl}>")
        elif b.kind == "para":
            out.append(f"<p>{e(plain(b.text))}</p>")
        elif b.kind == "bullets":
            items = "".join(f"\n  <li>{e(plain(i))}</li>" for i in b.items)
            out.append(f"<ul>{items}\n</ul>")
        elif b.kind == "table":
            head = "".join(f'<th scope="col">{e(c)}</th>' for c in b.rows[0])
            body = "".join(
                "\n    <tr>" + "".join(f"<td>{e(plain(c))}</td>" for c in r) + "</tr>"
                for r in b.rows[1:]
            )
            out.append(
                f'<table class="govuk-table">\n  <thead><tr>{head}</tr></thead>\n'
                f"  <tbody>{body}\n  </tbody>\n</table>"
            )
    return "\n".join(out)


def build_html(src: Source) -> tuple[bytes, dict[str, Any]]:
    m = src.meta
    intro = "\n".join(f'<p class="lede">{html.escape(x)}</p>' for x in m.get("lede", []))
    template = (SRC_DIR / "inspectorate-page.html.tmpl").read_text(encoding="utf-8")
    page = template.format(
        title=html.escape(m["title"]),
        site=html.escape(m.get("site", "Inspectorate")),
        area=html.escape(m.get("area", "")),
        intro=intro,
        body=_html_body(src),
    )
    return page.encode("utf-8"), {"page_count": 1}


def build_md(src: Source) -> tuple[bytes, dict[str, Any]]:
    out = [f"# {src.meta['title']}", ""]
    out += [ln for x in src.meta.get("lede", []) for ln in (x, "")]
    for b in src.blocks:
        if b.kind == "heading":
            out += ["#" * (b.level + 1) + " " + b.text, ""]
        elif b.kind == "para":
            out += [plain(b.text), ""]
        elif b.kind == "bullets":
            out += [f"- {plain(i)}" for i in b.items] + [""]
        elif b.kind == "table":
            out.append("| " + " | ".join(b.rows[0]) + " |")
            out.append("|" + "|".join("---" for _ in b.rows[0]) + "|")
            out += ["| " + " | ".join(plain(c) for c in r) + " |" for r in b.rows[1:]]
            out.append("")
    return "\n".join(out).encode("utf-8"), {"page_count": 1}


def build_txt(src: Source) -> tuple[bytes, dict[str, Any]]:
    title = src.meta["title"]
    out = [title, "=" * len(title), ""]
    out += [ln for x in src.meta.get("lede", []) for ln in (textwrap.fill(x, 78), "")]
    for b in src.blocks:
        if b.kind == "heading":
            rule = ["-" * len(b.text)] if b.level == 1 else []
            out += [b.text, *rule, ""]
        elif b.kind == "para":
            out += [textwrap.fill(plain(b.text), 78), ""]
        elif b.kind == "bullets":
            for i in b.items:
                out.append(
                    textwrap.fill(plain(i), 78, initial_indent="  * ", subsequent_indent="    ")
                )
            out.append("")
        elif b.kind == "table":
            for r in b.rows[1:]:
                pairs = "; ".join(f"{h}: {plain(c)}" for h, c in zip(b.rows[0], r, strict=True))
                out += [textwrap.fill(pairs, 78), ""]
    return "\n".join(out).encode("utf-8"), {"page_count": 1}


BUILDERS = {
    "pdf": build_pdf,
    "docx": build_docx,
    "html": build_html,
    "md": build_md,
    "txt": build_txt,
}


# --- facts --------------------------------------------------------------------------------


def make_facts(src: Source, info: dict[str, Any]) -> dict[str, Any]:
    m = src.meta
    paged = m["format"] == "pdf"
    full_text = " ".join(
        plain(b.text)
        if b.kind in ("para", "heading")
        else " ".join([plain(i) for i in b.items] + [plain(c) for r in b.rows for c in r])
        for b in src.blocks
    )
    front = " ".join(str(x) for x in m.get("title_page", []) + m.get("lede", []))
    sections = []
    passages = []
    kind = "other"
    for b in src.blocks:
        if b.kind in ("heading", "box"):
            if b.level == 1:
                kind = b.section_kind or "other"
            elif b.section_kind:
                kind = b.section_kind
            if b.section_kind:
                sections.append(
                    {
                        "heading": b.text,
                        "kind": b.section_kind,
                        "page_start": info["heading_page"][id(b)] if paged else None,
                    }
                )
        for phrase in b.facts:
            if (full_text + " " + front).count(phrase) != 1:
                raise ValueError(f"{m['file']}: fact phrase not unique: {phrase!r}")
            passages.append(
                {
                    "contains": phrase,
                    "page": info["para_page"][id(b)] if paged else None,
                    "paragraph": b.paragraph if b.kind == "para" else None,
                    "section_kind": kind,
                    "ocr": bool(info["ocr"][id(b)]) if paged else False,
                }
            )
    if m.get("date"):
        d = m["date"]
        if f"{d.day} {d:%B} {d.year}" not in f"{full_text} {front}":
            raise ValueError(f"{m['file']}: the publication date is not stated in the document")
    for r in src.recs:
        for key in ("contains", "addressee"):
            if key in r and r[key] not in full_text:
                raise ValueError(f"{m['file']}: recommendation {key} not in text: {r[key]!r}")
    absent = list(m.get("absent", []))
    for furniture in ("header", "footer"):
        if m.get(furniture) and m[furniture] not in absent:
            absent.append(m[furniture])
    if paged and m.get("contents"):
        absent.append(".....")
    for a in absent:
        if a in full_text or a in front:
            raise ValueError(f"{m['file']}: 'absent' string is in the body: {a!r}")
    facts: dict[str, Any] = {
        "file": m["file"],
        "doc_type": m["doc_type"],
        "title": m["title"],
        "year": m["year"],
        "date": str(m["date"]) if m.get("date") else None,
        "page_count": info["page_count"],
        "metadata": m.get("metadata", {}),
        "sections": sections,
        "passages": passages,
        "recommendations": {"count": m.get("rec_count", len(src.recs)), "items": src.recs},
        "absent": absent,
        "ocr_pages": info.get("ocr_pages", []),
        "themes": m.get("themes", []),
        "not_themes": m.get("not_themes", []),
        "contains_markup": bool(m.get("contains_markup", False)),
    }
    if info.get("hyphenated"):
        facts["hyphenated"] = info["hyphenated"]
    if "<script>" in full_text and not facts["contains_markup"]:
        raise ValueError(f"{m['file']}: quotes markup but contains_markup is false")
    return facts


def build_all(out_dir: Path, only: list[str] | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(SRC_DIR.glob("*.src")):
        src = parse_source(path)
        name = src.meta["file"]
        if only and name not in only and path.stem not in only:
            continue
        data, info = BUILDERS[src.meta["format"]](src)
        facts = make_facts(src, info)
        (out_dir / name).write_bytes(data)
        side = out_dir / f"{name}.facts.json"
        side.write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written += [out_dir / name, side]
        print(f"{name:55s} {len(data) / 1024:7.1f} KB  pages={info['page_count']}", file=sys.stderr)
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="folder to write into")
    ap.add_argument("only", nargs="*", help="build only these (file or source names)")
    args = ap.parse_args()
    build_all(args.out, args.only or None)


if __name__ == "__main__":
    main()
