"""Turn a file's bytes into a RawDocument: blocks of text in reading order.

`extract_raw` is the one entry point; it sniffs the content, checks the size limit, runs the
registered extractor for that media type and cleans the result (running headers, hyphenation,
ligatures, contents pages). Every failure is an `ExtractionError` subclass with a reason.
"""

from __future__ import annotations

from ingest.detect import extension, sniff
from ingest.extractors import docx as _docx  # noqa: F401  (registers itself)
from ingest.extractors import html as _html  # noqa: F401
from ingest.extractors import pdf as _pdf  # noqa: F401
from ingest.extractors import text as _text  # noqa: F401
from ingest.extractors.base import Extractor, auction, register, registered
from reviewlens.errors import (
    CorruptFile,
    ExtractionError,
    ExtractionOutOfMemory,
    FileTooLarge,
    NoText,
)
from reviewlens.model import RawDocument
from reviewlens.settings import Settings, get_settings

__all__ = ["Extractor", "auction", "extract_raw", "register", "registered"]


def extract_raw(data: bytes, file_name: str, settings: Settings | None = None) -> RawDocument:
    """Blocks in reading order, cleaned; raises an ExtractionError subclass on bad input."""
    from ingest.clean import clean

    settings = settings or get_settings()
    if len(data) > settings.max_upload_bytes:
        raise FileTooLarge(
            f"the file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{settings.max_upload_bytes / 1_048_576:.1f} MB"
        )
    media_type = sniff(data, file_name)
    extractor = auction(media_type, extension(file_name))
    try:
        raw = extractor.extract(data, file_name, settings)
    except ExtractionError:
        raise
    except MemoryError:
        raise ExtractionOutOfMemory(f"the {extractor.name} file needs too much memory") from None
    except RecursionError:
        raise CorruptFile(f"the {extractor.name} file is nested too deeply to read") from None
    except Exception as exc:  # noqa: BLE001 - a parser tripping on hostile bytes is bad input
        raise CorruptFile(
            f"the {extractor.name} file could not be read ({type(exc).__name__})"
        ) from None
    cleaned = clean(raw)
    if not cleaned.blocks:
        hint = " (a scanned PDF needs OCR, which is off or unavailable)" if raw.page_count else ""
        raise NoText(f"no readable text was found in the {extractor.name} file{hint}")
    return cleaned
