"""The behaviour every `SearchBackend` must show, written once.

A backend's test module provides one function-scoped fixture, `backend`: a fresh, empty instance
built with `expand=contract.data.expand`, closed and removed afterwards. It then subclasses
`BackendContract` (or single topic classes, overriding a test where an engine truly differs,
with a comment saying why). Nothing here knows which engine it is talking to.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from contract.data import ALL, ASHBY, BROOK, CASTLE, DALE, EVANS, FERN, TOTAL_PASSAGES, ref
from nlp.analysis import lemma_text
from reviewlens.errors import QueryError
from reviewlens.model import Document, Passage
from search_api.backend import (
    EmergingRequest,
    Filters,
    SearchBackend,
    SearchRequest,
    SearchResponse,
)

Ref = tuple[str, int]


def hits(response: SearchResponse) -> list[Ref]:
    return [(h.document_id, h.passage_index) for h in response.hits]


def found(backend: SearchBackend, query: str | None, **filters: Any) -> set[Ref]:
    response = backend.search(
        SearchRequest(query=query, filters=Filters(**filters), limit=1000, facets=False)
    )
    assert response.total == len(response.hits)
    return set(hits(response))


class _Loaded:
    @pytest.fixture
    def loaded(self, backend: SearchBackend) -> SearchBackend:
        assert backend.index_documents(ALL) == len(ALL)
        return backend


class IndexingContract(_Loaded):
    def test_satisfies_protocol(self, backend: SearchBackend) -> None:
        assert isinstance(backend, SearchBackend)
        assert backend.count() == 0

    def test_index_and_count(self, loaded: SearchBackend) -> None:
        assert loaded.count() == len(ALL)
        assert found(loaded, None) == {ref(d, p.index) for d in ALL for p in d.passages}

    def test_upsert_is_idempotent(self, loaded: SearchBackend) -> None:
        before = loaded.search(SearchRequest(query="neglect", limit=100))
        frequency = loaded.theme_frequency("year")
        loaded.index_documents([CASTLE, DALE])
        loaded.index_documents([CASTLE])
        after = loaded.search(SearchRequest(query="neglect", limit=100))
        assert loaded.count() == len(ALL)
        assert after.total == before.total
        assert hits(after) == hits(before)
        assert after.facets == before.facets
        assert loaded.theme_frequency("year") == frequency
        assert loaded.cooccurrence() == loaded.cooccurrence()

    def test_replacing_a_document_drops_its_old_passages(self, loaded: SearchBackend) -> None:
        revised = CASTLE.model_copy(
            update={
                "passages": [
                    Passage(
                        index=0,
                        text="Housing officers noticed the overcrowding first.",
                        lemmas=lemma_text("Housing officers noticed the overcrowding first."),
                    )
                ]
            }
        )
        loaded.index_documents([revised])
        assert found(loaded, "strategy meeting") == set()
        assert found(loaded, "overcrowding") == {ref(CASTLE, 0)}
        rows = loaded.theme_frequency("year", themes=["neglect"])
        assert [(r.key, r.documents) for r in rows] == [("2023", 1)]

    def test_get_document_round_trips(self, loaded: SearchBackend) -> None:
        assert loaded.get_document(ASHBY.id) == ASHBY
        assert loaded.get_document(FERN.id) == FERN
        assert loaded.get_document("0" * 64) is None

    def test_delete(self, loaded: SearchBackend) -> None:
        assert loaded.delete_document(ASHBY.id) is True
        assert loaded.delete_document(ASHBY.id) is False
        assert loaded.get_document(ASHBY.id) is None
        assert loaded.count() == len(ALL) - 1
        assert found(loaded, "bruising") == set()
        assert found(loaded, "information sharing") == {ref(EVANS, 2)}
        assert all(r.theme != "bruising_non_mobile" for r in loaded.theme_frequency("doc_type"))
        items = loaded.recommendations(similar=5).items
        assert all(i.document_id != ASHBY.id for i in items)
        assert all(s.document_id != ASHBY.id for i in items for s in i.similar)

    def test_health(self, loaded: SearchBackend) -> None:
        health = loaded.health()
        assert health["status"] == "ok"
        assert health["backend"] == loaded.name
        assert health["documents"] == len(ALL)


class ListingContract(_Loaded):
    def test_list_order_and_summary(self, loaded: SearchBackend) -> None:
        page = loaded.list_documents()
        assert page.total == len(ALL)
        assert [d.id for d in page.items] == [
            EVANS.id,
            DALE.id,
            BROOK.id,
            ASHBY.id,
            CASTLE.id,
            FERN.id,
        ]
        castle = page.items[4]
        assert castle.title == CASTLE.title
        assert castle.doc_type == "scr"
        assert castle.year == 2016
        assert castle.date == "2016-11-20"
        assert castle.source == "Northfield"
        assert castle.passages == 4
        assert castle.recommendations == 1
        assert castle.themes == {
            "child_exploitation": 1,
            "escalation": 1,
            "neglect": 2,
            "voice_of_child": 1,
        }

    def test_list_paging(self, loaded: SearchBackend) -> None:
        everything = [d.id for d in loaded.list_documents(limit=100).items]
        paged = [
            d.id for off in range(0, 6, 4) for d in loaded.list_documents(offset=off, limit=4).items
        ]
        assert paged == everything

    def test_list_filters(self, loaded: SearchBackend) -> None:
        def ids(**filters: Any) -> list[str]:
            return [d.id for d in loaded.list_documents(Filters(**filters)).items]

        assert ids(doc_types=["dhr", "sar"]) == [EVANS.id, BROOK.id]
        assert ids(year_from=2019, year_to=2023) == [DALE.id, BROOK.id, ASHBY.id]
        assert ids(themes=["neglect"]) == [DALE.id, CASTLE.id]
        assert ids(themes=["neglect", "voice_of_child"]) == []  # AND on the same passage
        assert ids(agencies=["school"]) == [CASTLE.id]
        assert ids(stances=["worked_well"], section_kinds=["good_practice"]) == [
            ASHBY.id,
            CASTLE.id,
        ]
        assert ids(document_ids=[FERN.id, ASHBY.id]) == [ASHBY.id, FERN.id]
        assert loaded.count(Filters(themes=["professional_curiosity"])) == 2
        assert loaded.count(Filters(year_from=2030)) == 0


class SearchContract(_Loaded):
    def test_words_are_anded_and_lemmatised(self, loaded: SearchBackend) -> None:
        # "bruised babies" and "bruising ... baby" share the lemmas bruise + baby
        assert found(loaded, "bruised babies") == {ref(ASHBY, 0), ref(ASHBY, 4)}
        assert found(loaded, "Bruising BABY") == {ref(ASHBY, 0), ref(ASHBY, 4)}
        assert found(loaded, "bruising police") == set()

    def test_phrase(self, loaded: SearchBackend) -> None:
        assert found(loaded, '"professional curiosity"') == {ref(ASHBY, 1), ref(FERN, 0)}
        assert found(loaded, '"hidden men"') == {ref(ASHBY, 1)}  # lemmas: hide man
        assert found(loaded, '"curiosity professional"') == set()
        assert found(loaded, '"health police"') == set()  # both words, not adjacent

    def test_or_and_not(self, loaded: SearchBackend) -> None:
        assert found(loaded, "MARAC OR hoarding") == {ref(BROOK, 1), ref(EVANS, 1)}
        assert found(loaded, "neglect AND school") == {ref(CASTLE, 2)}
        neglect = found(loaded, "neglect")
        assert neglect == {
            ref(CASTLE, 0),
            ref(CASTLE, 2),
            ref(DALE, 1),
            ref(EVANS, 0),
            ref(EVANS, 1),
            ref(EVANS, 2),
        }
        assert found(loaded, "neglect -self") == {ref(CASTLE, 0), ref(CASTLE, 2), ref(DALE, 1)}
        assert found(loaded, "neglect NOT school") == neglect - {ref(CASTLE, 2)}
        assert found(loaded, 'neglect -"self neglect"') == found(loaded, "neglect -self")
        assert found(loaded, "(hoarding OR chronic) neglect") == {ref(CASTLE, 0), ref(EVANS, 1)}
        assert found(loaded, "school neglect OR MARAC") == {ref(CASTLE, 2), ref(BROOK, 1)}

    def test_prefix(self, loaded: SearchBackend) -> None:
        # escalated -> escalate, escalation: both start with "escalat"
        assert found(loaded, "escalat*") == {ref(ASHBY, 3), ref(CASTLE, 2)}
        assert found(loaded, "escalat* -health") == {ref(CASTLE, 2)}
        assert found(loaded, "zzq*") == set()

    def test_abbreviation_expansion(self, loaded: SearchBackend) -> None:
        # "CSE" is written out in Castle and abbreviated in Dale; the expansion finds both
        assert found(loaded, "CSE") == {ref(CASTLE, 1), ref(DALE, 2)}
        assert found(loaded, '"CSE"') == {ref(DALE, 2)}  # phrases are literal
        assert found(loaded, "DA training") == {ref(BROOK, 3)}

    def test_user_syntax_never_reaches_the_engine(self, loaded: SearchBackend) -> None:
        for query in ["NEAR(neglect school)", "text:neglect", "neglect^2", "{neglect}", "a:b"]:
            loaded.search(SearchRequest(query=query))
        assert found(loaded, "school's") == found(loaded, "school")
        assert found(loaded, "neglect ☺ §") == found(loaded, "neglect")  # symbols are not words

    def test_malformed_query_is_a_query_error(self, loaded: SearchBackend) -> None:
        for query in ['"neglect', "(neglect", "neglect AND", "OR neglect", "", "-neglect"]:
            with pytest.raises(QueryError):
                loaded.search(SearchRequest(query=query))

    def test_hit_fields(self, loaded: SearchBackend) -> None:
        response = loaded.search(SearchRequest(query="hoarding"))
        assert response.total == 1
        hit = response.hits[0]
        passage = EVANS.passages[1]
        assert (hit.document_id, hit.passage_index) == ref(EVANS, 1)
        assert hit.title == EVANS.title
        assert hit.doc_type == "sar"
        assert hit.year == 2024
        assert (hit.page, hit.paragraph, hit.section) == (5, "2.4", "Findings")
        assert hit.section_kind == "findings"
        assert hit.stance == "worried"
        assert hit.text == passage.text
        assert hit.themes == ["self_neglect", "transitions"]
        assert hit.agencies == ["health"]

    def test_relevance_prefers_more_matches(self, loaded: SearchBackend) -> None:
        response = loaded.search(SearchRequest(query="neglect OR self OR hoarding"))
        assert hits(response)[0] == ref(EVANS, 1)  # the only passage with all three
        scores = [h.score for h in response.hits]
        assert scores == sorted(scores, reverse=True)


class FilterContract(_Loaded):
    def test_themes_are_anded(self, loaded: SearchBackend) -> None:
        assert found(loaded, None, themes=["neglect"]) == {
            ref(CASTLE, 0),
            ref(CASTLE, 2),
            ref(DALE, 1),
        }
        assert found(loaded, None, themes=["neglect", "escalation"]) == {
            ref(CASTLE, 2),
            ref(DALE, 1),
        }
        assert found(loaded, "school", themes=["neglect", "escalation"]) == {ref(CASTLE, 2)}

    def test_document_level_filters(self, loaded: SearchBackend) -> None:
        assert found(loaded, None, doc_types=["dhr"]) == {ref(BROOK, i) for i in range(4)}
        brook_dale = {ref(BROOK, i) for i in range(4)} | {ref(DALE, i) for i in range(3)}
        assert found(loaded, None, year_from=2020, year_to=2023) == brook_dale
        assert found(loaded, None, year_from=2024) == {ref(EVANS, i) for i in range(3)}
        assert found(loaded, None, year_to=2016) == {ref(CASTLE, i) for i in range(4)}
        assert found(loaded, "curiosity", document_ids=[FERN.id]) == {ref(FERN, 0)}

    def test_passage_level_filters(self, loaded: SearchBackend) -> None:
        assert found(loaded, None, agencies=["school", "gp"]) == {
            ref(CASTLE, 2),
            ref(CASTLE, 3),
            ref(BROOK, 2),
        }
        assert found(loaded, None, section_kinds=["good_practice"]) == {
            ref(ASHBY, 3),
            ref(CASTLE, 3),
        }
        assert found(loaded, None, stances=["worked_well"]) == {
            ref(ASHBY, 3),
            ref(CASTLE, 3),
            ref(DALE, 0),
            ref(DALE, 2),
        }
        assert found(loaded, "risk", stances=["worried"], agencies=["police"]) == {ref(BROOK, 1)}

    def test_unknown_values_match_nothing(self, loaded: SearchBackend) -> None:
        assert found(loaded, None, themes=["no_such_theme"]) == set()
        assert found(loaded, None, agencies=["no such agency"]) == set()


class FacetContract(_Loaded):
    def test_facets_count_all_matches_not_the_page(self, loaded: SearchBackend) -> None:
        response = loaded.search(SearchRequest(query="neglect", limit=1))
        assert response.total == 6
        assert len(response.hits) == 1
        facets = response.facets
        assert facets["theme"] == {
            "self_neglect": 3,
            "escalation": 2,
            "neglect": 3,
            "information_sharing": 1,
            "mental_capacity": 1,
            "transitions": 1,
        }
        assert list(facets["theme"])[:2] == ["neglect", "self_neglect"]  # count, then name
        assert facets["doc_type"] == {"sar": 3, "scr": 2, "ofsted_ilacs": 1}
        assert facets["year"] == {"2024": 3, "2016": 2, "2023": 1}
        assert facets["agency"] == {
            "children's social care": 2,
            "school": 1,
            "adult social care": 1,
            "health": 1,
        }
        assert facets["stance"] == {"worried": 5, "needs_to_happen": 1}
        assert facets["section_kind"] == {"findings": 5, "recommendations": 1}

    def test_facets_follow_filters(self, loaded: SearchBackend) -> None:
        response = loaded.search(
            SearchRequest(query="neglect", filters=Filters(doc_types=["scr", "ofsted_ilacs"]))
        )
        assert response.facets["doc_type"] == {"scr": 2, "ofsted_ilacs": 1}
        assert response.facets["theme"] == {"neglect": 3, "escalation": 2}

    def test_no_facets_when_not_asked(self, loaded: SearchBackend) -> None:
        response = loaded.search(SearchRequest(query="neglect", facets=False))
        assert response.facets == {}


class HighlightContract(_Loaded):
    def test_marks_lemma_matches(self, loaded: SearchBackend) -> None:
        hit = loaded.search(SearchRequest(query='"hidden men" curiosity')).hits[0]
        html = " ".join(hit.highlights)
        assert "<mark>hidden man</mark>" in html
        assert "<mark>curiosity</mark>" in html
        for start, end in hit.match_offsets:
            assert hit.text[start:end] in {"hidden man", "curiosity"}

    def test_document_text_is_escaped(self, loaded: SearchBackend) -> None:
        hit = loaded.search(SearchRequest(query="GP record")).hits[0]
        html = " ".join(hit.highlights)
        assert "<script" not in html
        assert "&lt;script&gt;" in html
        assert "&amp;" in html
        assert "<mark>GP</mark>" in html
        assert "<mark>record</mark>" in html

    def test_prefix_marks_every_word_it_matches(self, loaded: SearchBackend) -> None:
        hit = loaded.search(SearchRequest(query="escalat* -school")).hits[0]
        assert (hit.document_id, hit.passage_index) == ref(ASHBY, 3)
        html = " ".join(hit.highlights)
        assert "<mark>escalated</mark>" in html
        assert "<mark>escalation</mark>" in html
        assert [hit.text[s:e] for s, e in hit.match_offsets] == ["escalated", "escalation"]

    def test_expansion_is_marked(self, loaded: SearchBackend) -> None:
        response = loaded.search(SearchRequest(query="CSE", limit=10))
        by_doc = {h.document_id: " ".join(h.highlights) for h in response.hits}
        assert "<mark>child sexual exploitation</mark>" in by_doc[CASTLE.id]
        assert "<mark>CSE</mark>" in by_doc[DALE.id]


class PagingContract(_Loaded):
    def test_pages_partition_the_results(self, loaded: SearchBackend) -> None:
        full = loaded.search(SearchRequest(query=None, limit=1000))
        assert full.total == TOTAL_PASSAGES
        assert hits(full) == sorted(hits(full))  # no query: document id, passage index
        paged: list[Ref] = []
        for offset in range(0, TOTAL_PASSAGES + 5, 5):
            page = loaded.search(SearchRequest(query=None, offset=offset, limit=5))
            assert page.total == TOTAL_PASSAGES
            paged.extend(hits(page))
        assert paged == hits(full)

    def test_ranked_pages_are_stable(self, loaded: SearchBackend) -> None:
        query = "neglect OR health OR school"
        full = hits(loaded.search(SearchRequest(query=query, limit=1000)))
        assert len(full) >= 8
        paged = [
            r
            for offset in range(0, len(full), 3)
            for r in hits(loaded.search(SearchRequest(query=query, offset=offset, limit=3)))
        ]
        assert paged == full
        assert hits(loaded.search(SearchRequest(query=query, offset=len(full)))) == []


class FrequencyContract(_Loaded):
    @staticmethod
    def table(rows: list[Any]) -> dict[tuple[str, str], tuple[int, int]]:
        return {(r.theme, r.key): (r.documents, r.passages) for r in rows}

    def test_by_year_counts_documents_once(self, loaded: SearchBackend) -> None:
        rows = loaded.theme_frequency("year")
        assert [(r.theme, r.key) for r in rows] == sorted((r.theme, r.key) for r in rows)
        table = self.table(rows)
        assert table[("neglect", "2016")] == (1, 2)
        assert table[("neglect", "2023")] == (1, 1)
        assert table[("bruising_non_mobile", "2019")] == (1, 2)
        assert table[("domestic_abuse", "2021")] == (1, 3)
        assert table[("self_neglect", "2024")] == (1, 3)
        # the briefing has no year, so it is left out of a by-year table
        assert table[("professional_curiosity", "2019")] == (1, 1)
        assert {k for t, k in table if t == "professional_curiosity"} == {"2019"}
        assert sum(p for _, p in table.values()) == sum(
            len(p.themes) for d in ALL if d.year for p in d.passages
        )

    def test_by_quarter_doc_type_and_source(self, loaded: SearchBackend) -> None:
        quarter = self.table(loaded.theme_frequency("quarter"))
        assert quarter[("neglect", "2016-Q4")] == (1, 2)
        assert quarter[("neglect", "2023-Q1")] == (1, 1)
        assert quarter[("coercive_control", "2021-Q3")] == (1, 1)
        doc_type = self.table(loaded.theme_frequency("doc_type"))
        assert doc_type[("professional_curiosity", "briefing")] == (1, 1)
        assert doc_type[("professional_curiosity", "cspr")] == (1, 1)
        assert doc_type[("escalation", "scr")] == (1, 1)
        source = self.table(loaded.theme_frequency("source"))
        assert source[("escalation", "Northfield")] == (2, 2)  # Ashby and Castle
        assert source[("domestic_abuse", "Eastmoor")] == (1, 3)
        assert source[("information_sharing", "Eastmoor")] == (1, 1)
        assert source[("information_sharing", "Northfield")] == (1, 1)

    def test_filters_and_theme_selection(self, loaded: SearchBackend) -> None:
        rows = loaded.theme_frequency("source", themes=["neglect", "escalation"])
        assert self.table(rows) == {
            ("escalation", "Northfield"): (2, 2),
            ("escalation", "Westbridge"): (1, 1),
            ("neglect", "Northfield"): (1, 2),
            ("neglect", "Westbridge"): (1, 1),
        }
        worried = self.table(loaded.theme_frequency("source", Filters(stances=["worried"])))
        assert worried[("escalation", "Northfield")] == (1, 1)  # Ashby's was good practice
        by_year = self.table(loaded.theme_frequency("year", Filters(year_from=2021)))
        assert {k for _, k in by_year} == {"2021", "2023", "2024"}
        with_neglect = self.table(loaded.theme_frequency("year", Filters(themes=["neglect"])))
        assert with_neglect == {
            ("neglect", "2016"): (1, 2),
            ("neglect", "2023"): (1, 1),
            ("escalation", "2016"): (1, 1),
            ("escalation", "2023"): (1, 1),
        }

    def test_passage_filters_with_every_grouping(self, loaded: SearchBackend) -> None:
        police = self.table(loaded.theme_frequency("quarter", Filters(agencies=["police"])))
        assert police == {
            ("information_sharing", "2019-Q1"): (1, 1),
            ("coercive_control", "2021-Q3"): (1, 1),
            ("domestic_abuse", "2021-Q3"): (1, 2),
            ("risk_assessment", "2021-Q3"): (1, 1),
            ("risk_assessment", "2023-Q1"): (1, 1),
            ("child_exploitation", "2016-Q4"): (1, 1),
            ("child_exploitation", "2023-Q1"): (1, 1),
        }
        learning = loaded.theme_frequency("doc_type", Filters(section_kinds=["learning"]))
        assert self.table(learning) == {("professional_curiosity", "briefing"): (1, 1)}
        assert loaded.theme_frequency("source", Filters(section_kinds=["learning"])) == []
        findings = self.table(
            loaded.theme_frequency("source", Filters(section_kinds=["findings"]), ["neglect"])
        )
        assert findings == {("neglect", "Northfield"): (1, 2), ("neglect", "Westbridge"): (1, 1)}

    def test_cooccurrence(self, loaded: SearchBackend) -> None:
        cells = loaded.cooccurrence()
        got = {(c.theme_a, c.theme_b): (c.documents, c.passages) for c in cells}
        assert got == {
            ("hidden_men", "professional_curiosity"): (1, 1),
            ("coercive_control", "domestic_abuse"): (1, 1),
            ("domestic_abuse", "risk_assessment"): (1, 1),
            ("escalation", "neglect"): (2, 2),
            ("child_exploitation", "risk_assessment"): (1, 1),
            ("mental_capacity", "self_neglect"): (1, 1),
            ("self_neglect", "transitions"): (1, 1),
            ("information_sharing", "self_neglect"): (1, 1),
        }
        assert [(c.theme_a, c.theme_b) for c in cells] == sorted(got)
        worked_well = loaded.cooccurrence(Filters(stances=["worked_well"]))
        assert [(c.theme_a, c.theme_b, c.documents, c.passages) for c in worked_well] == [
            ("child_exploitation", "risk_assessment", 1, 1)
        ]
        with_neglect = loaded.cooccurrence(Filters(themes=["neglect"], doc_types=["scr"]))
        assert [(c.theme_a, c.theme_b, c.documents, c.passages) for c in with_neglect] == [
            ("escalation", "neglect", 1, 1)
        ]
        filtered = loaded.cooccurrence(Filters(year_to=2020))
        assert {(c.theme_a, c.theme_b) for c in filtered} == {
            ("hidden_men", "professional_curiosity"),
            ("escalation", "neglect"),
        }


class EmergingContract(_Loaded):
    def test_recent_terms_and_themes(self, loaded: SearchBackend) -> None:
        result = loaded.emerging(
            EmergingRequest(
                recent_from=2023,
                recent_to=2024,
                baseline_from=2015,
                baseline_to=2022,
                min_count=2,
            )
        )
        assert result.recent_passages == 6
        assert result.baseline_passages == 13
        terms = {t.term: t for t in result.terms}
        assert terms["self"].recent == 3
        assert terms["self"].baseline == 0
        assert "the" not in terms  # stop words are not terms
        assert all(t.recent >= 2 and t.score > 0 for t in result.terms)
        assert [t.score for t in result.terms] == sorted(
            (t.score for t in result.terms), reverse=True
        )
        themes = {t.theme: t for t in result.themes}
        assert themes["self_neglect"].recent == 3
        assert themes["self_neglect"].baseline == 0
        assert "domestic_abuse" not in themes  # only in the baseline
        assert "neglect" not in themes  # one recent passage is below min_count

    def test_filters_narrow_both_periods(self, loaded: SearchBackend) -> None:
        result = loaded.emerging(
            EmergingRequest(
                recent_from=2023,
                recent_to=2024,
                baseline_from=2015,
                baseline_to=2022,
                filters=Filters(doc_types=["sar", "dhr"]),
                min_count=1,
            )
        )
        assert result.recent_passages == 3
        assert result.baseline_passages == 4
        assert "exploitation" not in {t.term for t in result.terms}


class RecommendationContract(_Loaded):
    def test_similar_recommendations_in_other_documents(self, loaded: SearchBackend) -> None:
        page = loaded.recommendations()
        assert page.total == 6
        order = [(i.document_id, i.index) for i in page.items]
        assert order == [
            ref(EVANS, 0),
            ref(BROOK, 0),
            ref(BROOK, 1),
            ref(ASHBY, 0),
            ref(ASHBY, 1),
            ref(CASTLE, 0),
        ]
        item = {(i.document_id, i.index): i for i in page.items}
        sharing = item[ref(ASHBY, 1)]
        assert sharing.number == "2"
        assert sharing.text == ASHBY.recommendations[1].text
        assert sharing.similar[0].document_id == BROOK.id
        assert sharing.similar[0].index == 0
        assert sharing.similar[0].text == BROOK.recommendations[0].text
        assert 0.1 < sharing.similar[0].score <= 1.0
        for rec in page.items:
            assert all(s.document_id != rec.document_id for s in rec.similar)
            scores = [s.score for s in rec.similar]
            assert scores == sorted(scores, reverse=True)
        evans = item[ref(EVANS, 0)]
        assert evans.similar and evans.similar[0].document_id == ASHBY.id

    def test_filters_and_paging(self, loaded: SearchBackend) -> None:
        page = loaded.recommendations(Filters(doc_types=["cspr"]), similar=1)
        assert [(i.document_id, i.index) for i in page.items] == [ref(ASHBY, 0), ref(ASHBY, 1)]
        # similar ones still come from the whole library
        assert page.items[1].similar[0].document_id == BROOK.id
        second = loaded.recommendations(offset=2, limit=2)
        assert second.total == 6
        assert [(i.document_id, i.index) for i in second.items] == [ref(BROOK, 1), ref(ASHBY, 0)]


class RebuildContract(_Loaded):
    def test_search_answers_from_the_old_index_until_commit(self, loaded: SearchBackend) -> None:
        loaded.begin_rebuild()
        assert found(loaded, "neglect") != set()
        loaded.rebuild_documents([ASHBY])
        assert loaded.count() == len(ALL)  # still the old index
        newcomer = _newcomer()
        loaded.index_documents([newcomer])  # arrives mid-rebuild: must survive the swap
        assert found(loaded, "allotment") == {ref(newcomer, 0)}
        loaded.commit_rebuild()
        assert loaded.count() == 2
        assert found(loaded, "allotment") == {ref(newcomer, 0)}
        assert found(loaded, "bruised babies") == {ref(ASHBY, 0), ref(ASHBY, 4)}
        assert found(loaded, "neglect") == set()
        assert loaded.get_document(CASTLE.id) is None

    def test_abort_keeps_the_live_index(self, loaded: SearchBackend) -> None:
        loaded.begin_rebuild()
        loaded.rebuild_documents([ASHBY])
        loaded.delete_document(BROOK.id)
        loaded.abort_rebuild()
        assert loaded.count() == len(ALL) - 1
        loaded.abort_rebuild()  # nothing open: no-op
        loaded.begin_rebuild()  # a new one can start
        loaded.abort_rebuild()

    def test_one_rebuild_at_a_time(self, loaded: SearchBackend) -> None:
        loaded.begin_rebuild()
        with pytest.raises(RuntimeError):
            loaded.begin_rebuild()
        loaded.abort_rebuild()
        with pytest.raises(RuntimeError):
            loaded.commit_rebuild()

    def test_searches_never_fail_during_a_rebuild(self, loaded: SearchBackend) -> None:
        errors: list[BaseException] = []
        totals: list[int] = []
        stop = threading.Event()

        def search_loop() -> None:
            while not stop.is_set():
                try:
                    totals.append(loaded.search(SearchRequest(query="neglect")).total)
                except BaseException as exc:  # noqa: BLE001 - the test reports any failure
                    errors.append(exc)
                    return

        reader = threading.Thread(target=search_loop)
        reader.start()
        try:
            for _ in range(3):
                loaded.begin_rebuild()
                for doc in ALL:
                    loaded.rebuild_documents([doc])
                loaded.commit_rebuild()
        finally:
            stop.set()
            reader.join(timeout=30)
        assert errors == []
        assert totals and set(totals) == {6}


def _newcomer() -> Document:
    text = "The family's allotment was the only place the child felt safe."
    return Document(
        id="f" * 64,
        file_name="newcomer.txt",
        media_type="text/plain",
        size_bytes=10,
        doc_type="briefing",
        passages=[Passage(index=0, text=text, lemmas=lemma_text(text))],
    )


class BackendContract(
    IndexingContract,
    ListingContract,
    SearchContract,
    FilterContract,
    FacetContract,
    HighlightContract,
    PagingContract,
    FrequencyContract,
    EmergingContract,
    RecommendationContract,
    RebuildContract,
):
    """Everything above; a backend's test module subclasses this once."""
