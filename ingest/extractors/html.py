"""HTML (inspection reports saved from the web): the main content, without the site around it.

Navigation, site headers and footers, cookie banners, forms, asides, scripts and styles are
removed before reading, so that none of them turns into a passage that a search would find.
"""

from __future__ import annotations

import re
from typing import Any

from ingest.detect import HTML
from ingest.extractors.base import register
from ingest.extractors.text import decode_text
from reviewlens.model import Block, BlockKind, RawDocument
from reviewlens.settings import Settings

_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "form",
    "aside",
    "iframe",
    "svg",
    "button",
    "select",
    "input",
    "textarea",
    "dialog",
    "object",
    "embed",
    "canvas",
    "map",
    "head",
)
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "menu"}
_CHROME = re.compile(
    r"cookie|consent|gdpr|banner|breadcrumb|skip-?link|share-?(?:this|links|buttons)|social-|navbar|"
    r"site-?header|"
    r"site-?footer|menu|subscribe|newsletter|feedback-?form|related-?(?:content|links)",
    re.IGNORECASE,
)
_INLINE = {
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd",
    "label", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u",
    "var", "wbr", "del", "ins", "big", "tt", "strike", "img",
}  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_LEAF_KIND: dict[str, BlockKind] = {
    "p": "paragraph",
    "li": "list_item",
    "dt": "paragraph",
    "dd": "paragraph",
    "pre": "paragraph",
    "blockquote": "paragraph",
    "caption": "paragraph",
    "figcaption": "paragraph",
    "summary": "paragraph",
    "address": "paragraph",
}
MAX_DEPTH = 120


def _is_chrome(node: Any) -> bool:
    attributes = node.attributes
    if attributes.get("role") in _DROP_ROLES or "hidden" in attributes:
        return True
    if attributes.get("aria-hidden") == "true":
        return True
    marker = f"{attributes.get('id') or ''} {attributes.get('class') or ''}"
    return bool(marker.strip()) and bool(_CHROME.search(marker))


def _inside(node: Any, tags: set[str]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


def _strip_chrome(tree: Any) -> None:
    for tag in _DROP_TAGS:
        for node in tree.css(tag):
            node.decompose()
    for tag in ("header", "footer"):
        for node in tree.css(tag):
            # an article's own header holds its title; the site's header does not
            if not _inside(node, {"article", "main", "section"}):
                node.decompose()
    for node in tree.css("[id], [class], [role], [hidden], [aria-hidden]"):
        if node.tag not in ("html", "body", "main", "article") and _is_chrome(node):
            node.decompose()


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []

    def emit(self, parts: list[str], kind: BlockKind, level: int | None = None) -> None:
        text = " ".join(" ".join(parts).split())
        if text:
            self.blocks.append(Block(text=text, kind=kind, heading_level=level))
        parts.clear()

    def row(self, node: Any) -> None:
        cells = [
            " ".join(cell.text(deep=True, separator=" ").split())
            for cell in node.iter()
            if cell.tag in ("td", "th")
        ]
        if any(cells):
            self.blocks.append(Block(text=" | ".join(cells), kind="table_row"))

    def walk(self, node: Any, kind: BlockKind = "paragraph", depth: int = 0) -> None:
        """Inline runs become one block of the container's kind; block children recurse."""
        if depth > MAX_DEPTH:
            self.emit([node.text(deep=True, separator=" ")], kind)
            return
        parts: list[str] = []
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                parts.append(child.text(deep=False) or "")
            elif tag == "br":
                parts.append(" ")
            elif tag in _INLINE:
                parts.append(child.text(deep=True, separator=""))
            elif tag in _HEADINGS:
                self.emit(parts, kind)
                self.emit([child.text(deep=True, separator=" ")], "heading", _HEADINGS[tag])
            elif tag == "tr":
                self.emit(parts, kind)
                self.row(child)
            elif tag in _LEAF_KIND:
                self.emit(parts, kind)
                self.walk(child, _LEAF_KIND[tag], depth + 1)
            elif tag.startswith(("-", "#", "!")):
                continue  # comments and doctype
            else:
                self.emit(parts, kind)
                self.walk(child, kind if kind == "list_item" else "paragraph", depth + 1)
        self.emit(parts, kind)


def html_blocks(text: str) -> tuple[list[Block], str | None]:
    """Main-content blocks and the page title."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(text)
    title_node = tree.css_first("title")
    title = " ".join(title_node.text(deep=True).split()) if title_node is not None else None
    _strip_chrome(tree)
    root = tree.css_first("main") or tree.css_first("[role=main]")
    if root is None:
        articles = tree.css("article")
        root = articles[0] if len(articles) == 1 else tree.body
    walker = _Walker()
    if root is not None:
        walker.walk(root)
    if not title:
        title = next((b.text for b in walker.blocks if b.heading_level == 1), None)
    return walker.blocks, title or None


@register("html", [HTML], ["html", "htm", "xhtml"], score=10)
def extract_html(data: bytes, file_name: str, settings: Settings) -> RawDocument:
    blocks, title = html_blocks(decode_text(data))
    return RawDocument(media_type=HTML, page_count=1, blocks=blocks, file_title=title)
