"""Measure the tagger against the labelled evaluation set in `nlp/eval/passages.jsonl`.

Patterns are tuned on the `dev` split only; `heldout` is for reporting. So that nobody tunes
against it by accident, errors (the passages the tagger got wrong) are only ever listed for
`dev`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nlp.analysis import BATCH_SIZE
from nlp.pipeline import build_pipeline
from nlp.taxonomy import Taxonomy, load_taxonomy
from reviewlens.errors import ReviewLensError

EVAL_SET = Path(__file__).resolve().parent / "eval" / "passages.jsonl"
# more dev passages, written to tune negation scope on; never part of heldout
EXTRA_DEV = Path(__file__).resolve().parent / "eval" / "extra_dev.jsonl"
SPLITS = ("dev", "heldout", "all", "extra")
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 0
STANCE_KIND = {
    "recommendations": "recommendations",
    "good_practice": "good_practice",
}


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    themes: frozenset[str]
    not_tagged: frozenset[str]
    stance: str | None
    split: str
    style: str


@dataclass
class ThemeScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class EvalResult:
    split: str
    passages: int
    per_theme: dict[str, ThemeScore]
    micro: ThemeScore
    negated_mentions: int
    negated_false_positives: int
    stance_correct: int
    stance_total: int
    errors: list[dict[str, object]] = field(default_factory=list)
    # per passage: tp, fp, fn, negated or passing mentions, of those tagged
    counts: list[tuple[int, int, int, int, int]] = field(default_factory=list)

    @property
    def negated_fp_rate(self) -> float:
        return (
            self.negated_false_positives / self.negated_mentions if self.negated_mentions else 0.0
        )

    @property
    def macro_f1(self) -> float:
        scored = [s for s in self.per_theme.values() if s.tp + s.fn]
        return sum(s.f1 for s in scored) / len(scored) if scored else 0.0

    def intervals(self) -> dict[str, tuple[float, float]]:
        """95% bootstrap intervals over passages for micro-F1 and the negated/passing rate.

        A split of a few hundred passages moves by several points with which passages happen to
        be in it; the interval says how far a figure can be read against a target.
        """
        if not self.counts:
            return {}
        counts = np.array(self.counts, dtype=np.int64)
        n = len(counts)
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        even = np.full(n, 1.0 / n)
        sums = []
        for chunk in range(0, BOOTSTRAP_SAMPLES, 100):
            # how often each passage is drawn in each resample, then the counts those draws add to
            draws = rng.multinomial(n, even, size=min(100, BOOTSTRAP_SAMPLES - chunk))
            sums.append(draws @ counts)
        tp, fp, fn, negated, negated_fp = np.concatenate(sums).T.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.nan_to_num(2 * tp / (2 * tp + fp + fn))
            rate = np.nan_to_num(negated_fp / negated)
        return {
            "micro_f1": _percentiles(f1),
            "negated_or_passing_fp_rate": _percentiles(rate),
        }

    def as_dict(self) -> dict[str, object]:
        intervals = self.intervals()
        return {
            "split": self.split,
            "passages": self.passages,
            "micro": _score_dict(self.micro),
            "micro_f1_95": intervals.get("micro_f1"),
            "macro_f1": round(self.macro_f1, 4),
            "negated_or_passing_mentions": self.negated_mentions,
            "negated_or_passing_false_positives": self.negated_false_positives,
            "negated_or_passing_fp_rate": round(self.negated_fp_rate, 4),
            "negated_or_passing_fp_rate_95": intervals.get("negated_or_passing_fp_rate"),
            "stance_accuracy": round(self.stance_correct / self.stance_total, 4)
            if self.stance_total
            else None,
            "per_theme": {k: _score_dict(v) for k, v in sorted(self.per_theme.items())},
        }


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(values, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


def _score_dict(score: ThemeScore) -> dict[str, float | int]:
    return {
        "tp": score.tp,
        "fp": score.fp,
        "fn": score.fn,
        "precision": round(score.precision, 4),
        "recall": round(score.recall, 4),
        "f1": round(score.f1, 4),
    }


def load_examples(
    path: Path = EVAL_SET, split: str = "dev", extra: Path | None = None
) -> list[Example]:
    """Labelled passages of one split ("all" for every split, "extra" for the extra dev file).

    The extra dev file joins `dev` (and `all`) only; a line in it that claims another split is
    an error, so it can never leak into heldout.
    """
    if split not in SPLITS:
        raise ReviewLensError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    out: list[Example] = []
    if split != "extra":
        out += _read_examples(path, split)
    if extra is not None and split in ("dev", "all", "extra") and extra.exists():
        more = _read_examples(extra, "all")
        wrong = [e.id for e in more if e.split != "dev"]
        if wrong:
            raise ReviewLensError(f"{extra}: extra passages must be split dev: {wrong[:5]}")
        out += more
    return out


def _read_examples(path: Path, split: str) -> list[Example]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ReviewLensError(f"cannot read the evaluation set {path}: {exc.strerror}") from exc
    out: list[Example] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            example = Example(
                id=str(raw["id"]),
                text=str(raw["text"]),
                themes=frozenset(raw.get("themes") or []),
                not_tagged=frozenset(raw.get("mentions_not_tagged") or []),
                stance=raw.get("stance"),
                split=str(raw.get("split", "dev")),
                style=str(raw.get("style", "")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ReviewLensError(f"{path}:{number}: not a valid labelled passage") from exc
        if split == "all" or example.split == split:
            out.append(example)
    return out


def predict(examples: Sequence[Example], taxonomy: Taxonomy) -> list[tuple[set[str], str | None]]:
    """Theme ids and stance for each example, from the full pipeline."""
    nlp = build_pipeline(taxonomy)
    docs = []
    for example in examples:
        doc = nlp.make_doc(example.text)
        doc._.section_kind = "other"
        docs.append(doc)
    return [(set(doc._.themes), doc._.stance) for doc in nlp.pipe(docs, batch_size=BATCH_SIZE)]


def evaluate(
    split: str = "dev", taxonomy: Taxonomy | None = None, path: Path = EVAL_SET
) -> EvalResult:
    taxonomy = taxonomy or load_taxonomy()
    examples = load_examples(path, split, EXTRA_DEV if path == EVAL_SET else None)
    predictions = predict(examples, taxonomy)
    per_theme = {theme.id: ThemeScore() for theme in taxonomy.themes}
    micro = ThemeScore()
    stance_ok = stance_total = 0
    errors: list[dict[str, object]] = []
    counts: list[tuple[int, int, int, int, int]] = []
    for example, (predicted, stance) in zip(examples, predictions, strict=True):
        gold = set(example.themes)
        passing = example.not_tagged
        counts.append(
            (
                len(predicted & gold),
                len(predicted - gold),
                len(gold - predicted),
                len(passing),
                len(passing & predicted),
            )
        )
        for theme in predicted | gold:
            score = per_theme.setdefault(theme, ThemeScore())
            if theme in predicted and theme in gold:
                score.tp += 1
                micro.tp += 1
            elif theme in predicted:
                score.fp += 1
                micro.fp += 1
            else:
                score.fn += 1
                micro.fn += 1
        stance_total += 1
        stance_ok += stance == example.stance
        if split in ("dev", "extra") and (predicted != gold or stance != example.stance):
            errors.append(
                {
                    "id": example.id,
                    "missed": sorted(gold - predicted),
                    "extra": sorted(predicted - gold),
                    "stance": [example.stance, stance],
                }
            )
    negated = sum(c[3] for c in counts)
    negated_fp = sum(c[4] for c in counts)
    return EvalResult(
        split=split,
        passages=len(examples),
        per_theme=per_theme,
        micro=micro,
        negated_mentions=negated,
        negated_false_positives=negated_fp,
        stance_correct=stance_ok,
        stance_total=stance_total,
        errors=errors,
        counts=counts,
    )


def format_report(result: EvalResult) -> str:
    lines = [
        f"split {result.split}: {result.passages} passages",
        f"{'theme':32} {'P':>6} {'R':>6} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}",
    ]
    for theme, s in sorted(result.per_theme.items()):
        if s.tp + s.fp + s.fn == 0:
            continue
        lines.append(
            f"{theme:32} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.tp:4} {s.fp:4} {s.fn:4}"
        )
    m = result.micro
    intervals = result.intervals()
    f1_low, f1_high = intervals.get("micro_f1", (m.f1, m.f1))
    rate_low, rate_high = intervals.get(
        "negated_or_passing_fp_rate", (result.negated_fp_rate, result.negated_fp_rate)
    )
    lines += [
        f"{'micro':32} {m.precision:6.3f} {m.recall:6.3f} {m.f1:6.3f} {m.tp:4} {m.fp:4} {m.fn:4}",
        f"micro-F1 95% interval (bootstrap over passages): {f1_low:.3f}-{f1_high:.3f}",
        f"macro-F1 {result.macro_f1:.3f}",
        f"false positives on negated/hypothetical/passing mentions: "
        f"{result.negated_false_positives}/{result.negated_mentions} "
        f"({result.negated_fp_rate:.1%}; 95% interval {rate_low:.1%}-{rate_high:.1%})",
    ]
    if result.stance_total:
        lines.append(
            f"stance accuracy {result.stance_correct}/{result.stance_total} "
            f"({result.stance_correct / result.stance_total:.1%})"
        )
    return "\n".join(lines)
