"""`reviewlens tag PATH` and `reviewlens evaluate`: the tagger from the command line.

spaCy and the ingest extractors load only when a command runs, so `reviewlens --help` stays
instant. Like `extract`, a file that cannot be read gets one line on stderr and exit status 2.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import NoReturn

import click

from reviewlens.errors import ReviewLensError
from reviewlens.model import Document, Passage

EXIT_CANNOT_READ = 2
EXIT_BELOW_TARGET = 1


def _fail(name: str, reason: str, code: str) -> NoReturn:
    click.echo(f"reviewlens: cannot tag {name}: {reason} ({code})", err=True)
    sys.exit(EXIT_CANNOT_READ)


def text_document(data: bytes, name: str) -> Document:
    """A Document from plain text: passages are blank-line separated paragraphs.

    Used when the ingest stage is not installed; it gives `.txt` files the same shape.
    """
    text = data.decode("utf-8-sig", errors="replace")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    passages = [Passage(index=i, text=p) for i, p in enumerate(x for x in paragraphs if x)]
    return Document(
        id=hashlib.sha256(data).hexdigest(),
        file_name=Path(name).name,
        media_type="text/plain",
        size_bytes=len(data),
        page_count=1,
        passages=passages,
    )


def _extract(data: bytes, name: str) -> Document:
    try:
        from ingest.pipeline import extract_document
    except ImportError:
        if name.lower().endswith(".txt"):
            return text_document(data, name)
        raise
    return extract_document(data, name)


@click.command("tag")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--taxonomy",
    "taxonomy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Taxonomy YAML to tag with (default: REVIEWLENS_TAXONOMY_PATH or the bundled one).",
)
@click.option(
    "--processes",
    type=int,
    default=1,
    show_default=True,
    help="For a folder: processes to tag over (0: one per core). Worth it for large folders "
    "on idle cores; for a small folder, shipping documents between processes costs more.",
)
def tag(path: Path, taxonomy_path: Path | None, processes: int) -> None:
    """Print the extracted document of PATH as JSON, with themes, agencies and stance.

    Each passage gets `themes` (id, label, evidence), `agencies` and `stance`; the document
    gets `themes` (theme id -> passage count) and `theme_summary`. For a folder, every file in
    it is tagged and printed as one JSON document per line; files that cannot be read are
    listed on stderr with the reason, and the exit status is then 2.
    """
    from nlp.tagger import default_taxonomy, tag_document, tag_documents
    from nlp.taxonomy import load_taxonomy

    try:
        taxonomy = load_taxonomy(taxonomy_path) if taxonomy_path else default_taxonomy()
    except ReviewLensError as error:
        _fail(path.name, error.message, error.code)
    if path.is_dir():
        documents, failed = [], 0
        for item in sorted(p for p in path.iterdir() if p.is_file()):
            try:
                documents.append(_extract(item.read_bytes(), item.name))
            except (ReviewLensError, OSError) as error:
                failed += 1
                reason = getattr(error, "message", None) or getattr(error, "strerror", "")
                code = getattr(error, "code", "unreadable")
                click.echo(f"reviewlens: cannot tag {item.name}: {reason} ({code})", err=True)
        for document in tag_documents(documents, taxonomy, n_process=processes):
            click.echo(json.dumps(document.model_dump(mode="json"), ensure_ascii=False))
        if failed:
            sys.exit(EXIT_CANNOT_READ)
        return
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        _fail(name, "no such file", "not_found")
    except OSError as error:
        _fail(name, error.strerror or "the file could not be opened", "unreadable")
    try:
        document = tag_document(_extract(data, name), taxonomy)
    except ReviewLensError as error:
        _fail(name, error.message, error.code)
    click.echo(json.dumps(document.model_dump(mode="json"), indent=2, ensure_ascii=False))


@click.command("evaluate")
@click.option(
    "--split",
    type=click.Choice(["dev", "heldout", "all", "extra"]),
    default="heldout",
    show_default=True,
    help="Which part of the labelled set to score; tune on dev, report on heldout.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option(
    "--errors",
    "show_errors",
    is_flag=True,
    help="List mis-tagged passage ids with missed and extra themes (dev split only).",
)
@click.option(
    "--check-targets",
    is_flag=True,
    help="Exit 1 unless micro-F1 >= 0.85 and the negated-mention false-positive rate <= 5%.",
)
def evaluate(split: str, as_json: bool, show_errors: bool, check_targets: bool) -> None:
    """Per-theme precision, recall and F1, micro-F1, and false positives on negated mentions."""
    from nlp.evaluate import evaluate as run_evaluation
    from nlp.evaluate import format_report
    from nlp.tagger import default_taxonomy

    if show_errors and split not in ("dev", "extra"):
        raise click.UsageError("--errors is only for the dev split; heldout is for reporting")
    try:
        result = run_evaluation(split, default_taxonomy())
    except ReviewLensError as error:
        click.echo(f"reviewlens: {error.message}", err=True)
        sys.exit(EXIT_CANNOT_READ)
    if as_json:
        payload = result.as_dict()
        if show_errors:
            payload["errors"] = result.errors
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(format_report(result))
        if show_errors:
            for item in result.errors:
                click.echo(json.dumps(item))
    if check_targets and (result.micro.f1 < 0.85 or result.negated_fp_rate > 0.05):
        sys.exit(EXIT_BELOW_TARGET)


@click.command("train")
@click.option(
    "--check", is_flag=True, help="Cross-validate on dev and print the figures; write nothing."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the weights (default: nlp/theme_model.npz, which tagging loads).",
)
def train(check: bool, out: Path | None) -> None:
    """Train the theme classifier on the dev passages of the evaluation set.

    Each extra passage is learned with the themes both its writer and its second reading tagged.
    Deterministic: the same labelled set and taxonomy give the same weights. The weights are
    written unless the cross-validated micro-F1 is below the rules alone.
    """
    from nlp.theme_model import MODEL_PATH
    from nlp.train_model import train as run

    run(out=out or MODEL_PATH, check=check, echo=click.echo)
