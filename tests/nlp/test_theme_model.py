"""The trained theme classifier: how it combines with the rules, its evidence, and training."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from nlp_fixtures import small_taxonomy

from nlp.eval.agreement import Labels
from nlp.evaluate import EVAL_SET, EXTRA_DEV, load_examples
from nlp.pipeline import THEMES as THEMES_PIPE
from nlp.pipeline import new_pipeline
from nlp.taxonomy import Taxonomy
from nlp.theme_model import FEATURE_VERSION, RULE_FEATURES, ThemeModel
from nlp.train_model import agreed, second_reading, train

THEMES = ("neglect", "bruising", "domestic_abuse", "coercive_control")  # not information_sharing


def write_model(
    path: Path,
    words: dict[str, dict[str, float]],
    bias: float = -4.0,
    trust_rules: float = 8.0,
    veto: dict[str, float] | None = None,
    units: dict[str, float] | None = None,
    unit_out: dict[str, float] | None = None,
    across: dict[tuple[str, str], float] | None = None,
) -> Path:
    """A hand-set model: a bias per theme, some word weights, a weight on the rules' tag,
    optionally one hidden unit (`units`: word -> weight into it; `unit_out`: theme -> weight out)
    and weights from the rules' tag of one theme to another's score (`across`: (from, to)).
    """
    shared = np.zeros(len(RULE_FEATURES), dtype=np.float32)
    shared[RULE_FEATURES.index("tagged")] = trust_rules
    own = np.zeros((len(THEMES), len(RULE_FEATURES)), dtype=np.float32)
    for theme, weight in (veto or {}).items():
        own[THEMES.index(theme), RULE_FEATURES.index("tagged")] = weight
    vocab = sorted(set(words) | set(units or {}))
    weights = np.zeros((len(vocab), len(THEMES)), dtype=np.float32)
    for row, key in enumerate(vocab):
        for theme, weight in words.get(key, {}).items():
            weights[row, THEMES.index(theme)] = weight
    width = 1 if units else 0
    hidden = np.zeros((len(vocab), width), dtype=np.float32)
    hidden_out = np.zeros((width, len(THEMES)), dtype=np.float32)
    for key, weight in (units or {}).items():
        hidden[vocab.index(key), 0] = weight
    for theme, weight in (unit_out or {}).items():
        hidden_out[0, THEMES.index(theme)] = weight
    across_weights = np.zeros((len(THEMES) * len(RULE_FEATURES), len(THEMES)), dtype=np.float32)
    for (source, target), weight in (across or {}).items():
        cell = THEMES.index(source) * len(RULE_FEATURES) + RULE_FEATURES.index("tagged")
        across_weights[cell, THEMES.index(target)] = weight
    ThemeModel(
        themes=THEMES,
        vocab={k: i for i, k in enumerate(vocab)},
        words=weights,
        bias=np.full(len(THEMES), bias, dtype=np.float32),
        rules=shared,
        rules_by_theme=own,
        rules_across=across_weights,
        hidden=hidden,
        hidden_bias=np.zeros(width, dtype=np.float32),
        hidden_out=hidden_out,
        threshold=0.5,
        meta={"feature_version": FEATURE_VERSION, "rule_features": list(RULE_FEATURES)},
    ).save(path)
    return path


@pytest.fixture
def taxonomy(tmp_path: Path) -> Taxonomy:
    return small_taxonomy(tmp_path)


def test_rules_tags_stand_when_the_model_trusts_them(tmp_path: Path, taxonomy: Taxonomy) -> None:
    nlp = new_pipeline(taxonomy, theme_model=str(write_model(tmp_path / "m.npz", {})))
    doc = nlp("The bruise on her cheek was not explained.")
    assert set(doc._.themes) == {"bruising"}
    # the rules' own evidence is kept
    assert [doc[h.start : h.end].text for h in doc._.themes["bruising"]] == ["bruise"]


def test_the_model_adds_a_theme_the_rules_missed_with_its_words_as_evidence(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    words = {"u:unwashed": {"neglect": 3.0}, "b:food in": {"neglect": 2.0}}
    nlp = new_pipeline(taxonomy, theme_model=str(write_model(tmp_path / "m.npz", words)))
    text = "Her uniform was unwashed and there was rarely food in the cupboards."
    rules_only = new_pipeline(taxonomy, theme_model="")
    assert "neglect" not in rules_only(text)._.themes
    doc = nlp(text)
    assert set(doc._.themes) == {"neglect"}
    evidence = [doc[h.start : h.end].text for h in doc._.themes["neglect"]]
    assert evidence == ["unwashed", "food in"]
    assert all(h.cue == "model" for h in doc._.themes["neglect"])
    # one word alone is not enough at this bias
    assert "neglect" not in nlp("Her uniform was unwashed.")._.themes


def test_the_rules_verdict_on_one_theme_can_tag_another_with_its_evidence(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    path = write_model(tmp_path / "m.npz", {}, across={("bruising", "neglect"): 8.0})
    nlp = new_pipeline(taxonomy, theme_model=str(path))
    doc = nlp("The bruise on her cheek was not explained.")
    assert set(doc._.themes) == {"bruising", "neglect"}
    assert [doc[h.start : h.end].text for h in doc._.themes["neglect"]] == ["bruise"]
    assert all(h.cue == "model" for h in doc._.themes["neglect"])
    # a bruise the rules ruled out raises nothing
    assert set(nlp("There was no bruise on her cheek.")._.themes) == set()
    without = write_model(tmp_path / "plain.npz", {})
    plain = new_pipeline(taxonomy, theme_model=str(without))
    assert set(plain("The bruise on her cheek was not explained.")._.themes) == {"bruising"}


def test_the_model_can_overrule_a_rules_tag(tmp_path: Path, taxonomy: Taxonomy) -> None:
    path = write_model(tmp_path / "m.npz", {}, veto={"bruising": -9.0})
    nlp = new_pipeline(taxonomy, theme_model=str(path))
    doc = nlp("The bruise was seen by the GP.")
    assert "bruising" not in doc._.themes
    # the evidence trail still shows the rules' hit
    assert [h.theme for h in doc._.theme_hits] == ["bruising"]


def test_a_shared_hidden_unit_can_set_aside_every_theme(tmp_path: Path, taxonomy: Taxonomy) -> None:
    # one unit, switched on by "table", pulls every theme down: a table of figures names themes
    # without being about them
    out = dict.fromkeys(THEMES, -20.0)
    path = write_model(tmp_path / "m.npz", {}, units={"u:table": 1.0}, unit_out=out)
    nlp = new_pipeline(taxonomy, theme_model=str(path))
    assert nlp("Table 3: bruise 12, neglect 9.")._.themes == {}
    assert set(nlp("The bruise on his ear was not explained.")._.themes) == {"bruising"}


def test_evidence_counts_what_a_word_adds_through_the_hidden_unit(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    # "cupboard" has no weight of its own for neglect, only through the unit it switches on
    words = {"u:hungry": {"neglect": 3.0}}
    units = {"u:cupboard": 2.0}
    path = write_model(tmp_path / "m.npz", words, units=units, unit_out={"neglect": 1.0})
    nlp = new_pipeline(taxonomy, theme_model=str(path))
    doc = nlp("The cupboard was bare and the boys were hungry at school.")
    assert [doc[h.start : h.end].text for h in doc._.themes["neglect"]] == ["cupboard", "hungry"]


def test_the_model_never_brings_back_a_negated_mention(tmp_path: Path, taxonomy: Taxonomy) -> None:
    words = {"u:abuse": {"domestic_abuse": 9.0}, "u:partner": {"domestic_abuse": 9.0}}
    nlp = new_pipeline(taxonomy, theme_model=str(write_model(tmp_path / "m.npz", words)))
    assert nlp("There was no evidence of domestic abuse by her partner.")._.themes == {}
    # the same words with no mention the rules ruled out do tag
    assert set(nlp("Her partner's abuse went on for years.")._.themes) == {"domestic_abuse"}


def test_themes_the_model_does_not_know_stay_with_the_rules(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    nlp = new_pipeline(taxonomy, theme_model=str(write_model(tmp_path / "m.npz", {})))
    doc = nlp("Information sharing between the police and the GP was prompt.")
    assert set(doc._.themes) == {"information_sharing"}


def test_evidence_spans_do_not_overlap_and_are_limited(tmp_path: Path, taxonomy: Taxonomy) -> None:
    words = {
        "u:cold": {"neglect": 1.0},
        "b:cold house": {"neglect": 3.0},
        "u:house": {"neglect": 2.0},
        "u:hungry": {"neglect": 1.5},
        "u:dirty": {"neglect": 0.5},
    }
    nlp = new_pipeline(taxonomy, theme_model=str(write_model(tmp_path / "m.npz", words)))
    doc = nlp("A cold house, dirty rooms and hungry children.")
    spans = [(h.start, h.end) for h in doc._.themes["neglect"]]
    assert len(spans) == 3
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert doc[spans[0][0] : spans[0][1]].text == "cold house"


def test_the_shipped_model_waits_for_retraining_after_a_taxonomy_change(
    taxonomy: Taxonomy, caplog: pytest.LogCaptureFixture
) -> None:
    # the model reads the rules' verdict, so rules of another taxonomy version would mislead it
    assert new_pipeline().get_pipe(THEMES_PIPE).model is not None
    with caplog.at_level(logging.WARNING, logger="reviewlens.nlp"):
        nlp = new_pipeline(taxonomy)
    assert nlp.get_pipe(THEMES_PIPE).model is None
    assert "reviewlens train" in caplog.text


def test_a_model_with_other_features_must_be_retrained(tmp_path: Path, taxonomy: Taxonomy) -> None:
    path = write_model(tmp_path / "m.npz", {})
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    arrays["meta"] = np.array(json.dumps({**meta, "feature_version": FEATURE_VERSION + 1}))
    np.savez(tmp_path / "old.npz", **arrays)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="retrain"):
        new_pipeline(taxonomy, theme_model=str(tmp_path / "old.npz"))
    with pytest.raises(ValueError, match="does not exist"):
        new_pipeline(taxonomy, theme_model=str(tmp_path / "none.npz"))


# --- training -----------------------------------------------------------------------------------

PASSAGES = [
    ("There was no evidence of neglect in the home.", [], ["neglect"]),
    ("The home conditions were poor and the children were often hungry.", ["neglect"], []),
    ("The children were hungry and their clothes were dirty.", ["neglect"], []),
    ("The baby had a bruise on the cheek that nobody explained.", ["bruising"], []),
    ("A bruise on the baby's ear was seen by the health visitor.", ["bruising"], []),
    ("Domestic abuse was ruled out at an early stage.", [], ["domestic_abuse"]),
    ("The mother disclosed domestic abuse to the midwife.", ["domestic_abuse"], []),
    ("The father's coercive control of the mother went unrecognised.", ["coercive_control"], []),
    ("Information sharing between agencies was prompt.", ["information_sharing"], []),
    ("Nobody shared information with the school.", ["information_sharing"], []),
]


def write_set(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i, (text, themes, not_tagged) in enumerate(PASSAGES):
            row = {
                "id": f"t{i}",
                "text": text,
                "themes": themes,
                "mentions_not_tagged": not_tagged,
                "stance": None,
                "split": "dev",
                "style": "cspr",
            }
            out.write(json.dumps(row) + "\n")
        held = {"id": "h0", "text": "x", "themes": ["neglect"], "split": "heldout"}
        out.write(json.dumps(held) + "\n")
    return path


def test_check_cross_validates_and_writes_nothing(tmp_path: Path, taxonomy: Taxonomy) -> None:
    eval_set = write_set(tmp_path / "passages.jsonl")
    out = tmp_path / "model.npz"
    printed: list[str] = []
    train(eval_set, out, check=True, echo=printed.append, taxonomy=taxonomy)
    assert printed[0] == "dev: 10 passages, 5 themes"  # the heldout line is never read
    assert printed[1].startswith("rules alone")
    assert "cross-validated: micro-F1" in printed[2]
    assert not out.exists()


def test_training_is_reproducible_and_the_model_loads(tmp_path: Path, taxonomy: Taxonomy) -> None:
    eval_set = write_set(tmp_path / "passages.jsonl")
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    for out in (first, second):
        train(eval_set, out, echo=lambda _: None, taxonomy=taxonomy, min_gain=-1.0)
    assert first.read_bytes() == second.read_bytes()
    model = ThemeModel.load(first)
    assert model is not None
    assert model.themes == tuple(t.id for t in taxonomy.themes)
    assert model.meta["passages"] == 10
    nlp = new_pipeline(taxonomy, theme_model=str(first))
    assert "bruising" in nlp("A bruise was found on the baby.")._.themes


def test_weights_are_not_written_when_they_do_not_beat_the_rules(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    eval_set = write_set(tmp_path / "passages.jsonl")
    out = tmp_path / "model.npz"
    out.write_bytes(b"stale")
    printed: list[str] = []
    train(eval_set, out, echo=printed.append, taxonomy=taxonomy, min_gain=1.0)
    assert not out.exists()
    assert "falls short of the rules" in printed[-1]


def test_training_labels_are_the_themes_both_readings_tagged(tmp_path: Path) -> None:
    examples = load_examples(write_set(tmp_path / "passages.jsonl"), "dev")
    # t7 is labelled coercive_control; t9 information_sharing
    reread = {
        "t7": Labels(frozenset({"coercive_control", "domestic_abuse"}), frozenset()),
        "t9": Labels(frozenset({"neglect"}), frozenset({"information_sharing"})),
        "elsewhere": Labels(frozenset({"neglect"}), frozenset()),
    }
    out = agreed(examples, reread)
    assert [e.id for e in out] == [e.id for e in examples]
    assert (out[7].themes, out[7].not_tagged) == (frozenset({"coercive_control"}), frozenset())
    # neither reading's lone theme survives; one reading's mention stays a mention
    assert (out[9].themes, out[9].not_tagged) == (frozenset(), frozenset({"information_sharing"}))
    assert out[9].text == examples[9].text
    assert all(a == b for a, b in zip(out, examples, strict=True) if a.id not in reread)


def test_training_keeps_only_the_themes_the_second_reading_also_tagged(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    eval_set = write_set(tmp_path / "passages.jsonl")
    printed: dict[str, list[str]] = {"writers": [], "reread": []}
    # a second reading that tags nothing leaves no theme on any passage: the rules, which still
    # tag them, now score no true positive at all
    reading = {
        f"t{i}": Labels(frozenset(), frozenset(themes))
        for i, (_, themes, _) in enumerate(PASSAGES)
        if themes
    }
    train(
        eval_set, tmp_path / "a.npz", check=True, echo=printed["writers"].append, taxonomy=taxonomy
    )
    train(
        eval_set,
        tmp_path / "b.npz",
        check=True,
        echo=printed["reread"].append,
        taxonomy=taxonomy,
        reading=reading,
    )
    assert not any("second reading" in line for line in printed["writers"])
    assert printed["reread"][1] == (
        f"  {len(reading)} of them with only the themes a second reading also tagged"
    )
    assert "micro-F1 0.000" not in printed["writers"][1]
    assert "micro-F1 0.000" in printed["reread"][2]


def test_every_extra_passage_and_no_other_has_a_second_reading() -> None:
    # never the set's own passages (their labels are the convention), never heldout
    extra = {e.id for e in load_examples(EVAL_SET, "extra", EXTRA_DEV)}
    assert set(second_reading()) == extra


# --- scoring from token arrays ------------------------------------------------------------------

ARRAY_PASSAGES = [
    "The health visitor saw the baby at home; the health visitor did not see the father.",
    "Neglect, neglect and more neglect: the house was cold and the children were hungry.",
    "Zzyzx qwertyuiop frobnicated the snark.",  # words the model has never seen
    "Hello.",
    "...",
    "",
    "No evidence of domestic abuse was found, but the police were not told about the MARAC.",
]


def test_doc_rows_from_arrays_are_the_rows_of_passage_keys() -> None:
    from nlp.theme_model import passage_keys

    nlp = new_pipeline()
    model = nlp.get_pipe(THEMES_PIPE).model
    assert model is not None
    stop = frozenset(nlp.Defaults.stop_words)
    checked = 0
    for doc in nlp.pipe(ARRAY_PASSAGES):
        expected = sorted({model.vocab[k] for k in passage_keys(doc, stop) if k in model.vocab})
        assert model.doc_rows(doc).tolist() == expected, doc.text
        checked += bool(expected)
    assert checked >= 3  # most passages have words the model knows


def test_themes_over_the_threshold_are_those_the_probabilities_give() -> None:
    from nlp.evaluate import EVAL_SET, load_examples
    from nlp.pipeline import resolve_themes, rule_state
    from nlp.theme_model import rule_matrix

    nlp = new_pipeline()
    model = nlp.get_pipe(THEMES_PIPE).model
    assert model is not None
    texts = [e.text for e in load_examples(EVAL_SET, "dev")[:120]]
    seen_tagged = 0
    for doc in nlp.pipe(texts):
        rows = model.doc_rows(doc)
        found = resolve_themes(doc, use_model=False)
        for rules in (rule_matrix(model.themes, found, rule_state(doc).hits), None):
            if rules is None:  # the words alone
                rules = np.zeros((len(model.themes), len(RULE_FEATURES)), dtype=np.float32)
            p = model.probabilities(rows, rules)
            expected = [(int(j), float(p[j])) for j in np.flatnonzero(p >= model.threshold)]
            assert model.over_threshold(rows, rules) == expected
            seen_tagged += bool(expected)
    assert seen_tagged > 60


def test_each_source_of_dev_passages_is_scored_on_its_own() -> None:
    from nlp.evaluate import Example
    from nlp.train_model import by_source

    def example(i: int, themes: set[str]) -> Example:
        return Example(f"e{i}", "text", frozenset(themes), frozenset(), None, "dev", "cspr")

    examples = [example(0, {"neglect"}), example(1, {"neglect"}), example(2, {"bruising"})]
    predicted = [{"neglect"}, set(), {"bruising"}]
    first, second = by_source(examples, predicted, np.array([0, 0, 1]))
    assert (first.precision, first.recall) == (1.0, 0.5)
    assert second.f1 == 1.0
    (pooled,) = by_source(examples, predicted, np.array([0, 0, 0]))
    assert pooled.recall == pytest.approx(2 / 3)


def test_training_learns_a_theme_from_the_verdict_on_another() -> None:
    # every passage has the same words; the second theme is labelled exactly where the rules
    # tagged the first, so only the weights across themes can tell its passages apart
    from nlp.train_model import fit, predict

    rng = np.random.default_rng(3)
    n = 60
    first_tagged = rng.random(n) < 0.5
    rules = np.zeros((n, 2, len(RULE_FEATURES)), dtype=np.float32)
    rules[first_tagged, 0, RULE_FEATURES.index("tagged")] = 1.0
    gold = np.stack([first_tagged, first_tagged], axis=1).astype(np.float32)
    keys = [["u:same"]] * n
    vocab, params = fit(keys, rules, gold, l2=1.0)
    probabilities = predict(vocab, params, keys, rules)
    assert probabilities[first_tagged, 1].min() > 0.8
    assert probabilities[~first_tagged, 1].max() < 0.5  # the copy without the verdict: 50-50


@pytest.mark.parametrize("block", [1, 3, 64])
def test_training_products_in_blocks_are_the_dense_products(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nlp.train_model import _Sparse

    monkeypatch.setattr(_Sparse, "ROWS_PER_BLOCK", block)
    monkeypatch.setattr(_Sparse, "COLS_PER_BLOCK", block)
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(30)]
    keys = (
        [[], ["unknown"]]
        + [list(rng.choice(words, size=int(rng.integers(0, 9)))) for _ in range(40)]
        + [[]]
    )
    vocab = {w: i for i, w in enumerate(words[:25])}  # five words without a weight
    dense = np.zeros((len(keys), len(vocab)), dtype=np.float32)
    for row, passage in enumerate(keys):
        for key in passage:
            if key in vocab:
                dense[row, vocab[key]] = 1.0  # binary: a repeated word counts once
    x = _Sparse(keys, vocab)
    weights = rng.normal(size=(len(vocab), 5)).astype(np.float32)
    grad = rng.normal(size=(len(keys), 5)).astype(np.float32)
    np.testing.assert_allclose(x.dot(weights), dense @ weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.t_dot(grad, len(vocab)), dense.T @ grad, rtol=1e-5, atol=1e-6)


def test_scores_from_words_for_a_batch_are_each_passage_scored_alone() -> None:
    from nlp.evaluate import EVAL_SET, load_examples
    from nlp.pipeline import token_table

    nlp = new_pipeline()
    model = nlp.get_pipe(THEMES_PIPE).model
    assert model is not None
    texts = [e.text for e in load_examples(EVAL_SET, "dev")[:150]] + ARRAY_PASSAGES
    docs = [nlp(text) for text in texts]
    tables = [token_table(doc) for doc in docs]
    batch = model.word_scores(tables)
    assert batch.shape == (len(texts), len(model.themes))
    no_verdict = np.zeros((len(model.themes), len(RULE_FEATURES)), dtype=np.float32)
    for doc, table, scores in zip(docs, tables, batch, strict=True):
        alone = model.word_scores([table])[0]
        assert np.array_equal(scores, alone), doc.text
        from_rows = model.logits(model.doc_rows(doc), no_verdict)
        np.testing.assert_allclose(
            model.rule_part(no_verdict) + alone, from_rows, rtol=0, atol=1e-5
        )
    # the batch is not one passage's scores repeated
    assert len({tuple(np.round(row, 3)) for row in batch}) > 100


def test_the_verdict_part_is_the_rule_part_of_the_rules_verdict() -> None:
    from nlp.evaluate import EVAL_SET, load_examples
    from nlp.pipeline import resolve_themes, rule_state
    from nlp.theme_model import rule_matrix

    nlp = new_pipeline()
    model = nlp.get_pipe(THEMES_PIPE).model
    assert model is not None
    texts = [e.text for e in load_examples(EVAL_SET, "dev")[:150]] + ARRAY_PASSAGES
    seen: set[bytes] = set()
    for doc in nlp.pipe(texts):
        found = resolve_themes(doc, use_model=False)
        hits = rule_state(doc).hits
        verdict = rule_matrix(model.themes, found, hits)
        seen.add(verdict.tobytes())
        for _ in range(2):  # found, then taken from the cache
            assert np.array_equal(model.verdict_part(found, hits), model.rule_part(verdict))
    assert len(seen) > 50  # many different verdicts were checked


def test_a_tokens_lemma_depends_only_on_its_lower_case_form() -> None:
    # the model keeps each token's word index by its lower-case form (`_word_ids`), which is
    # right only while the pipeline's lemma is a function of that form
    from spacy.attrs import LEMMA, LOWER

    from nlp.evaluate import EVAL_SET, EXTRA_DEV, load_examples

    nlp = new_pipeline(theme_model="")
    texts = [e.text for e in load_examples(EVAL_SET, "dev", EXTRA_DEV)[:3000]]
    texts += ["BRUISING on the Baby's ear", "Bruising on the baby's EAR", "'S 's ’s Does does"]
    lemma_of: dict[int, set[int]] = {}
    for doc in nlp.pipe(texts):
        for lemma, lower in doc.to_array([LEMMA, LOWER]).tolist():
            lemma_of.setdefault(lower, set()).add(lemma)
    assert len(lemma_of) > 5000
    assert all(len(lemmas) == 1 for lemmas in lemma_of.values())
