"""`reviewlens` command line. Commands live beside the stage they drive and load lazily, so
`reviewlens --help` answers at once without importing spaCy or the PDF libraries."""

from __future__ import annotations

import importlib

import click

# command name -> ("module:attribute", one-line summary for the command list); each stage owns
# its own commands. The summary is kept here so listing them imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "extract": ("ingest.cli:extract", "Print the structured document extracted from a file."),
    "tag": ("nlp.cli:tag", "Print the extracted document with themes, agencies and stance."),
    "evaluate": ("nlp.cli:evaluate", "Score theme tagging on the labelled evaluation set."),
    "train": ("nlp.cli:train", "Train the theme classifier on the evaluation set's dev part."),
    "ingest": ("search_api.cli:ingest", "Keep, extract, tag and index files and folders."),
    "search": ("search_api.cli:search", "Search passages across every indexed document."),
    "themes": ("search_api.cli:themes", "Theme frequency by year, quarter, type or source."),
    "export": ("search_api.cli:export", "Export search hits or theme frequency as CSV/XLSX."),
    "reindex": ("search_api.cli:reindex", "Rebuild the index from the kept originals."),
    "documents": ("search_api.cli:documents", "List indexed documents, newest first."),
    "serve": ("search_api.cli:serve", "Serve the API and web pages with the worker."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, _, attr = entry[0].partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{entry[0]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="reviewlens")
def main() -> None:
    """ReviewLens: search and count the learning in safeguarding reviews."""
