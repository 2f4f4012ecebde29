"""How far careful labellers agree with the evaluation set's labels, and with each other.

A micro-F1 target says little until it is set beside what labelling itself agrees on. Three
labellers relabelled 399 dev passages (the 239 of `passages.jsonl` and the 160 extra passages
`x64451`-`x64610`), each working alone from THEMES.md and the labelling rule, shown the texts
shuffled together under neutral ids and never shown the set's labels or each other's. Their labels
are in `relabelled.jsonl`; heldout passages were not relabelled.

`second_reading.jsonl` is a second reading, the same way, of the other 64,418 extra passages
(one labeller per 400 passages): it says how consistent the extra passages' labels are over far
more passages than three labellers could read, and the tagger is trained on the themes the two
readings agree on (`nlp.train_model.agreed`).

    python -m nlp.eval.agreement [--per-theme]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from nlp.eval.check import THEME_IDS
from nlp.evaluate import ThemeScore

EVAL_DIR = Path(__file__).resolve().parent
RELABELLED_PATH = EVAL_DIR / "relabelled.jsonl"
SECOND_READING_PATH = EVAL_DIR / "second_reading.jsonl"
SOURCES = (
    ("evaluation set dev", EVAL_DIR / "passages.jsonl"),
    ("extra dev", EVAL_DIR / "extra_dev.jsonl"),
)
SET_LABELS = "the set"
MAJORITY = "majority of the labellers"


@dataclass(frozen=True)
class Labels:
    themes: frozenset[str]
    not_tagged: frozenset[str]


# labeller -> passage id -> labels
Labelling = dict[str, dict[str, Labels]]


@dataclass
class Agreement(ThemeScore):
    """The tagger's micro scores (`ThemeScore`), for one labelling read as a tagger of another."""

    # of the reference's negated or passing mentions, how many the other labelling tagged
    negated: int = 0
    negated_tagged: int = 0

    def __str__(self) -> str:
        return (
            f"micro-F1 {self.f1:.3f} (P {self.precision:.3f} R {self.recall:.3f}), "
            f"negated/passing tagged {self.negated_tagged}/{self.negated}"
        )


def agreement(
    reference: Mapping[str, Labels], other: Mapping[str, Labels], ids: Iterable[str]
) -> Agreement:
    """`other` scored as if it were a tagger and `reference` the gold labels."""
    tp = fp = fn = negated = negated_tagged = 0
    for passage in ids:
        gold, seen = reference[passage], other[passage]
        tp += len(gold.themes & seen.themes)
        fp += len(seen.themes - gold.themes)
        fn += len(gold.themes - seen.themes)
        negated += len(gold.not_tagged)
        negated_tagged += len(gold.not_tagged & seen.themes)
    return Agreement(tp=tp, fp=fp, fn=fn, negated=negated, negated_tagged=negated_tagged)


def majority(labellings: Iterable[Mapping[str, Labels]]) -> dict[str, Labels]:
    """Per passage, the themes more than half the labellers tagged (and likewise for mentions)."""
    labellings = list(labellings)
    need = len(labellings) // 2 + 1
    out: dict[str, Labels] = {}
    for passage in labellings[0]:
        themes = Counter(t for lab in labellings for t in lab[passage].themes)
        mentions = Counter(t for lab in labellings for t in lab[passage].not_tagged)
        out[passage] = Labels(
            frozenset(t for t, n in themes.items() if n >= need),
            frozenset(t for t, n in mentions.items() if n >= need),
        )
    return out


def _labels(record: Mapping[str, object]) -> Labels:
    themes = record.get("themes", [])
    mentions = record.get("mentions_not_tagged", [])
    if not isinstance(themes, list) or not isinstance(mentions, list):
        raise ValueError(f"{record.get('id')}: themes and mentions_not_tagged must be lists")
    return Labels(frozenset(map(str, themes)), frozenset(map(str, mentions)))


def load_set_labels() -> tuple[dict[str, Labels], dict[str, str], dict[str, str]]:
    """(labels, split, source name) of every passage in the evaluation set's two files."""
    labels: dict[str, Labels] = {}
    splits: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name, path in SOURCES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                labels[record["id"]] = _labels(record)
                splits[record["id"]] = record["split"]
                sources[record["id"]] = name
    return labels, splits, sources


def load_relabelled(path: Path = RELABELLED_PATH) -> Labelling:
    """Each labeller's labels, checked: known theme ids, one label per passage per labeller."""
    out: Labelling = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        labels = _checked(record, path, number)
        by_id = out.setdefault(str(record.get("labeller", "")), {})
        if record["id"] in by_id:
            raise ValueError(f"{path.name}:{number}: {record['id']} labelled twice")
        by_id[record["id"]] = labels
    passages = {frozenset(by_id) for by_id in out.values()}
    if len(passages) > 1:
        raise ValueError(f"{path.name}: the labellers did not all label the same passages")
    return out


def load_second_reading(path: Path = SECOND_READING_PATH) -> dict[str, Labels]:
    """The second reading of extra passages, checked as `load_relabelled` checks its labels."""
    labelling = load_relabelled(path)
    if len(labelling) != 1:
        raise ValueError(f"{path.name}: a second reading is one labelling, not {sorted(labelling)}")
    return next(iter(labelling.values()))


def _checked(record: Mapping[str, object], path: Path, number: int) -> Labels:
    labels = _labels(record)
    unknown = sorted((labels.themes | labels.not_tagged) - set(THEME_IDS))
    if unknown:
        raise ValueError(f"{path.name}:{number}: unknown theme ids {unknown}")
    if labels.themes & labels.not_tagged:
        raise ValueError(f"{path.name}:{number}: a theme is both tagged and not tagged")
    return labels


def report(per_theme: bool = False) -> list[str]:
    """The lines `python -m nlp.eval.agreement` prints."""
    set_labels, splits, sources = load_set_labels()
    relabelled = load_relabelled()
    names = sorted(relabelled)
    passages = sorted(relabelled[names[0]])
    held = [p for p in passages if splits.get(p) != "dev"]
    if held:
        raise ValueError(f"relabelled passages must be dev passages: {held[:5]}")
    combined = majority(relabelled[n] for n in names)
    lines: list[str] = []
    for source, _ in SOURCES:
        ids = [p for p in passages if sources[p] == source]
        if not ids:
            continue
        lines.append(f"{source}: {len(ids)} passages")
        for name in names:
            lines.append(
                f"  {name} against {SET_LABELS}: {agreement(set_labels, relabelled[name], ids)}"
            )
        lines.append(f"  {MAJORITY} against {SET_LABELS}: {agreement(set_labels, combined, ids)}")
        for first, second in combinations(names, 2):
            pair = agreement(relabelled[first], relabelled[second], ids)
            lines.append(f"  {second} against {first}: {pair}")
        if per_theme:
            lines += _theme_differences(set_labels, combined, ids)
    reread = load_second_reading()
    held = [p for p in reread if splits.get(p) != "dev" or sources[p] != SOURCES[1][0]]
    if held:
        raise ValueError(f"the second reading must be of extra dev passages: {held[:5]}")
    ids = sorted(reread)
    lines.append(f"extra dev, second reading: {len(ids)} passages")
    lines.append(f"  second reading against {SET_LABELS}: {agreement(set_labels, reread, ids)}")
    if per_theme:
        lines += _theme_differences(set_labels, reread, ids, "the second reading")
    return lines


def _theme_differences(
    set_labels: Mapping[str, Labels],
    other: Mapping[str, Labels],
    ids: list[str],
    name: str = "the labellers",
) -> list[str]:
    only_set: Counter[str] = Counter()
    only_other: Counter[str] = Counter()
    for passage in ids:
        only_set.update(set_labels[passage].themes - other[passage].themes)
        only_other.update(other[passage].themes - set_labels[passage].themes)
    lines = ["  tagged by the set only: " + _counts(only_set)]
    lines.append(f"  tagged by {name} only: " + _counts(only_other))
    return lines


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{theme} {n}" for theme, n in counter.most_common()) or "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--per-theme", action="store_true", help="themes on which the set and labellers differ"
    )
    args = parser.parse_args(argv)
    for line in report(args.per_theme):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
