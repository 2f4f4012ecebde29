"""`reviewlens ingest|search|themes|export|reindex|documents|serve`: the same library functions
the API calls, for people at a terminal and for scripts (`--json`).

Heavy imports (FastAPI, uvicorn, spaCy) wait until a command runs, so `--help` is instant.
"""

from __future__ import annotations

import ipaddress
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from reviewlens.settings import Settings
    from search_api.backend import Filters
    from search_api.service import Library

F = TypeVar("F", bound=Callable[..., Any])

GROUPS = ("year", "quarter", "doc_type", "source")


def data_dir_option(fn: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="REVIEWLENS_DATA_DIR",
        default="data",
        show_default=True,
        help="Folder holding originals, jobs and the embedded index.",
    )(fn)


def filter_options(fn: F) -> F:
    """The search filters, as repeatable options named like the API's parameters."""
    from reviewlens.model import DOC_TYPES, SECTION_KINDS, STANCES

    options = [
        click.option("--theme", "themes", multiple=True, help="Theme id (repeat: all of)."),
        click.option(
            "--doc-type", "doc_types", multiple=True, type=click.Choice(DOC_TYPES), help="Any of."
        ),
        click.option("--year-from", type=int),
        click.option("--year-to", type=int),
        click.option("--agency", "agencies", multiple=True, help="Any of."),
        click.option(
            "--section-kind",
            "section_kinds",
            multiple=True,
            type=click.Choice(SECTION_KINDS),
            help="Any of.",
        ),
        click.option(
            "--stance", "stances", multiple=True, type=click.Choice(STANCES), help="Any of."
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _settings(data_dir: Path) -> Settings:
    from reviewlens.settings import Settings

    return Settings(data_dir=data_dir)


def _library(data_dir: Path) -> Library:
    from search_api.service import Library

    return Library(_settings(data_dir))


def _filters(opts: dict[str, Any], with_themes: bool = True) -> Filters:
    from search_api.backend import Filters

    return Filters(
        themes=list(opts.get("themes", ())) if with_themes else [],
        doc_types=list(opts.get("doc_types", ())),
        year_from=opts.get("year_from"),
        year_to=opts.get("year_to"),
        agencies=list(opts.get("agencies", ())),
        section_kinds=list(opts.get("section_kinds", ())),
        stances=list(opts.get("stances", ())),
    )


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


# -- ingest -----------------------------------------------------------------------------------


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@data_dir_option
@click.option("--workers", type=int, default=0, help="Parallel files (default: one per core).")
@click.option("--retry-failed", is_flag=True, help="Try again files that failed before.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def ingest(
    paths: tuple[Path, ...], data_dir: Path, workers: int, retry_failed: bool, as_json: bool
) -> None:
    """Ingest files and folders (recursively): keep, extract, tag and index each one.

    Exits non-zero if any file failed; the summary says which and why.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table

    from search_api.service import FileOutcome, collect_files
    from search_api.worker import Worker

    console = Console(stderr=as_json)
    library = _library(data_dir)
    try:
        files, passed_over = collect_files(list(paths))
        outcomes: list[FileOutcome] = []
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=as_json,
        ) as progress:
            accepting = progress.add_task("Accepting", total=len(files))
            for path in files:
                outcomes.append(library.submit_path(path, retry_failed=retry_failed))
                progress.advance(accepting)
            job_ids = sorted({o.submitted.job.id for o in outcomes if o.submitted is not None})
            processing = progress.add_task("Processing", total=len(job_ids))
            worker = Worker(library, threads=workers or None)
            worker.run_until_done(
                job_ids, on_progress=lambda n: progress.update(processing, completed=n)
            )
        rows: list[dict[str, Any]] = []
        for outcome in outcomes:
            if outcome.submitted is None:
                rows.append(
                    {
                        "path": str(outcome.path),
                        "document_id": None,
                        "state": "refused",
                        "duplicate": False,
                        "error_code": outcome.error_code,
                        "error": outcome.error,
                    }
                )
                continue
            job = library.jobs.get(outcome.submitted.job.id)
            rows.append(
                {
                    "path": str(outcome.path),
                    "document_id": job.document_id,
                    "state": job.state,
                    "duplicate": outcome.submitted.duplicate,
                    "error_code": job.error_code,
                    "error": job.error,
                }
            )
    finally:
        library.close()
    failed = [r for r in rows if r["state"] in ("failed", "refused")]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "files": rows,
                    "failed": len(failed),
                    "not_read": [str(p) for p in passed_over],
                },
                indent=2,
            )
        )
    else:
        done = sum(1 for r in rows if r["state"] == "done" and not r["duplicate"])
        dupes = sum(1 for r in rows if r["duplicate"] and r["state"] == "done")
        console.print(
            f"{len(rows)} files: {done} ingested, {dupes} already in the library, "
            f"{len(failed)} failed."
        )
        if passed_over:
            shown = ", ".join(escape(str(p)) for p in passed_over[:5])
            more = f" and {len(passed_over) - 5} more" if len(passed_over) > 5 else ""
            console.print(
                f"{len(passed_over)} files in the folders are not a readable type and were "
                f"not ingested: {shown}{more}"
            )
        if failed:
            table = Table(title="Files that failed", show_lines=False)
            table.add_column("File", overflow="fold")
            table.add_column("Code")
            table.add_column("Reason", overflow="fold")
            for r in failed:
                table.add_row(
                    escape(str(r["path"])),
                    str(r["error_code"] or ""),
                    escape(str(r["error"] or "")),
                )
            console.print(table)
    if failed:
        sys.exit(1)


# -- search -----------------------------------------------------------------------------------


@click.command()
@click.argument("query", required=False)
@data_dir_option
@filter_options
@click.option("--limit", type=click.IntRange(0, 1000), default=10, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response.")
def search(
    query: str | None,
    data_dir: Path,
    limit: int,
    offset: int,
    as_json: bool,
    **opts: Any,
) -> None:
    """Search passages: words, "phrases", OR, NOT/-word, prefix*, (groups)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from reviewlens.errors import ReviewLensError
    from search_api.backend import SearchRequest

    library = _library(data_dir)
    try:
        request = SearchRequest(
            query=query if query and query.strip() else None,
            filters=_filters(opts),
            offset=offset,
            limit=limit,
        )
        response = library.backend.search(request)
    except ReviewLensError as exc:
        _fail(exc.message)
        return
    finally:
        library.close()
    if as_json:
        click.echo(response.model_dump_json(indent=2))
        return
    console = Console()
    console.print(f"{response.total} passages")
    table = Table(show_lines=True)
    table.add_column("Document", overflow="fold", max_width=30)
    table.add_column("Where", no_wrap=True)
    table.add_column("Passage", overflow="fold")
    table.add_column("Themes", overflow="fold", max_width=24)
    for hit in response.hits:
        where = " ".join(
            x
            for x in (
                str(hit.year or ""),
                f"p{hit.page}" if hit.page else "",
                f"para {hit.paragraph}" if hit.paragraph else "",
            )
            if x
        )
        text = hit.text
        # bold the matched spans; everything from the document is escaped for rich markup
        pieces, last = [], 0
        for start, end in sorted(hit.match_offsets):
            if start < last:
                continue
            pieces.append(escape(text[last:start]))
            pieces.append(f"[bold yellow]{escape(text[start:end])}[/]")
            last = end
        pieces.append(escape(text[last:]))
        table.add_row(
            escape(hit.title or hit.document_id[:12]),
            where,
            "".join(pieces),
            escape(", ".join(hit.themes)),
        )
    console.print(table)


# -- themes -----------------------------------------------------------------------------------


@click.command()
@data_dir_option
@click.option("--by", type=click.Choice(GROUPS), default="year", show_default=True)
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response.")
def themes(data_dir: Path, by: str, as_json: bool, **opts: Any) -> None:
    """Theme frequency: documents (and passages) per theme and group. --theme picks themes."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    library = _library(data_dir)
    try:
        selected = list(opts.get("themes", ()))
        rows = library.backend.theme_frequency(
            by,  # type: ignore[arg-type]
            _filters(opts, with_themes=False),
            selected or None,
        )
        taxonomy = library.taxonomy
    finally:
        library.close()
    if as_json:
        click.echo(json.dumps({"by": by, "rows": [r.model_dump() for r in rows]}, indent=2))
        return
    labels = {t.id: t.label for t in taxonomy.themes} if taxonomy is not None else {}
    keys = sorted({r.key for r in rows})
    cells = {(r.theme, r.key): r for r in rows}
    table = Table(title=f"Documents (passages) per theme by {by}")
    table.add_column("Theme", overflow="fold")
    for key in keys:
        table.add_column(escape(key), justify="right")
    table.add_column("Total docs", justify="right")
    theme_ids = sorted({r.theme for r in rows}, key=lambda t: labels.get(t, t))
    for theme_id in theme_ids:
        values = []
        total = 0
        for key in keys:
            cell = cells.get((theme_id, key))
            values.append(f"{cell.documents} ({cell.passages})" if cell else "")
            total += cell.documents if cell else 0
        table.add_row(escape(labels.get(theme_id, theme_id)), *values, str(total))
    Console().print(table)


# -- export -----------------------------------------------------------------------------------


@click.command()
@click.argument("what", type=click.Choice(["search", "frequency"]))
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--query", "-q", help="Search query (search export).")
@click.option("--by", type=click.Choice(GROUPS), default="year", help="Frequency grouping.")
@data_dir_option
@filter_options
def export(
    what: str,
    fmt: str,
    out: Path,
    query: str | None,
    by: str,
    data_dir: Path,
    **opts: Any,
) -> None:
    """Export search hits or the theme frequency table as CSV or XLSX."""
    from reviewlens.errors import ReviewLensError
    from search_api.backend import SearchRequest
    from search_api.export import (
        FREQUENCY_HEADER,
        SEARCH_HEADER,
        csv_stream,
        frequency_rows,
        search_rows,
        xlsx_bytes,
    )

    library = _library(data_dir)
    try:
        if what == "search":
            request = SearchRequest(
                query=query if query and query.strip() else None, filters=_filters(opts)
            )
            header, rows = SEARCH_HEADER, list(search_rows(library.backend, request))
        else:
            taxonomy = library.taxonomy
            labels = {t.id: t.label for t in taxonomy.themes} if taxonomy is not None else {}
            freq = library.backend.theme_frequency(
                by,  # type: ignore[arg-type]
                _filters(opts, with_themes=False),
                list(opts.get("themes", ())) or None,
            )
            header, rows = FREQUENCY_HEADER, list(frequency_rows(freq, labels))
    except ReviewLensError as exc:
        _fail(exc.message)
        return
    finally:
        library.close()
    if fmt == "csv":
        with out.open("w", encoding="utf-8", newline="") as handle:
            for chunk in csv_stream(header, rows):
                handle.write(chunk)
    else:
        out.write_bytes(xlsx_bytes(what, header, rows))
    click.echo(f"{len(rows)} rows written to {out}")


# -- reindex ----------------------------------------------------------------------------------


@click.command()
@data_dir_option
@click.option("--workers", type=int, default=0, help="Parallel files (default: one per core).")
def reindex(data_dir: Path, workers: int) -> None:
    """Rebuild the index from the kept originals (e.g. after a taxonomy change). Searches keep
    answering from the old index until the new one is complete."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from reviewlens.errors import ReviewLensError
    from search_api.worker import Worker

    library = _library(data_dir)
    try:
        try:
            job = library.reindex()
        except ReviewLensError as exc:
            _fail(exc.message)
            return
        children = library.jobs.children(job.id)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ) as progress:
            task = progress.add_task("Reindexing", total=len(children))
            worker = Worker(library, threads=workers or None)
            worker.run_until_done(
                children, on_progress=lambda n: progress.update(task, completed=n)
            )
        library.complete_reindex_if_finished(job.id)
        final = library.jobs.get(job.id)
    finally:
        library.close()
    click.echo(f"Reindex {final.state}: {final.progress.total if final.progress else 0} documents.")
    if final.error:
        click.echo(final.error, err=True)
    if final.state != "done":
        sys.exit(1)


# -- documents --------------------------------------------------------------------------------


@click.command()
@data_dir_option
@filter_options
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True)
def documents(data_dir: Path, limit: int, offset: int, as_json: bool, **opts: Any) -> None:
    """List indexed documents, newest first."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    library = _library(data_dir)
    try:
        page = library.backend.list_documents(_filters(opts), offset=offset, limit=limit)
    finally:
        library.close()
    if as_json:
        click.echo(page.model_dump_json(indent=2))
        return
    table = Table(title=f"{page.total} documents")
    table.add_column("Id")
    table.add_column("Type")
    table.add_column("Year")
    table.add_column("Title", overflow="fold")
    table.add_column("File", overflow="fold")
    table.add_column("Passages", justify="right")
    for item in page.items:
        table.add_row(
            item.id[:12],
            item.doc_type,
            str(item.year or ""),
            escape(item.title or ""),
            escape(item.file_name),
            str(item.passages),
        )
    Console().print(table)


# -- serve ------------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@data_dir_option
@click.option("--host", envvar="REVIEWLENS_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="REVIEWLENS_PORT", type=int, default=8000, show_default=True)
@click.option("--log-level", default=None, help="Defaults to REVIEWLENS_LOG_LEVEL or INFO.")
def serve(data_dir: Path, host: str, port: int, log_level: str | None) -> None:
    """Serve the API (and the web pages) with the background worker."""
    settings = _settings(data_dir)
    try:
        keys = settings.parsed_api_keys()
    except ValueError as exc:
        _fail(str(exc))
        return
    if not keys and not is_loopback(host):
        _fail(
            f"refusing to listen on {host}: no API keys are configured (REVIEWLENS_API_KEYS), "
            "so the server only binds to loopback (127.0.0.1 or ::1)."
        )
    import logging

    import uvicorn

    from search_api.app import create_app

    level = (log_level or settings.log_level).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(settings)
    click.echo(f"ReviewLens API on http://{host}:{port}/api (docs at /docs)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=level.lower(), access_log=False)
