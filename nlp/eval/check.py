"""Load, validate and split the labelled evaluation set for theme tagging.

The set is the yardstick the tagger is measured against, so a malformed line or a theme that
appears in only one split would quietly make the figures meaningless; this module refuses both.
Splits are a pure function of the passage ids and labels, so anyone can recompute and check them.

    python -m nlp.eval.check            # validate and print a summary
    python -m nlp.eval.check --write    # recompute the splits and rewrite the file
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

PASSAGES_PATH = Path(__file__).with_name("passages.jsonl")

# the 40 ids of the shared theme reference, in its order
THEME_IDS: tuple[str, ...] = (
    "neglect",
    "domestic_abuse",
    "coercive_control",
    "economic_abuse",
    "honour_based_abuse",
    "adult_mental_health",
    "substance_misuse",
    "toxic_trio",
    "child_sexual_abuse",
    "child_sexual_exploitation",
    "child_criminal_exploitation",
    "online_harm",
    "missing_from_home_care",
    "children_missing_education",
    "nai_infants",
    "bruising_non_mobile",
    "sudi_safe_sleep",
    "child_mental_health",
    "self_harm_suicide",
    "send_disability",
    "race_ethnicity_culture",
    "fathers_invisible_men",
    "older_people_carers",
    "adult_family_homicide",
    "self_neglect",
    "mental_capacity",
    "transitions_to_adulthood",
    "voice_of_child",
    "professional_curiosity",
    "information_sharing",
    "multi_agency_working",
    "escalation_challenge",
    "risk_assessment",
    "disguised_compliance",
    "think_family",
    "early_help",
    "thresholds",
    "child_protection_process",
    "supervision_workload",
    "leadership_learning_culture",
)

Stance = Literal["worked_well", "worried", "needs_to_happen"]
Split = Literal["dev", "heldout"]

STANCES: frozenset[str] = frozenset({"worked_well", "worried", "needs_to_happen"})
SPLITS: frozenset[str] = frozenset({"dev", "heldout"})
STYLES: frozenset[str] = frozenset(
    {"cspr", "scr", "national_review", "dhr", "sar", "ofsted_ilacs", "jtai", "audit", "briefing"}
)
FIELDS: frozenset[str] = frozenset(
    {"id", "text", "themes", "mentions_not_tagged", "stance", "split", "style"}
)

HELDOUT_SHARE = 0.4
# each theme needs this many positives in each split, so neither split can score a theme on nothing
MIN_PER_SPLIT = 2
MIN_POSITIVES = 5


@dataclass(frozen=True)
class EvalPassage:
    """One labelled passage; `themes` are the gold tags, `mentions_not_tagged` the traps."""

    id: str
    text: str
    themes: tuple[str, ...]
    mentions_not_tagged: tuple[str, ...]
    stance: Stance | None
    split: Split
    style: str


@dataclass
class Report:
    """What `validate` found; an empty `errors` list means the set is usable."""

    errors: list[str] = field(default_factory=list)
    passages: int = 0
    with_traps: int = 0
    untagged: int = 0
    positives: Counter[str] = field(default_factory=Counter)
    per_split: dict[str, Counter[str]] = field(default_factory=dict)
    split_sizes: Counter[str] = field(default_factory=Counter)
    stances: Counter[str] = field(default_factory=Counter)
    styles: Counter[str] = field(default_factory=Counter)


def _parse(raw: object, line_no: int) -> tuple[EvalPassage | None, list[str]]:
    """Check one decoded line field by field, so every problem is reported, not only the first."""
    where = f"line {line_no}"
    if not isinstance(raw, dict):
        return None, [f"{where}: not a JSON object"]
    errors: list[str] = []
    keys = set(raw)
    if keys != FIELDS:
        missing, extra = sorted(FIELDS - keys), sorted(keys - FIELDS)
        errors.append(f"{where}: fields differ (missing {missing}, unexpected {extra})")
        return None, errors
    pid, text, style = raw["id"], raw["text"], raw["style"]
    if not isinstance(pid, str) or not pid:
        errors.append(f"{where}: id must be a non-empty string")
    if not isinstance(text, str) or not text.strip():
        errors.append(f"{where}: text must be a non-empty string")
    for name in ("themes", "mentions_not_tagged"):
        value = raw[name]
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            errors.append(f"{where}: {name} must be a list of theme ids")
            continue
        unknown = sorted(set(value) - set(THEME_IDS))
        if unknown:
            errors.append(f"{where}: {name} has unknown theme ids {unknown}")
        if len(set(value)) != len(value):
            errors.append(f"{where}: {name} repeats a theme id")
    if isinstance(raw["themes"], list) and isinstance(raw["mentions_not_tagged"], list):
        both = sorted(set(raw["themes"]) & set(raw["mentions_not_tagged"]))
        if both:
            errors.append(f"{where}: {both} both tagged and listed as not tagged")
    if raw["stance"] is not None and raw["stance"] not in STANCES:
        errors.append(f"{where}: stance {raw['stance']!r} is not one of {sorted(STANCES)} or null")
    if raw["split"] not in SPLITS:
        errors.append(f"{where}: split {raw['split']!r} is not one of {sorted(SPLITS)}")
    if style not in STYLES:
        errors.append(f"{where}: style {style!r} is not one of {sorted(STYLES)}")
    if errors:
        return None, errors
    return (
        EvalPassage(
            id=pid,
            text=text,
            themes=tuple(raw["themes"]),
            mentions_not_tagged=tuple(raw["mentions_not_tagged"]),
            stance=raw["stance"],
            split=raw["split"],
            style=style,
        ),
        [],
    )


def load(path: Path = PASSAGES_PATH) -> list[EvalPassage]:
    """The passages of `path`; raises ValueError listing every malformed line."""
    passages: list[EvalPassage] = []
    errors: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"line {line_no}: not valid JSON ({exc.msg})")
                continue
            passage, problems = _parse(raw, line_no)
            errors.extend(problems)
            if passage is not None:
                passages.append(passage)
    if errors:
        raise ValueError("\n".join(errors))
    return passages


def _normalised(text: str) -> str:
    return " ".join(text.lower().split())


def _hash_share(pid: str) -> float:
    """A stable number in [0, 1) for an id, independent of Python's salted `hash`."""
    digest = hashlib.sha256(pid.encode("utf-8")).hexdigest()
    return int(digest[:12], 16) / float(16**12)


def assign_splits(passages: Iterable[EvalPassage]) -> dict[str, Split]:
    """Split by a hash of the id, then move the fewest passages so every theme is in both splits.

    A move is taken only if it leaves no other theme short in the split it leaves; the passage
    moved is the newest candidate (highest id), so passages already published to a split stay
    put as the set grows, and the result depends on ids and labels alone.
    """
    items = list(passages)
    split: dict[str, Split] = {
        p.id: "heldout" if _hash_share(p.id) < HELDOUT_SHARE else "dev" for p in items
    }

    def count(theme: str, where: Split) -> int:
        return sum(1 for p in items if theme in p.themes and split[p.id] == where)

    for _ in range(len(items)):
        moved = False
        for theme in THEME_IDS:
            pairs: tuple[tuple[Split, Split], ...] = (("heldout", "dev"), ("dev", "heldout"))
            for short, other in pairs:
                if count(theme, short) >= MIN_PER_SPLIT or count(theme, other) <= MIN_PER_SPLIT:
                    continue
                candidates = [
                    p
                    for p in items
                    if theme in p.themes
                    and split[p.id] == other
                    and all(count(t, other) > MIN_PER_SPLIT for t in p.themes if t != theme)
                ]
                if not candidates:
                    continue
                best = max(candidates, key=lambda p: p.id)
                split[best.id] = short
                moved = True
        if not moved:
            break
    return split


def validate(passages: list[EvalPassage]) -> Report:
    """Every rule the set must keep, as a list of readable problems plus the counts behind them."""
    report = Report(passages=len(passages))
    report.per_split = {"dev": Counter(), "heldout": Counter()}
    ids = Counter(p.id for p in passages)
    report.errors += [f"id {pid} used {n} times" for pid, n in sorted(ids.items()) if n > 1]
    texts = Counter(_normalised(p.text) for p in passages)
    dupes = [p.id for p in passages if texts[_normalised(p.text)] > 1]
    if dupes:
        report.errors.append(f"duplicated passage text: {sorted(dupes)}")
    for p in passages:
        report.positives.update(p.themes)
        report.per_split[p.split].update(p.themes)
        report.split_sizes[p.split] += 1
        report.stances[p.stance or "none"] += 1
        report.styles[p.style] += 1
        report.with_traps += bool(p.mentions_not_tagged)
        report.untagged += not p.themes
    for theme in THEME_IDS:
        if report.positives[theme] < MIN_POSITIVES:
            report.errors.append(
                f"theme {theme}: {report.positives[theme]} positives, need {MIN_POSITIVES}"
            )
        for where in ("dev", "heldout"):
            if report.per_split[where][theme] < MIN_PER_SPLIT:
                report.errors.append(
                    f"theme {theme}: {report.per_split[where][theme]} positives in {where},"
                    f" need {MIN_PER_SPLIT}"
                )
    expected = assign_splits(passages)
    drift = sorted(p.id for p in passages if expected[p.id] != p.split)
    if drift:
        report.errors.append(f"splits differ from assign_splits for {drift}; run with --write")
    return report


def write(passages: list[EvalPassage], path: Path = PASSAGES_PATH) -> None:
    """Rewrite the file with recomputed splits, one compact JSON object per line."""
    splits = assign_splits(passages)
    with path.open("w", encoding="utf-8") as handle:
        for p in passages:
            record = {
                "id": p.id,
                "text": p.text,
                "themes": list(p.themes),
                "mentions_not_tagged": list(p.mentions_not_tagged),
                "stance": p.stance,
                "split": splits[p.id],
                "style": p.style,
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _summary(report: Report) -> str:
    lines = [
        f"passages: {report.passages}"
        f" (dev {report.split_sizes['dev']}, heldout {report.split_sizes['heldout']})",
        f"with negated/hypothetical/passing mentions: {report.with_traps}",
        f"with no theme: {report.untagged}",
        "stance: " + ", ".join(f"{k} {v}" for k, v in sorted(report.stances.items())),
        "style: " + ", ".join(f"{k} {v}" for k, v in sorted(report.styles.items())),
        f"{'theme':<30} {'all':>4} {'dev':>4} {'held':>4}",
    ]
    for theme in THEME_IDS:
        lines.append(
            f"{theme:<30} {report.positives[theme]:>4}"
            f" {report.per_split['dev'][theme]:>4} {report.per_split['heldout'][theme]:>4}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", nargs="?", type=Path, default=PASSAGES_PATH)
    parser.add_argument("--write", action="store_true", help="recompute splits and rewrite")
    args = parser.parse_args(argv)
    try:
        passages = load(args.path)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.write:
        write(passages, args.path)
        passages = load(args.path)
    report = validate(passages)
    print(_summary(report))
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
