"""The theme taxonomy: data a QA lead edits, checked on load so a typo fails loudly and clearly.

Every error names the file, the line, the theme and the problem, because the person fixing it
is editing YAML, not reading a traceback. The version joins the declared `version:` with a hash
of the file's bytes, so any edit (even one nobody remembered to declare) changes the version
recorded on every tag made with it.
"""

from __future__ import annotations

import hashlib
import re
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reviewlens.errors import TaxonomyError

DEFAULT_TAXONOMY = Path(__file__).resolve().parent / "taxonomy.yaml"

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LINES = "__lines__"


class Theme(BaseModel):
    """One theme: how to recognise it, and how not to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    label: str
    group: str
    description: str
    # phrases matched on lemmas (so "bruised" finds "bruising"), case-insensitive
    phrases: list[str] = Field(default_factory=list)
    # phrases too common to tag alone: they count only beside another signal of the theme
    weak_phrases: list[str] = Field(default_factory=list)
    # abbreviation as written (matched case-sensitively) -> what it stands for
    abbreviations: dict[str, list[str]] = Field(default_factory=dict)
    # spaCy Matcher token patterns, for wordings a fixed phrase cannot cover
    token_patterns: list[list[dict[str, Any]]] = Field(default_factory=list)
    # phrases inside which a match does not count ("self-neglect" is not "neglect")
    exclusions: list[str] = Field(default_factory=list)
    # a practice theme whose absence is itself the finding ("there was no strategy meeting"):
    # negation cues do not rule its mentions out (scope and hypotheses still do)
    absence_is_finding: bool = False
    # how many different weak phrases make a tag without a strong one (default: the pipeline's)
    weak_needed: int | None = Field(default=None, ge=1)
    # broader themes this one is a form of (coercive control is domestic abuse): a passage
    # tagged with this theme is tagged with those too, on the same evidence
    implies: list[str] = Field(default_factory=list)
    # a theme made of others (the toxic trio): tagged when `composite_min` of them are, or one
    # fewer beside a signal of its own ("combined", "cumulative")
    composite_of: list[str] = Field(default_factory=list)
    composite_min: int = Field(default=2, ge=1)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("id must be lower-case letters, digits and underscores")
        return value

    @field_validator("label", "description", "group")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("phrases", "weak_phrases", "exclusions")
    @classmethod
    def _phrases(cls, value: list[str]) -> list[str]:
        for phrase in value:
            if not phrase.strip():
                raise ValueError("a phrase must not be empty")
        return value

    @field_validator("abbreviations", mode="before")
    @classmethod
    def _abbreviations(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for abbr, expansion in value.items():
            if not isinstance(abbr, str) or not re.search(r"[A-Za-z]", abbr):
                raise ValueError(f"abbreviation {abbr!r} must contain letters")
            out[abbr] = [expansion] if isinstance(expansion, str) else expansion
        return out

    @field_validator("token_patterns")
    @classmethod
    def _token_patterns(cls, value: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
        from spacy.schemas import validate_token_pattern

        for number, pattern in enumerate(value, start=1):
            if not pattern:
                raise ValueError(f"token pattern {number} is empty")
            errors = validate_token_pattern(pattern)
            if errors:
                hint = ""
                if _has_bool(pattern):
                    hint = ' (YAML reads bare on, off, yes and no as true/false: quote them, "on")'
                raise ValueError(
                    f"token pattern {number} is not a valid spaCy pattern: {errors[0]}{hint}"
                )
        return value


def _has_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, dict):
        return any(_has_bool(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_bool(v) for v in value)
    return False


class Taxonomy(BaseModel):
    """A loaded, validated taxonomy. `version` is what every tag records."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    declared_version: str
    groups: dict[str, str]
    themes: list[Theme]
    # normalised agency name -> phrases; an all-capitals phrase is matched case-sensitively
    agencies: dict[str, list[str]] = Field(default_factory=dict)
    # abbreviations not tied to one theme (glossary terms), as written -> expansions
    glossary: dict[str, list[str]] = Field(default_factory=dict)
    source: str = ""

    @cached_property
    def by_id(self) -> dict[str, Theme]:
        return {theme.id: theme for theme in self.themes}

    @cached_property
    def abbreviations(self) -> dict[str, list[str]]:
        """Lower-case abbreviation -> expansion phrases, for expanding search queries."""
        out: dict[str, list[str]] = {}
        sources = [theme.abbreviations for theme in self.themes] + [self.glossary]
        for mapping in sources:
            for abbr, expansions in mapping.items():
                bucket = out.setdefault(abbr.lower(), [])
                for phrase in expansions:
                    if phrase not in bucket:
                        bucket.append(phrase)
        return out

    def expand_query_term(self, term: str) -> list[str]:
        """The term itself, then what it stands for if it is a known abbreviation."""
        expansions = self.abbreviations.get(term.strip().lower(), [])
        return [term, *(phrase for phrase in expansions if phrase.lower() != term.lower())]

    def theme(self, theme_id: str) -> Theme:
        return self.by_id[theme_id]


# --- loading ---------------------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader that remembers the line of every mapping key, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    lines = {"": node.start_mark.line + 1}
    for key_node, _ in node.value:
        lines[str(loader.construct_object(key_node))] = key_node.start_mark.line + 1
    mapping[_LINES] = lines
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != _LINES}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _line_of(node: Any, key: str | None = None) -> int:
    if isinstance(node, dict):
        lines = node.get(_LINES, {})
        return int(lines.get(key or "", lines.get("", 0)))
    return 0


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file (the bundled one by default)."""
    path = Path(path) if path is not None else DEFAULT_TAXONOMY
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise TaxonomyError(f"{path}: cannot read taxonomy ({exc.strerror})") from exc
    return parse_taxonomy(raw_bytes, source=str(path))


def parse_taxonomy(raw_bytes: bytes, source: str = "<taxonomy>") -> Taxonomy:
    """Validate taxonomy YAML given as bytes; `source` names it in error messages."""
    try:
        data = yaml.load(raw_bytes.decode("utf-8"), Loader=_LineLoader)  # noqa: S506
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{source}: taxonomy is not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise TaxonomyError(f"{source}:{line}: not valid YAML: {problem}") from exc
    if not isinstance(data, dict):
        raise TaxonomyError(f"{source}:1: the taxonomy must be a mapping with version and themes")

    def fail(line: int, theme: str | None, problem: str) -> TaxonomyError:
        where = f"theme '{theme}': " if theme else ""
        return TaxonomyError(f"{source}:{line}: {where}{problem}")

    for key in ("version", "groups", "themes"):
        if key not in data:
            raise fail(1, None, f"missing top-level key '{key}'")
    known = {"version", "groups", "themes", "agencies", "glossary", _LINES}
    for key in data:
        if key not in known:
            raise fail(_line_of(data, key), None, f"unknown top-level key '{key}'")
    groups = data["groups"]
    if not isinstance(groups, dict) or not _strip_lines(groups):
        raise fail(_line_of(data, "groups"), None, "groups must map group id -> label")
    raw_themes = data["themes"]
    if not isinstance(raw_themes, list) or not raw_themes:
        raise fail(_line_of(data, "themes"), None, "themes must be a non-empty list")

    themes: list[Theme] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(raw_themes, start=1):
        if not isinstance(raw, dict):
            raise fail(_line_of(data, "themes"), None, f"theme {number} must be a mapping")
        theme_id = str(raw.get("id", f"#{number}"))
        line = _line_of(raw)
        try:
            theme = Theme.model_validate(_strip_lines(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else None
            message = first["msg"].removeprefix("Value error, ")
            label = f"{field}: " if field else ""
            if first["type"] == "missing":
                message = "is required"
            elif first["type"] == "extra_forbidden":
                message = "is not a theme field"
            raise fail(_line_of(raw, field), theme_id, f"{label}{message}") from exc
        if theme.id in seen:
            raise fail(line, theme.id, f"duplicate id (first defined on line {seen[theme.id]})")
        if theme.group not in groups:
            raise fail(_line_of(raw, "group"), theme.id, f"unknown group '{theme.group}'")
        if not (theme.phrases or theme.abbreviations or theme.token_patterns):
            raise fail(line, theme.id, "needs at least one phrase, abbreviation or token pattern")
        seen[theme.id] = line
        themes.append(theme)
    for theme, raw in zip(themes, raw_themes, strict=True):
        for implied in theme.implies:
            if implied not in seen or implied == theme.id:
                raise fail(_line_of(raw, "implies"), theme.id, f"implies unknown theme '{implied}'")
        for part in theme.composite_of:
            if part not in seen or part == theme.id:
                raise fail(
                    _line_of(raw, "composite_of"), theme.id, f"composite_of unknown theme '{part}'"
                )
        if theme.composite_of and theme.composite_min > len(theme.composite_of):
            raise fail(
                _line_of(raw, "composite_min"),
                theme.id,
                "composite_min is larger than the number of themes in composite_of",
            )

    agencies = _strip_lines(data.get("agencies") or {})
    glossary = _strip_lines(data.get("glossary") or {})
    if not isinstance(agencies, dict) or not all(
        isinstance(v, list) and all(isinstance(p, str) and p.strip() for p in v)
        for v in agencies.values()
    ):
        raise fail(_line_of(data, "agencies"), None, "agencies must map a name to phrases")
    if not isinstance(glossary, dict):
        raise fail(_line_of(data, "glossary"), None, "glossary must map an abbreviation")
    glossary = {str(k): [v] if isinstance(v, str) else list(v) for k, v in glossary.items()}

    declared = str(data["version"]).strip()
    if not declared:
        raise fail(_line_of(data, "version"), None, "version must not be empty")
    digest = hashlib.sha256(raw_bytes).hexdigest()[:12]
    return Taxonomy(
        version=f"{declared}+{digest}",
        declared_version=declared,
        groups={str(k): str(v) for k, v in _strip_lines(groups).items()},
        themes=themes,
        agencies=agencies,
        glossary=glossary,
        source=source,
    )
