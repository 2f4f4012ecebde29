"""Train the theme classifier on the dev passages: `reviewlens train [--check]`.

Reproducible: passages are featurised by the rules-only pipeline, folds are fixed by a hash of
each passage id, and the weights are fitted by full-batch Adam from zero (the hidden layer from
a fixed seed), so the same labelled set and taxonomy always give the same model.

Each passage is learned twice, once with the rules' verdict and once without it. The rules were
tuned on these very passages, so here they are nearly always right, and a model fitted only on
them learns to trust them and little else; on unseen text they miss far more. The copy without
the verdict makes the words carry weight of their own (on batches scored before any tuning this
added 0.03-0.06 micro-F1). The threshold is chosen by cross-validation on dev (`by_source`
says how the two files of dev passages are weighed), and the cross-validated figures are
printed beside the rules' own so whoever retrains sees whether the model earns its place.
Heldout passages are never read.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from nlp.analysis import BATCH_SIZE
from nlp.eval.agreement import Labels, load_relabelled, load_second_reading, majority
from nlp.evaluate import EVAL_SET, EXTRA_DEV, Example, load_examples
from nlp.taxonomy import Taxonomy, load_taxonomy
from nlp.theme_model import (
    FEATURE_VERSION,
    MODEL_PATH,
    RULE_FEATURES,
    ThemeModel,
    passage_keys,
    rule_matrix,
    sigmoid,
)

FOLDS = 5
STEPS = 300
RATE = 0.01
HIDDEN = 64  # units shared by all themes
SEED = 0
L2_GRID = (8.0,)  # the best of 0.5-32 on batches scored before tuning
THRESHOLDS = tuple(t / 100 for t in range(10, 71, 5))
MIN_DF = 2  # a word must appear in this many training passages to get a weight
MIN_GAIN = 0.0  # the model ships unless cross-validation says it is worse than the rules


@dataclass(frozen=True)
class Featurised:
    keys: list[list[str]]
    rules: np.ndarray  # passages x themes x RULE_FEATURES
    gold: np.ndarray  # passages x themes, 0/1
    rules_tagged: list[set[str]]


def featurise(examples: Sequence[Example], taxonomy: Taxonomy) -> Featurised:
    from nlp.pipeline import new_pipeline, resolve_themes, rule_state

    nlp = new_pipeline(taxonomy, theme_model="")
    stop = frozenset(nlp.Defaults.stop_words)
    themes = [t.id for t in taxonomy.themes]
    keys: list[list[str]] = []
    rules: list[np.ndarray] = []
    tagged: list[set[str]] = []
    for doc in nlp.pipe([e.text for e in examples], batch_size=BATCH_SIZE):
        found = resolve_themes(doc, use_model=False)
        keys.append(list(passage_keys(doc, stop)))
        rules.append(rule_matrix(themes, found, rule_state(doc).hits))
        tagged.append(set(found))
    gold = np.array([[t in e.themes for t in themes] for e in examples], dtype=np.float32)
    return Featurised(keys, np.stack(rules), gold, tagged)


class _Sparse:
    """Passages as rows of word indices (binary features), enough for X @ W and X.T @ G.

    Sums run through `np.add.reduceat` over sorted index runs (`np.add.at` was the slow part), a
    block of rows or columns at a time: gathering every row's weights at once made a temporary of
    hundreds of megabytes, and the blocks, small enough to stay in the CPU cache, made a training
    step about six times faster. Each row's (or column's) run is summed in the same order either
    way, so the weights are the same to the bit.
    """

    ROWS_PER_BLOCK = 64
    COLS_PER_BLOCK = 64

    def __init__(self, keys: list[list[str]], vocab: dict[str, int]) -> None:
        rows = [sorted({vocab[k] for k in ks if k in vocab}) for ks in keys]
        self.n_rows = len(rows)
        self.n_vocab = len(vocab)
        self.cols = np.array([c for r in rows for c in r], dtype=np.int64)
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        row_ends = np.cumsum(lengths)
        row_starts = row_ends - lengths
        # per block: its rows (or column ids), its entries cols[lo:hi], and where each run starts
        self.row_blocks: list[tuple[int, int, int, int, np.ndarray, np.ndarray]] = []
        for first in range(0, self.n_rows, self.ROWS_PER_BLOCK):
            last = min(first + self.ROWS_PER_BLOCK, self.n_rows)
            lo, hi = int(row_starts[first]), int(row_ends[last - 1])
            nonempty = lengths[first:last] > 0
            if hi > lo:
                runs = row_starts[first:last][nonempty] - lo
                self.row_blocks.append((first, last, lo, hi, runs, nonempty))
        by_col = np.argsort(self.cols, kind="stable")
        self.rows_by_col = np.repeat(np.arange(len(rows)), lengths)[by_col]
        col_ids, col_starts = np.unique(self.cols[by_col], return_index=True)
        col_ends = np.append(col_starts[1:], len(self.cols))
        self.col_blocks: list[tuple[np.ndarray, int, int, np.ndarray]] = []
        for first in range(0, len(col_ids), self.COLS_PER_BLOCK):
            last = min(first + self.COLS_PER_BLOCK, len(col_ids))
            lo, hi = int(col_starts[first]), int(col_ends[last - 1])
            self.col_blocks.append((col_ids[first:last], lo, hi, col_starts[first:last] - lo))

    def dot(self, weights: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n_rows, weights.shape[1]), dtype=weights.dtype)
        for first, last, lo, hi, runs, nonempty in self.row_blocks:
            out[first:last][nonempty] = np.add.reduceat(weights[self.cols[lo:hi]], runs)
        return out

    def t_dot(self, grad: np.ndarray, n_vocab: int) -> np.ndarray:
        out = np.zeros((n_vocab, grad.shape[1]), dtype=grad.dtype)
        for ids, lo, hi, runs in self.col_blocks:
            out[ids] = np.add.reduceat(grad[self.rows_by_col[lo:hi]], runs)
        return out


def vocabulary(keys: list[list[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for passage in keys:
        for key in set(passage):
            counts[key] = counts.get(key, 0) + 1
    kept = sorted(k for k, c in counts.items() if c >= MIN_DF)
    return {k: i for i, k in enumerate(kept)}


def fit(
    keys: list[list[str]], rules: np.ndarray, gold: np.ndarray, l2: float
) -> tuple[dict[str, int], list[np.ndarray]]:
    """The weights of `ThemeModel`, by full-batch Adam from a seeded start.

    Every passage also goes in without the rules' verdict (see the module docstring); both copies
    share the passage's words, so the word sums are computed once for the two.
    """
    vocab = vocabulary(keys)
    x = _Sparse(keys, vocab)
    n, n_themes = gold.shape
    f32 = np.float32
    start = np.random.default_rng(SEED)
    params = [
        np.zeros((len(vocab), n_themes), f32),  # words
        np.zeros(n_themes, f32),  # bias
        np.zeros(len(RULE_FEATURES), f32),  # rules, shared
        np.zeros((n_themes, len(RULE_FEATURES)), f32),  # rules, per theme
        np.zeros((n_themes * len(RULE_FEATURES), n_themes), f32),  # rules, across themes
        start.normal(0.0, 0.05, (len(vocab), HIDDEN)).astype(f32),  # hidden
        np.zeros(HIDDEN, f32),  # hidden bias
        start.normal(0.0, 0.05, (HIDDEN, n_themes)).astype(f32),  # hidden out
    ]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    rules32 = rules.astype(f32)
    flat = rules32.reshape(n, n_themes * len(RULE_FEATURES))
    gold32 = gold.astype(f32)
    seen = 2 * n  # each passage with and without the rules' verdict
    for step in range(1, STEPS + 1):
        words, bias, shared, own, across, hidden, hidden_bias, hidden_out = params
        units = x.dot(hidden) + hidden_bias
        active = np.maximum(units, 0.0)
        plain = x.dot(words) + bias + active @ hidden_out
        with_rules = plain + rules32 @ shared + (rules32 * own[None]).sum(axis=2) + flat @ across
        err_rules = sigmoid(with_rules) - gold32
        err = err_rules + sigmoid(plain) - gold32
        err_units = (err @ hidden_out.T) * (units > 0)
        grads = [
            x.t_dot(err, len(vocab)) / seen + l2 * words / seen,
            err.sum(axis=0) / seen,
            np.einsum("pt,ptk->k", err_rules, rules32) / seen,
            np.einsum("pt,ptk->tk", err_rules, rules32) / seen + l2 * own / seen,
            flat.T @ err_rules / seen + l2 * across / seen,
            x.t_dot(err_units, len(vocab)) / seen + l2 * hidden / seen,
            err_units.sum(axis=0) / seen,
            active.T @ err / seen + l2 * hidden_out / seen,
        ]
        for p, g, m, v in zip(params, grads, first, second, strict=True):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return vocab, params


def predict(
    vocab: dict[str, int], params: list[np.ndarray], keys: list[list[str]], rules: np.ndarray
) -> np.ndarray:
    words, bias, shared, own, across, hidden, hidden_bias, hidden_out = params
    x = _Sparse(keys, vocab)
    rules32 = rules.astype(np.float32)
    z = x.dot(words) + bias + np.maximum(x.dot(hidden) + hidden_bias, 0.0) @ hidden_out
    verdict = rules32 @ shared + (rules32 * own[None]).sum(axis=2)
    flat = rules32.reshape(len(rules32), rules32.shape[1] * rules32.shape[2])
    return sigmoid(z + verdict + flat @ across)


@dataclass(frozen=True)
class Score:
    f1: float
    precision: float
    recall: float
    negated_fp: int
    negated: int

    def __str__(self) -> str:
        return (
            f"micro-F1 {self.f1:.3f} (P {self.precision:.3f} R {self.recall:.3f}), "
            f"negated/passing tagged {self.negated_fp}/{self.negated}"
        )


def score(examples: Sequence[Example], predicted: Sequence[set[str]]) -> Score:
    tp = fp = fn = neg = neg_fp = 0
    for example, tags in zip(examples, predicted, strict=True):
        tp += len(tags & example.themes)
        fp += len(tags - example.themes)
        fn += len(example.themes - tags)
        neg += len(example.not_tagged)
        neg_fp += len(tags & example.not_tagged)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return Score(2 * tp / (2 * tp + fp + fn) if tp else 0.0, p, r, neg_fp, neg)


def fold_of(example: Example) -> int:
    return int(hashlib.sha256(example.id.encode()).hexdigest(), 16) % FOLDS


def tags_at(
    probabilities: np.ndarray, themes: Sequence[str], threshold: float, rules: np.ndarray
) -> list[set[str]]:
    """Tags as the pipeline makes them: over the threshold, and never a theme the rules ruled out
    without tagging it."""
    tagged = rules[:, :, RULE_FEATURES.index("tagged")] > 0
    ruled_out = (rules[:, :, RULE_FEATURES.index("ruled_out")] > 0) & ~tagged
    keep = (probabilities >= threshold) & ~ruled_out
    return [{themes[int(j)] for j in np.flatnonzero(row)} for row in keep]


def _fold(
    job: tuple[list[list[str]], np.ndarray, np.ndarray, list[list[str]], np.ndarray, float],
) -> np.ndarray:
    keys, rules, gold, test_keys, test_rules, l2 = job
    vocab, params = fit(keys, rules, gold, l2)
    return predict(vocab, params, test_keys, test_rules)


def by_source(
    examples: Sequence[Example], predicted: Sequence[set[str]], sources: np.ndarray
) -> list[Score]:
    """The score of each source of the dev passages (0: the evaluation set, 1: the extra file).

    The threshold is chosen by their mean micro-F1, each source counting once: the evaluation
    set's own dev passages are a few hundred, the extra ones many thousands in other voices, and
    pooled, the extra ones alone picked a threshold that on the evaluation set's own passages
    tagged with recall well above precision.
    """
    out = []
    for source in np.unique(sources):
        chosen = np.flatnonzero(sources == source).tolist()
        out.append(score([examples[i] for i in chosen], [predicted[i] for i in chosen]))
    return out


def cross_validate(
    examples: Sequence[Example],
    data: Featurised,
    themes: Sequence[str],
    sources: np.ndarray | None = None,
) -> tuple[Score, float, float, list[Score]]:
    """Cross-validated (score, l2, threshold, score by source) at the best mean F1 over sources
    on the grid (see `by_source`; no `sources`, one source); folds fit in parallel."""
    if sources is None:
        sources = np.zeros(len(examples), dtype=int)
    folds = np.array([fold_of(e) for e in examples])
    best: tuple[float, Score, float, float, list[Score]] | None = None
    workers = max(1, min(FOLDS, os.cpu_count() or 1))
    tests = [np.flatnonzero(folds == fold) for fold in range(FOLDS)]
    trains = [np.flatnonzero(folds != fold) for fold in range(FOLDS)]
    for l2 in L2_GRID:
        probabilities = np.zeros(data.gold.shape)
        jobs = []
        for train, test in zip(trains, tests, strict=True):
            jobs.append(
                (
                    [data.keys[i] for i in train],
                    data.rules[train],
                    data.gold[train],
                    [data.keys[i] for i in test],
                    data.rules[test],
                    l2,
                )
            )
        # spawned, not forked: a forked child can inherit a BLAS lock held by another thread
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for test, fold_probabilities in zip(tests, pool.map(_fold, jobs), strict=True):
                probabilities[test] = fold_probabilities
        for threshold in THRESHOLDS:
            predicted = tags_at(probabilities, themes, threshold, data.rules)
            parts = by_source(examples, predicted, sources)
            balanced = float(np.mean([part.f1 for part in parts]))
            if best is None or balanced > best[0]:
                best = (balanced, score(examples, predicted), l2, threshold, parts)
    assert best is not None
    return best[1:]


def second_reading() -> dict[str, Labels]:
    """A second reading of every extra passage: one reader's labels, or for the 160 read three
    times, what at least two of the three tagged."""
    reading = load_second_reading()
    three = majority(load_relabelled().values())
    reading.update({key: labels for key, labels in three.items() if key.startswith("x")})
    return reading


def agreed(examples: Sequence[Example], reading: Mapping[str, Labels]) -> list[Example]:
    """The examples, each passage in `reading` with only the themes both readings tagged.

    The extra passages' writers and a second reader agree on about seven themes in eight; the
    rest are judgement calls, mostly practice themes, where the evaluation set's own writers
    are the sparer (nlp/eval/README.md). Trained on what both readings tag, the model moved
    towards the set's labels on its own dev passages (nlp/README.md). A theme either reading
    saw only mentioned stays a mention. The set's own passages are not in the reading: their
    labels are the convention.
    """
    out = []
    for example in examples:
        other = reading.get(example.id)
        if other is not None:
            themes = example.themes & other.themes
            mentions = (example.not_tagged | other.not_tagged) - themes
            example = replace(example, themes=themes, not_tagged=mentions)
        out.append(example)
    return out


def train(
    eval_set: Path = EVAL_SET,
    out: Path = MODEL_PATH,
    check: bool = False,
    echo: Callable[[str], None] = print,
    taxonomy: Taxonomy | None = None,
    min_gain: float = MIN_GAIN,
    reading: Mapping[str, Labels] | None = None,
) -> int:
    """Cross-validate, then write the weights unless they fall short of the rules + `min_gain`.

    Cross-validation here is on passages the taxonomy was tuned on, so it flatters the rules;
    on batches scored before any tuning the model added more (see nlp/README.md). Passages in
    `reading` are learned with the themes both it and their writers tagged (`agreed`; by default,
    with the shipped set, `second_reading()`); an empty reading trains on the writers' labels.
    """
    taxonomy = taxonomy or load_taxonomy()
    main_dev = load_examples(eval_set, "dev")
    extra = load_examples(eval_set, "extra", EXTRA_DEV) if eval_set == EVAL_SET else []
    if reading is None:
        reading = second_reading() if eval_set == EVAL_SET else {}
    examples = agreed(main_dev + extra, reading)
    read = sum(1 for example in examples if example.id in reading)
    sources = np.array([0] * len(main_dev) + [1] * len(extra))
    themes = [t.id for t in taxonomy.themes]
    data = featurise(examples, taxonomy)
    rules_only = score(examples, data.rules_tagged)
    best, l2, threshold, parts = cross_validate(examples, data, themes, sources)
    echo(f"dev: {len(examples)} passages, {len(themes)} themes")
    if read:
        echo(f"  {read} of them with only the themes a second reading also tagged")
    echo(f"rules alone (tuned on these passages): {rules_only}")
    echo(f"rules + model, {FOLDS}-fold cross-validated: {best} (l2 {l2}, threshold {threshold})")
    if len(parts) > 1:
        echo(f"  of which the evaluation set's {len(main_dev)} dev passages: {parts[0]}")
        echo(f"  and the {len(extra)} extra dev passages: {parts[1]}")
    if check:
        return 0
    if best.f1 < rules_only.f1 + min_gain:
        echo("the model falls short of the rules on dev; removing any weights file (rules alone)")
        out.unlink(missing_ok=True)
        return 0
    vocab, (words, bias, shared, own, across, hidden, hidden_bias, hidden_out) = fit(
        data.keys, data.rules, data.gold, l2
    )
    model = ThemeModel(
        themes=tuple(themes),
        vocab=vocab,
        words=words.astype(np.float32),
        bias=bias.astype(np.float32),
        rules=shared.astype(np.float32),
        rules_by_theme=own.astype(np.float32),
        rules_across=across.astype(np.float32),
        hidden=hidden,
        hidden_bias=hidden_bias,
        hidden_out=hidden_out,
        threshold=threshold,
        meta={
            "feature_version": FEATURE_VERSION,
            "rule_features": list(RULE_FEATURES),
            "trained_on": "dev passages of nlp/eval (passages.jsonl dev split, extra_dev.jsonl)",
            "passages": len(examples),
            "second_reading": read,
            "taxonomy_version": taxonomy.version,
            "l2": l2,
            "cv_micro_f1": round(best.f1, 4),
            "rules_micro_f1": round(rules_only.f1, 4),
        },
    )
    model.save(out)
    echo(f"wrote {out} ({out.stat().st_size // 1024} KiB, {len(vocab)} words)")
    return 0
