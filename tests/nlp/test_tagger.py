"""tag_document on real Documents: passages tagged, document summary, nothing mutated."""

from __future__ import annotations

from pathlib import Path

import pytest
from nlp_fixtures import small_taxonomy

from nlp.analysis import lemma_text
from nlp.tagger import tag_document, tag_documents
from nlp.taxonomy import Taxonomy, load_taxonomy
from reviewlens.model import Document, Passage, Recommendation

TEXTS = [
    ("The health visitor saw a bruise on the baby's ear and told the GP.", "chronology"),
    ("There was no evidence of neglect at any of the home visits.", "analysis"),
    ("Information sharing between the police and the GP was a strength.", "good_practice"),
    ("The Bruising protocol was not followed: a missed opportunity.", "findings"),
    ("The partnership should ensure that the bruising protocol is relaunched.", "analysis"),
    ("Recommendation 1: Agencies should share information about fathers.", "recommendations"),
]


@pytest.fixture(scope="module")
def taxonomy(tmp_path_factory: pytest.TempPathFactory) -> Taxonomy:
    return small_taxonomy(tmp_path_factory.mktemp("taxonomy"))


def make_document(texts: list[tuple[str, str]] = TEXTS, doc_id: str = "d" * 64) -> Document:
    return Document(
        id=doc_id,
        file_name="review.txt",
        media_type="text/plain",
        size_bytes=100,
        passages=[
            Passage(index=i, text=text, section_kind=kind, page=1 + i // 3)  # type: ignore[arg-type]
            for i, (text, kind) in enumerate(texts)
        ],
        recommendations=[
            Recommendation(number="1", text=TEXTS[5][0], passage_index=5),
        ],
    )


def test_tag_document_tags_every_passage(taxonomy: Taxonomy) -> None:
    original = make_document()
    before = original.model_dump()
    tagged = tag_document(original, taxonomy)
    assert original.model_dump() == before  # a new document; the input is untouched
    passages = tagged.passages
    assert [p.lemmas for p in passages] == [lemma_text(text) for text, _ in TEXTS]
    assert [sorted(t.id for t in p.themes) for p in passages] == [
        ["bruising"],
        [],
        ["information_sharing"],
        ["bruising"],
        ["bruising"],
        ["information_sharing"],
    ]
    first = passages[0].themes[0]
    assert first.label == "Bruising"
    assert first.evidence == ["bruise"]
    assert first.taxonomy_version == taxonomy.version
    start, end = first.spans[0]
    assert passages[0].text[start:end] == "bruise"
    assert passages[0].agencies == ["GP"]
    assert passages[2].agencies == ["police", "GP"]
    assert [p.stance for p in passages] == [
        None,
        None,
        "worked_well",
        "worried",
        "needs_to_happen",
        "needs_to_happen",
    ]
    assert [p.is_recommendation for p in passages] == [False, False, False, False, True, True]


def test_document_level_themes_and_summary(taxonomy: Taxonomy) -> None:
    tagged = tag_document(make_document(), taxonomy)
    assert tagged.themes == {"bruising": 3, "information_sharing": 2}
    assert tagged.taxonomy_version == taxonomy.version
    assert tagged.theme_summary["bruising"].passages == 3
    assert tagged.theme_summary["bruising"].evidence.lower() in {"bruise", "bruising"}
    assert tagged.theme_summary["information_sharing"].evidence in {
        "Information sharing",
        "share information",
    }


def test_recommendations_found_outside_their_section_become_records(taxonomy: Taxonomy) -> None:
    tagged = tag_document(make_document(), taxonomy)
    by_passage = {r.passage_index: r for r in tagged.recommendations}
    assert set(by_passage) == {4, 5}  # 5 came from ingest and is not duplicated
    assert by_passage[4].text == TEXTS[4][0]
    assert by_passage[4].page == 2
    assert by_passage[5].number == "1"


def test_retagging_with_an_edited_taxonomy_changes_versions(tmp_path: Path) -> None:
    first = small_taxonomy(tmp_path)
    text = (tmp_path / "taxonomy.yaml").read_text().replace("[bruise]", "[bruise, fracture]")
    second = small_taxonomy(tmp_path, text)
    doc = make_document([("The bruise and the fracture.", "analysis")])
    a, b = tag_document(doc, first), tag_document(doc, second)
    assert a.taxonomy_version != b.taxonomy_version
    assert a.passages[0].themes[0].evidence == ["bruise"]
    assert b.passages[0].themes[0].evidence == ["bruise", "fracture"]


def test_default_taxonomy_tags_review_style_text() -> None:
    texts = [
        (
            "Nobody asked about the mother's new partner, who was living in the household.",
            "analysis",
        ),
        ("There was no evidence of parental substance misuse.", "analysis"),
        ("The baby, aged eight weeks and not yet mobile, had a bruise on the cheek.", "chronology"),
    ]
    tagged = tag_document(make_document(texts), load_taxonomy())
    ids = [{t.id for t in p.themes} for p in tagged.passages]
    assert "fathers_invisible_men" in ids[0]
    assert "substance_misuse" not in ids[1]
    assert "bruising_non_mobile" in ids[2]


def test_tag_documents_in_parallel_matches_serial(taxonomy: Taxonomy) -> None:
    docs = [make_document(doc_id=str(i) * 64) for i in range(4)]
    serial = tag_documents(docs, taxonomy, n_process=1)
    parallel = tag_documents(docs, taxonomy, n_process=2)
    assert [d.model_dump() for d in parallel] == [d.model_dump() for d in serial]
    assert [d.id for d in parallel] == [d.id for d in docs]
