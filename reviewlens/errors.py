"""Failures are data: every refusal has a stable code a script can branch on and a reason a
person can act on. None of them carries document text."""

from __future__ import annotations


class ReviewLensError(Exception):
    """Base of every error the project raises on purpose."""

    code = "error"
    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ExtractionError(ReviewLensError):
    """A file could not be turned into a document. Subclasses say why."""

    code = "extraction_failed"
    http_status = 422


class EmptyFile(ExtractionError):
    code = "empty_file"


class UnsupportedType(ExtractionError):
    code = "unsupported_type"
    http_status = 415


class CorruptFile(ExtractionError):
    code = "corrupt_file"


class EncryptedFile(ExtractionError):
    code = "encrypted_file"


class FileTooLarge(ExtractionError):
    code = "file_too_large"
    http_status = 413


class TooManyPages(ExtractionError):
    code = "too_many_pages"
    http_status = 413


class ZipBomb(ExtractionError):
    code = "zip_bomb"


class ExtractionTimeout(ExtractionError):
    code = "extraction_timeout"


class ExtractionOutOfMemory(ExtractionError):
    code = "extraction_out_of_memory"


class NoText(ExtractionError):
    code = "no_text"


class TaxonomyError(ReviewLensError):
    """The taxonomy YAML is invalid; the message names the line, theme and problem."""

    code = "invalid_taxonomy"


class QueryError(ReviewLensError):
    """A search query the grammar cannot parse."""

    code = "invalid_query"


class NotFound(ReviewLensError):
    code = "not_found"
    http_status = 404


class BackendUnavailable(ReviewLensError):
    """The search backend cannot be reached; uploads are still kept and jobs wait."""

    code = "backend_unavailable"
    http_status = 503
