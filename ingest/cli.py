"""`reviewlens extract PATH`: one file in, its structured Document out as JSON.

Meant for checking what ingest made of a file before it is indexed. A file it cannot read gets
one line on stderr naming the file, the reason and the error code, and exit status 2, so a
shell loop over a folder can see which files failed and why; never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from reviewlens.errors import ExtractionError, ReviewLensError
from reviewlens.model import Document
from reviewlens.settings import Settings, get_settings

EXIT_CANNOT_READ = 2


def _fail(name: str, reason: str, code: str) -> NoReturn:
    """One line, whatever the file is called: control characters in a name are dropped."""
    name = "".join(ch for ch in name if ch.isprintable()) or "unnamed"
    reason = " ".join(str(reason).split()) or "unknown reason"
    click.echo(f"reviewlens: cannot read {name}: {reason} ({code})", err=True)
    sys.exit(EXIT_CANNOT_READ)


def run_extract(data: bytes, name: str, settings: Settings, isolated: bool) -> Document:
    """Extract in a child process bounded by the settings' time and memory limits, unless
    told not to (for debugging a parser in the same process)."""
    from ingest.pipeline import extract_document

    if not isolated:
        return extract_document(data, name, settings)
    from ingest.sandbox import run_isolated

    return run_isolated(
        extract_document,
        data,
        name,
        settings,
        timeout_s=settings.extract_timeout_s,
        memory_mb=settings.extract_memory_mb,
    )


@click.command("extract")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--isolated/--no-isolated",
    default=True,
    show_default=True,
    help="Extract in a separate process with the time and memory limits from settings.",
)
def extract(path: Path, isolated: bool) -> None:
    """Print the structured document extracted from PATH as JSON.

    Exit status 2, with one line on stderr, when the file cannot be read.
    """
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        _fail(name, "no such file", "not_found")
    except IsADirectoryError:
        _fail(name, "it is a folder, not a file", "not_a_file")
    except OSError as error:
        _fail(name, error.strerror or "the file could not be opened", "unreadable")
    settings = get_settings()
    try:
        document = run_extract(data, name, settings, isolated)
    except ExtractionError as error:
        _fail(name, error.message, error.code)
    except ReviewLensError as error:
        _fail(name, error.message, error.code)
    except MemoryError:
        _fail(name, "extraction ran out of memory", "extraction_out_of_memory")
    except Exception as error:  # noqa: BLE001 - one line for the user, never a traceback
        _fail(name, f"unexpected {type(error).__name__} while extracting", "extraction_failed")
    try:
        click.echo(json.dumps(document.model_dump(mode="json"), indent=2, ensure_ascii=False))
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader (`| head`) stopped early: that is not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
