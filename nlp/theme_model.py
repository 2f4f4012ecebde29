"""A small trained theme classifier that works with the rules, not instead of them.

The rules know what they matched and whether a negation or hypothesis ruled it out, but only
for the wordings someone wrote down. The classifier sees every passage as a bag of lemma
unigrams and bigrams, and also sees the rules' verdict for each theme (tagged, tagged on strong
evidence, mentioned but ruled out, mentioned at all), with one set of weights for that verdict
shared by all themes plus a per-theme adjustment, and weights from the verdict on every theme to
each theme's score (themes are labelled together: coercive control with domestic abuse, a
pre-birth assessment with injury to babies). So a theme the rules found keeps its tag unless the
rest of the passage speaks against it, and a theme the rules missed can still be tagged when its
words are there.

Beside each theme's own word weights there is a small hidden layer shared by all themes. It
learns what many themes have in common: that a passage is a table of figures, a list of who
attended, or a denial, so a theme's words there do not make it about the theme. On batches
scored before any tuning it halved the negated or passing mentions tagged.

A tag the model adds has evidence too: the words in the passage that pushed its score up most,
or, when no word did, the evidence of the theme whose verdict raised it.

Weights live in `nlp/theme_model.npz`, trained by `reviewlens train` on the dev passages only
(deterministic: word weights from zero, the hidden layer from a fixed seed); the pipeline uses
that default file only with the taxonomy version it was trained with. Without the file, tagging
is rules only.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from spacy.attrs import IS_BRACKET, IS_PUNCT, IS_QUOTE, IS_SPACE, LEMMA, LIKE_NUM, LOWER

from nlp.token_patterns import TokenTable

if TYPE_CHECKING:
    from spacy.strings import StringStore
    from spacy.tokens import Doc

    from nlp.pipeline import ThemeHit

MODEL_PATH = Path(__file__).resolve().parent / "theme_model.npz"
FEATURE_VERSION = 3
# the rules' verdict on one theme in one passage, as the model sees it
RULE_FEATURES = ("tagged", "strong", "ruled_out", "counted")
EVIDENCE_WORDS = 3
RULE_SCORES_KEPT = 4096
SCORE_BLOCK = 32  # passages whose word weights are gathered together (see `word_scores`)
MIN_WORD = 3  # shorter lemmas ("a", "of") only count inside bigrams


def passage_keys(doc: Doc, stop_words: frozenset[str]) -> dict[str, tuple[int, int]]:
    """Lemma unigram and bigram features of a passage, each with its first token span."""
    # token arrays, not Token objects: this runs for every passage the model tags on its own
    strings = doc.vocab.strings
    rows = doc.to_array([LEMMA, LOWER, IS_PUNCT, IS_SPACE, LIKE_NUM, IS_QUOTE, IS_BRACKET])
    words = [
        (i, strings[lemma or lower])
        for i, (lemma, lower, punct, space, number, quote, bracket) in enumerate(rows.tolist())
        if not (punct or space or number or quote or bracket)
    ]
    keys: dict[str, tuple[int, int]] = {}
    previous: tuple[int, str] | None = None
    for i, lemma in words:
        if len(lemma) >= MIN_WORD and lemma not in stop_words:
            keys.setdefault("u:" + lemma, (i, i + 1))
        if previous is not None:
            keys.setdefault(f"b:{previous[1]} {lemma}", (previous[0], i + 1))
        previous = (i, lemma)
    return keys


@lru_cache(maxsize=8)
def _theme_index(themes: tuple[str, ...]) -> dict[str, int]:
    """Theme -> row, built once per model rather than once per passage."""
    return {t: i for i, t in enumerate(themes)}


def rule_matrix(
    themes: Sequence[str], tagged: dict[str, list[ThemeHit]], hits: Sequence[ThemeHit]
) -> np.ndarray:
    """themes x RULE_FEATURES: the rules' verdict on every theme for one passage."""
    index = _theme_index(tuple(themes))
    out = np.zeros((len(themes), len(RULE_FEATURES)), dtype=np.float32)
    cells = out.reshape(-1)  # a view: the flattened verdict `_tagged_cells` indexes
    for theme, theme_hits in tagged.items():
        row = index.get(theme)
        if row is not None:
            cells[_tagged_cells(row, theme_hits)] = 1.0
    for hit in hits:
        row = index.get(hit.theme)
        if row is not None:
            out[row, 3 if hit.counts else 2] = 1.0
    return out


@dataclass(frozen=True)
class ThemeModel:
    """Weights of the trained classifier (see the module docstring for the shape)."""

    themes: tuple[str, ...]
    vocab: dict[str, int]
    words: np.ndarray  # vocab x themes
    bias: np.ndarray  # themes
    rules: np.ndarray  # RULE_FEATURES, shared by all themes
    rules_by_theme: np.ndarray  # themes x RULE_FEATURES
    # (themes * RULE_FEATURES) x themes: each theme's score from the verdict on every theme
    rules_across: np.ndarray
    hidden: np.ndarray  # vocab x units, shared by all themes
    hidden_bias: np.ndarray  # units
    hidden_out: np.ndarray  # units x themes
    threshold: float
    meta: dict[str, object]
    # the same vocabulary keyed by the pipeline's string ids, so scoring a passage reads its
    # token arrays instead of building a string per word
    unigrams: dict[int, int] = field(default_factory=dict, compare=False, repr=False)
    bigrams: dict[tuple[int, int], int] = field(default_factory=dict, compare=False, repr=False)
    # the rules' part of the scores, by the set of the verdict matrix's cells that are 1 (see
    # `verdict_part`)
    verdict_scores: dict[frozenset[int], np.ndarray] = field(
        default_factory=dict, compare=False, repr=False
    )
    # the vocabulary as sorted id arrays, and word and hidden weights side by side (see `bind`)
    lookup: _Lookup | None = field(default=None, compare=False, repr=False)

    def bind(self, strings: StringStore, stop_words: frozenset[str] = frozenset()) -> ThemeModel:
        """Key the vocabulary by a pipeline's string ids (spaCy keeps its own symbols, such as
        "mark", at small fixed ids rather than hashes), for `doc_rows`; `stop_words` are the
        pipeline's, which `passage_keys` leaves out of a passage's evidence."""
        self.unigrams.clear()
        self.bigrams.clear()
        evidence_unigrams: set[int] = set()
        for key, row in self.vocab.items():
            kind, _, text = key.partition(":")
            if kind == "u":
                self.unigrams[strings.add(text)] = row
                if len(text) >= MIN_WORD and text not in stop_words:
                    evidence_unigrams.add(row)
            elif kind == "b":
                first, _, second = text.partition(" ")
                self.bigrams[(strings.add(first), strings.add(second))] = row
        object.__setattr__(self, "lookup", _Lookup.build(self, evidence_unigrams))
        return self

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> ThemeModel | None:
        """The trained model, or None when no weights file exists (rules alone)."""
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("feature_version") != FEATURE_VERSION or tuple(
                meta.get("rule_features", ())
            ) != tuple(RULE_FEATURES):
                raise ValueError(f"{path} was trained on other features; retrain it")
            vocab = [str(v) for v in data["vocab"]]
            return cls(
                themes=tuple(str(t) for t in data["themes"]),
                vocab={k: i for i, k in enumerate(vocab)},
                words=data["words"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                rules=data["rules"].astype(np.float32),
                rules_by_theme=data["rules_by_theme"].astype(np.float32),
                rules_across=data["rules_across"].astype(np.float32),
                hidden=data["hidden"].astype(np.float32),
                hidden_bias=data["hidden_bias"].astype(np.float32),
                hidden_out=data["hidden_out"].astype(np.float32),
                threshold=float(meta["threshold"]),
                meta=meta,
            )

    def save(self, path: Path) -> None:
        """Write an .npz that `np.load` reads; byte-identical for identical weights."""
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        arrays = {
            "meta": np.array(json.dumps({**self.meta, "threshold": self.threshold})),
            "themes": np.array(self.themes),
            "vocab": np.array(vocab),
            "words": self.words.astype(np.float16),
            "bias": self.bias.astype(np.float32),
            "rules": self.rules.astype(np.float32),
            "rules_by_theme": self.rules_by_theme.astype(np.float32),
            "rules_across": self.rules_across.astype(np.float32),
            "hidden": self.hidden.astype(np.float16),
            "hidden_bias": self.hidden_bias.astype(np.float32),
            "hidden_out": self.hidden_out.astype(np.float32),
        }
        # np.savez stamps each member with the current time; a fixed stamp keeps the file
        # reproducible, so retraining on the same data shows no change in git
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, array, allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, buffer.getvalue())

    def doc_rows(self, doc: Doc, table: TokenTable | None = None) -> np.ndarray:
        """Vocabulary rows of the passage's features, sorted: what `passage_keys` finds, from
        arrays (`table`, the doc's token columns, when the pipeline has already read them).

        Needs `bind` with the pipeline's strings first.
        """
        lookup = self.lookup
        if lookup is None:
            raise RuntimeError("bind the model to the pipeline's strings first")
        _, rows = self._block_rows([_word_ids(table or TokenTable(doc), lookup)])
        return rows

    def word_scores(self, tables: Sequence[TokenTable]) -> np.ndarray:
        """Each passage's theme scores from its words alone (passages x themes), for a batch of
        passages at once: the part of `logits` that does not depend on the rules' verdict.

        Per passage, the lookups, the gather and the hidden layer were a dozen numpy calls of a
        microsecond or more each, about a fifth of the tagging time; over a batch they are the
        same dozen calls. Each passage's rows are summed in the order `doc_rows` gives them, as
        `logits` sums them.
        """
        lookup = self.lookup
        if lookup is None:
            raise RuntimeError("bind the model to the pipeline's strings first")
        ids_by_passage = [_word_ids(table, lookup) for table in tables]
        totals = np.zeros((len(tables), lookup.weights.shape[1]), dtype=np.float32)
        # a block of passages at a time, so that the gathered weights stay in the CPU cache
        for first in range(0, len(tables), SCORE_BLOCK):
            block = ids_by_passage[first : first + SCORE_BLOCK]
            owners, rows = self._block_rows(block)
            if len(rows):
                starts = np.flatnonzero(np.concatenate(([True], owners[1:] != owners[:-1])))
                sums = np.add.reduceat(lookup.weights[rows], starts)
                totals[first + owners[starts]] = sums
        return self._word_part(totals)

    def _block_rows(self, ids_by_passage: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """(passage, row) of each distinct vocabulary row of each passage, in order, from the
        passages' words as indices among the model's words."""
        lookup = self.lookup
        assert lookup is not None
        unknown = len(lookup.word_index)
        lengths = np.array([len(ids) for ids in ids_by_passage], dtype=np.int64)
        ids = np.fromiter(chain.from_iterable(ids_by_passage), np.int64, int(lengths.sum()))
        passage = np.repeat(np.arange(len(ids_by_passage)), lengths)
        words = ids >= 0  # tokens that are not words (punctuation, numbers, ...) are -1
        ids, passage = ids[words], passage[words]
        unigrams = lookup.unigram_rows[ids]
        known = unigrams >= 0
        # bigrams only of words next to each other in the same passage
        inside = passage[:-1] == passage[1:]
        pairs = (ids[:-1] * (unknown + 1) + ids[1:])[inside]
        at = lookup.bigram_codes.searchsorted(pairs)
        found = lookup.bigram_codes[at] == pairs
        size = len(lookup.weights)
        # passage * size + row: one sort leaves each passage's distinct rows in order
        keys = np.unique(
            np.concatenate(
                (
                    passage[known] * size + unigrams[known],
                    passage[:-1][inside][found] * size + lookup.bigram_rows[at[found]],
                )
            )
        )
        owners, rows = np.divmod(keys, size)
        return owners, rows

    def _word_part(self, totals: np.ndarray) -> np.ndarray:
        """Scores from passages' summed word and hidden weights (passages x (themes + units)).

        The hidden layer's output is added one unit at a time, not by a matrix product, whose
        summation order depends on how many passages there are: a passage then scores the
        same to the bit whether tagged alone or in a batch.
        """
        width = len(self.themes)
        units = np.maximum(totals[:, width:] + self.hidden_bias, 0.0)
        out = totals[:, :width].copy()
        for k in np.flatnonzero(units.any(axis=0)).tolist():
            out += units[:, k, None] * self.hidden_out[k]
        return out

    def rule_part(self, rules: np.ndarray) -> np.ndarray:
        """Each theme's bias plus what the rules' verdict adds to its score: the verdict on the
        theme itself, and the verdict on every theme (labels go together: coercive control is
        domestic abuse, a pre-birth assessment is about injury to babies)."""
        return np.asarray(
            self.bias
            + rules @ self.rules
            + (rules * self.rules_by_theme).sum(axis=1)
            + rules.reshape(-1) @ self.rules_across
        )

    def verdict_part(
        self, tagged: dict[str, list[ThemeHit]], hits: Sequence[ThemeHit]
    ) -> np.ndarray:
        """`rule_part` of the passage's `rule_matrix`, found by the set of that matrix's cells
        that are 1: most passages share a verdict with one seen before, and building the whole
        matrix only to look it up was a good share of the time the model took per passage."""
        index = self.theme_index
        width = len(RULE_FEATURES)
        cells: set[int] = set()
        for theme, theme_hits in tagged.items():
            row = index.get(theme)
            if row is not None:
                cells.update(_tagged_cells(row, theme_hits))
        for hit in hits:
            row = index.get(hit.theme)
            if row is not None:
                cells.add(row * width + (3 if hit.counts else 2))
        key = frozenset(cells)
        z = self.verdict_scores.get(key)
        if z is None:
            rules = np.zeros((len(self.themes), width), dtype=np.float32)
            for cell in key:
                rules[divmod(cell, width)] = 1.0
            z = self.rule_part(rules)
            if len(self.verdict_scores) >= RULE_SCORES_KEPT:
                self.verdict_scores.clear()
            self.verdict_scores[key] = z
        return z

    def strongest_source(self, tagged: dict[str, list[ThemeHit]], column: int) -> str | None:
        """The theme tagged by the rules whose verdict raises this column's score most, if any
        raises it."""
        best: tuple[float, str] | None = None
        for theme, hits in tagged.items():
            row = self.theme_index.get(theme)
            if row is None or not hits:
                continue
            raised = float(self.rules_across[_tagged_cells(row, hits), column].sum())
            if raised > 0 and (best is None or raised > best[0]):
                best = (raised, theme)
        return best[1] if best else None

    def logits(self, rows: Sequence[int] | np.ndarray, rules: np.ndarray) -> np.ndarray:
        """Each theme's score before the sigmoid, from the passage's vocabulary rows and the
        rules' verdict."""
        rows = list(rows)
        if self.lookup is not None:
            total = self.lookup.weights[rows].sum(axis=0, dtype=np.float32)
        else:
            total = np.concatenate((self.words[rows], self.hidden[rows]), axis=1).sum(
                axis=0, dtype=np.float32
            )
        return np.asarray(self.rule_part(rules) + self._word_part(total[None])[0])

    def probabilities(self, rows: Sequence[int] | np.ndarray, rules: np.ndarray) -> np.ndarray:
        """Each theme's probability, from the passage's vocabulary rows and the rules' verdict."""
        return sigmoid(self.logits(rows, rules))

    def over_threshold(
        self, rows: Sequence[int] | np.ndarray, rules: np.ndarray
    ) -> list[tuple[int, float]]:
        """(column, probability) of each theme at or over the threshold, in column order: what
        `probabilities` gives there, with the sigmoid paid only for the few themes near it."""
        return self.tagged(self.logits(rows, rules))

    def tagged(self, z: np.ndarray) -> list[tuple[int, float]]:
        """(column, probability) of each theme whose score `z` reaches the threshold."""
        near = (z >= self.logit_floor).nonzero()[0]
        if not len(near):
            return []
        chosen = z[near]
        # these logits are far above -30, and above 30 the sigmoid is 1.0 with or without the
        # clip, so leaving `sigmoid`'s clip out changes nothing here
        p = 1.0 / (1.0 + np.exp(-chosen))
        keep = p >= self.threshold
        return list(zip(near[keep].tolist(), p[keep].tolist(), strict=True))

    @cached_property
    def theme_index(self) -> dict[str, int]:
        """Theme -> column."""
        return _theme_index(self.themes)

    @cached_property
    def logit_floor(self) -> float:
        """A logit a little under the threshold's: a theme below it cannot reach the threshold."""
        t = min(max(self.threshold, 1e-6), 1 - 1e-6)
        return math.log(t / (1 - t)) - 0.01

    def doc_evidence_rows(
        self, doc: Doc, table: TokenTable | None = None
    ) -> list[tuple[int, tuple[int, int]]]:
        """The passage's vocabulary rows with each one's first token span, in the order
        `passage_keys` first meets them: what `evidence` needs, from token arrays."""
        lookup = self.lookup
        if lookup is None:
            raise RuntimeError("bind the model to the pipeline's strings first")
        unigrams, bigrams, eligible = self.unigrams, lookup.bigrams, lookup.evidence_unigrams
        found: dict[int, tuple[int, int]] = {}
        following: dict[int, int] | None = None
        start = 0
        for i, word in _passage_positions(table or TokenTable(doc), lookup.is_word):
            row = unigrams.get(word)
            if row is not None and row in eligible and row not in found:
                found[row] = (i, i + 1)
            if following is not None:
                row = following.get(word)
                if row is not None and row not in found:
                    found[row] = (start, i + 1)
            following = bigrams.get(word)
            start = i
        return list(found.items())

    def evidence(
        self, found: list[tuple[int, tuple[int, int]]], theme: str, limit: int = EVIDENCE_WORDS
    ) -> list[tuple[int, int]]:
        """Token spans of the passage's words that most raised this theme's score, from its
        vocabulary rows with their first spans (`doc_evidence_rows`)."""
        column = self.themes.index(theme)
        if not found:
            return []
        rows = [j for j, _ in found]
        # each word's share of the score: its own weight plus what it adds through the hidden
        # units this passage switches on
        width = len(self.themes)
        if self.lookup is not None:
            # one gather of word and hidden weights together (see `logits`)
            gathered = self.lookup.weights[rows]
            own, hidden = gathered[:, column], gathered[:, width:]
        else:
            own, hidden = self.words[rows, column], self.hidden[rows]
        active = self.hidden_bias + hidden.sum(axis=0) > 0
        shares = own + hidden[:, active] @ self.hidden_out[active, column]
        weighted = [
            (share, span)
            for share, (_, span) in zip(shares.tolist(), found, strict=True)
            if share > 0
        ]
        weighted.sort(key=lambda item: (-item[0], item[1]))
        spans: list[tuple[int, int]] = []
        for _, (start, end) in weighted:
            if any(start < e and s < end for s, e in spans):
                continue
            spans.append((start, end))
            if len(spans) == limit:
                break
        return sorted(spans)


def _tagged_cells(row: int, hits: Sequence[ThemeHit]) -> list[int]:
    """The cells of the flattened verdict that are 1 for a theme the rules tagged with `hits`:
    tagged, and tagged on strong evidence when any hit is not weak (see `rule_matrix`)."""
    first = row * len(RULE_FEATURES)
    return [first, first + 1] if any(not h.weak for h in hits) else [first]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, clipped so that no logit overflows `exp` (training shares it)."""
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0))))


_FLAG_ATTRS = (IS_PUNCT, IS_SPACE, LIKE_NUM, IS_QUOTE, IS_BRACKET)
_IS_WORD_KEPT = 200_000


def _word_flags(table: TokenTable, is_word: dict[int, bool]) -> list[bool]:
    """Per token: is it a word as `passage_keys` counts words (not punctuation, a space, a
    number, a quote or a bracket)?

    Those flags do not depend on case, so they are cached by lower-case form, which spares
    going through five attribute columns for every passage.
    """
    table.load({LEMMA, LOWER})
    lowers = table.columns[LOWER]
    try:
        return [is_word[lower] for lower in lowers]
    except KeyError:
        if len(is_word) > _IS_WORD_KEPT:
            is_word.clear()
        table.load(set(_FLAG_ATTRS))
        flags = zip(*(table.columns[attr] for attr in _FLAG_ATTRS), strict=True)
        for lower, token_flags in zip(lowers, flags, strict=True):
            is_word[lower] = not any(token_flags)
        return [is_word[lower] for lower in lowers]


def _word_ids(table: TokenTable, lookup: _Lookup) -> list[int]:
    """Per token, the index among the model's words of the word `passage_keys` reads there (its
    lemma, or its lower-case form if it has none; K, the number of words, for a word the model
    does not know; -1 for a token that is not a word), from one dict lookup per token.

    That depends only on the token's lower-case form, since the pipeline's lemma does (the
    lookup lemmatizer lower-cases first; a test checks it), so it is kept by that form.
    """
    table.load({LEMMA, LOWER})
    lowers = table.columns[LOWER]
    codes = lookup.word_codes
    try:
        return [codes[lower] for lower in lowers]
    except KeyError:
        if len(codes) > _IS_WORD_KEPT:
            codes.clear()
        index, unknown = lookup.word_index, len(lookup.word_index)
        flags = _word_flags(table, lookup.is_word)
        for lemma, lower, word in zip(table.columns[LEMMA], lowers, flags, strict=True):
            if lower not in codes:
                codes[lower] = index.get(lemma or lower, unknown) if word else -1
        return [codes[lower] for lower in lowers]


def _passage_positions(table: TokenTable, is_word: dict[int, bool]) -> list[tuple[int, int]]:
    """The passage's words as in `passage_keys` (a token's lemma, or its lower-case form if it
    has none), as string ids, each with its token index."""
    flags = _word_flags(table, is_word)
    columns = table.columns
    return [
        (i, lemma or lower)
        for i, (lemma, lower, word) in enumerate(
            zip(columns[LEMMA], columns[LOWER], flags, strict=True)
        )
        if word
    ]


@dataclass(frozen=True)
class _Lookup:
    """What a bound model keeps for scoring passages fast."""

    # bigram rows by first word, then second: most words start no bigram, so one dict miss
    # settles them, where a (first, second) tuple key costs a tuple and its hash per pair
    bigrams: dict[int, dict[int, int]]
    weights: np.ndarray  # vocab x (themes + units): word weights, then hidden-layer weights
    evidence_unigrams: frozenset[int]  # unigram rows `passage_keys` would give a span
    # for `doc_rows`: each word of the vocabulary's unigrams and bigrams by string id -> its
    # index k (K words; K stands for any other word); k -> its unigram row, or -1 (K + 1 long);
    # and each bigram as the code first k * (K + 1) + second k, sorted, with its row (the codes
    # end in a sentinel above any code, so a search never runs off the end)
    word_index: dict[int, int]
    unigram_rows: np.ndarray
    bigram_codes: np.ndarray
    bigram_rows: np.ndarray
    # lower-case form -> is a token of that form a word (see `_word_flags`)
    is_word: dict[int, bool] = field(default_factory=dict)
    # lower-case form -> its index among the model's words, or -1 (see `_word_ids`)
    word_codes: dict[int, int] = field(default_factory=dict)

    @classmethod
    def build(cls, model: ThemeModel, evidence_unigrams: set[int]) -> _Lookup:
        bigrams: dict[int, dict[int, int]] = {}
        for (first, second), row in model.bigrams.items():
            bigrams.setdefault(first, {})[second] = row
        known = set(model.unigrams)
        for first, second in model.bigrams:
            known.update((first, second))
        word_index = {word: k for k, word in enumerate(sorted(known))}
        size = len(word_index) + 1
        unigram_rows = np.full(size, -1, dtype=np.int64)
        for word, row in model.unigrams.items():
            unigram_rows[word_index[word]] = row
        codes = np.array(
            [word_index[first] * size + word_index[second] for first, second in model.bigrams],
            dtype=np.int64,
        )
        rows = np.array(list(model.bigrams.values()), dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        return cls(
            bigrams=bigrams,
            weights=np.ascontiguousarray(np.concatenate([model.words, model.hidden], axis=1)),
            evidence_unigrams=frozenset(evidence_unigrams),
            word_index=word_index,
            unigram_rows=unigram_rows,
            bigram_codes=np.append(codes[order], np.iinfo(np.int64).max),
            bigram_rows=np.append(rows[order], -1),
        )
