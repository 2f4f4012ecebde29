"""Plain text and Markdown: blank lines separate paragraphs; Markdown headings are kept."""

from __future__ import annotations

import re

from ingest.detect import MARKDOWN, TEXT
from ingest.extractors.base import register
from reviewlens.errors import CorruptFile
from reviewlens.model import Block, RawDocument
from reviewlens.settings import Settings

_LIST_ITEM = re.compile(r"^\s*(?:[-*+\u2022\u25cf\u25aa\u2013]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+\S")
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_MD_SETEXT = re.compile(r"^(=+|-+)\s*$")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)")
_MD_LIST_MARK = re.compile(r"^\s*[-*+]\s+")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252, which never fails."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise CorruptFile("the text file claims UTF-16 but does not decode") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _paragraph_groups(text: str) -> list[tuple[int, list[str]]]:
    """(page, lines) runs separated by blank lines; form feeds start a new page."""
    groups: list[tuple[int, list[str]]] = []
    for page_number, page in enumerate(text.split("\f"), start=1):
        current: list[str] = []
        for line in page.splitlines():
            if line.strip():
                current.append(line.rstrip())
            elif current:
                groups.append((page_number, current))
                current = []
        if current:
            groups.append((page_number, current))
    return groups


def _blocks_from_lines(lines: list[str], page: int | None, markdown: bool) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block(text=" ".join(part.strip() for part in paragraph), page=page))
            paragraph.clear()

    for index, line in enumerate(lines):
        if markdown:
            heading = _MD_HEADING.match(line)
            if heading:
                flush()
                blocks.append(
                    Block(
                        text=_md_inline(heading.group(2)),
                        page=page,
                        kind="heading",
                        heading_level=len(heading.group(1)),
                    )
                )
                continue
            if _MD_SETEXT.match(line) and paragraph and index > 0:
                title = " ".join(part.strip() for part in paragraph)
                paragraph.clear()
                level = 1 if line.strip().startswith("=") else 2
                blocks.append(
                    Block(text=_md_inline(title), page=page, kind="heading", heading_level=level)
                )
                continue
            if line.lstrip().startswith("|"):
                flush()
                if not _MD_TABLE_RULE.match(line):
                    cells = [
                        _md_inline(cell.strip()) for cell in line.strip().strip("|").split("|")
                    ]
                    blocks.append(Block(text=" | ".join(cells), page=page, kind="table_row"))
                continue
        if _LIST_ITEM.match(line):
            flush()
            item = _MD_LIST_MARK.sub("", line) if markdown else line
            blocks.append(
                Block(
                    text=_md_inline(item) if markdown else item.strip(), page=page, kind="list_item"
                )
            )
            continue
        if blocks and blocks[-1].kind == "list_item" and not paragraph:
            # a continuation line of the list item above (same blank-line group)
            last = blocks[-1]
            blocks[-1] = last.model_copy(update={"text": f"{last.text} {line.strip()}"})
            continue
        paragraph.append(_md_inline(line) if markdown else line)
    flush()
    return blocks


def _md_inline(text: str) -> str:
    return _MD_EMPHASIS.sub("", _MD_LINK.sub(r"\1", text)).strip()


def text_blocks(text: str, markdown: bool) -> tuple[list[Block], int]:
    """Blocks and page count; pages exist only where the text has form feeds."""
    paged = "\f" in text
    blocks: list[Block] = []
    page_count = 1
    for page_number, lines in _paragraph_groups(text):
        page_count = max(page_count, page_number)
        blocks.extend(_blocks_from_lines(lines, page_number if paged else None, markdown))
    return blocks, page_count


def _title(blocks: list[Block]) -> str | None:
    for block in blocks[:5]:
        if block.kind == "heading" and block.heading_level == 1:
            return block.text
    return None


@register("markdown", [MARKDOWN], ["md", "markdown"], score=10)
def extract_markdown(data: bytes, file_name: str, settings: Settings) -> RawDocument:
    blocks, pages = text_blocks(decode_text(data), markdown=True)
    return RawDocument(
        media_type=MARKDOWN, page_count=pages, blocks=blocks, file_title=_title(blocks)
    )


@register("text", [TEXT], ["txt", "text"], score=10)
def extract_text(data: bytes, file_name: str, settings: Settings) -> RawDocument:
    blocks, pages = text_blocks(decode_text(data), markdown=False)
    return RawDocument(media_type=TEXT, page_count=pages, blocks=blocks)
