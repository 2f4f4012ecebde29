"""`reviewlens` command line. Commands live beside the stage they drive and load lazily, so
`reviewlens --help` answers at once without importing spaCy or the PDF libraries."""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute"; each stage owns its own commands
COMMANDS: dict[str, str] = {
    "extract": "ingest.cli:extract",
    "tag": "nlp.cli:tag",
    "evaluate": "nlp.cli:evaluate",
    "ingest": "search_api.cli:ingest",
    "search": "search_api.cli:search",
    "themes": "search_api.cli:themes",
    "export": "search_api.cli:export",
    "reindex": "search_api.cli:reindex",
    "documents": "search_api.cli:documents",
    "serve": "search_api.cli:serve",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            command = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError):
            return None
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="reviewlens")
def main() -> None:
    """ReviewLens: search and count the learning in safeguarding reviews."""
