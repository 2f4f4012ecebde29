"""The extractor registry: each format declares what it reads and how sure it is.

Built-in extractors register exactly as an add-on would, with `register`. `auction` picks the
highest-scoring extractor for a sniffed media type, using the extension only to break ties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from reviewlens.errors import UnsupportedType
from reviewlens.model import RawDocument
from reviewlens.settings import Settings

ExtractFn = Callable[[bytes, str, Settings], RawDocument]


@dataclass(frozen=True)
class Extractor:
    name: str
    media_types: frozenset[str]
    extensions: frozenset[str]
    score: int
    extract: ExtractFn

    def bid(self, media_type: str, ext: str) -> int:
        """0 means not interested; the extension adds a small bonus, never enough alone."""
        if media_type not in self.media_types:
            return 0
        return self.score + (1 if ext in self.extensions else 0)


_REGISTRY: list[Extractor] = []


def register(
    name: str, media_types: Iterable[str], extensions: Iterable[str] = (), score: int = 10
) -> Callable[[ExtractFn], ExtractFn]:
    """Decorator that adds an extraction function to the registry."""

    def wrap(fn: ExtractFn) -> ExtractFn:
        _REGISTRY.append(Extractor(name, frozenset(media_types), frozenset(extensions), score, fn))
        return fn

    return wrap


def registered() -> list[Extractor]:
    return list(_REGISTRY)


def auction(media_type: str, ext: str) -> Extractor:
    """The best extractor for this media type, or UnsupportedType."""
    bids = [(extractor.bid(media_type, ext), extractor) for extractor in _REGISTRY]
    best = max(bids, key=lambda pair: pair[0], default=(0, None))
    if best[0] <= 0 or best[1] is None:
        raise UnsupportedType(f"no extractor reads {media_type}")
    return best[1]
