"""Keyword search through the store's sparse vectors (search/sparse.py): it finds what Whoosh
finds for bag-of-words questions, ranks their best passage alike, filters without rescoring,
and scores a thesaurus phrase only where its words stand together."""

from __future__ import annotations

import pytest

from search.query import clean_words
from search.query import parse_query
from search.sparse import query_vector, query_words
from search.store import KEYWORD, Ask

QUERIES = ["street lighting crime", "youth violence prevention programme evaluation", "sécurité des femmes",
           "policía comunitaria barrios", "women safety night bus stops", "cctv car parks theft"]


def sparse(hub, words: list[str], expansions: list[str] = (), limit: int = 1000, filters=None):  # type: ignore[no-untyped-def]
    vector = query_vector(query_words([clean_words(w) for w in words], [clean_words(e) for e in expansions]))
    return [(f.chunk_id, f.score) for f in hub.index.store.search([Ask(KEYWORD, vector, limit, filters)])[0]]


def test_matches_what_whoosh_matches(documents_hub) -> None:
    keyword = documents_hub.index.keyword
    for q in QUERIES:
        words = parse_query(q).words
        ours = sparse(documents_hub, words)
        theirs = keyword.search(keyword.build_query(words), 1000)
        assert ours and {c for c, _ in ours} == {c for c, _ in theirs}, q
        # the best passage by either engine is near the top of the other's ranking
        assert ours[0][0] in [c for c, _ in theirs[:3]], q


@pytest.mark.parametrize("flt", [{"language": ["fr"]}, {"doc_type": ["document"]}, {"year": (2020, 2030)},
                                 {"tags": ["diagnostic"]}])
def test_filters_select_without_rescoring(documents_hub, flt) -> None:
    docs = {d.id: d for d in documents_hub.documents()}

    def passes(chunk) -> bool:  # type: ignore[no-untyped-def]
        doc = docs[chunk.doc_id]
        if "language" in flt:  # a passage's own language
            return (chunk.language or doc.language) in flt["language"]
        if "doc_type" in flt:
            return doc.doc_type in flt["doc_type"]
        if "year" in flt:
            return doc.year is not None and flt["year"][0] <= doc.year <= flt["year"][1]
        return bool({t.lower() for t in doc.tags} & set(flt["tags"]))

    checked = 0
    for q in QUERIES + ["diagnostic local de sécurité", "marche exploratoire"]:
        words = parse_query(q).words
        everything = sparse(documents_hub, words, limit=5000)
        chunks = documents_hub.catalog.chunks_by_ids(c for c, _ in everything)
        expected = [(c, s) for c, s in everything if passes(chunks[c])][:20]
        got = sparse(documents_hub, words, limit=20, filters=flt)
        assert [s for _, s in got] == pytest.approx([s for _, s in expected]), (q, flt)
        ties = {round(s, 5) for _, s in expected if sum(abs(s - t) < 1e-5 for _, t in expected) > 1}
        assert [c for c, s in got if round(s, 5) not in ties] == [c for c, s in expected if round(s, 5) not in ties]
        checked += len(expected)
    assert checked > 0


def test_expansions_count_only_where_the_phrase_stands(documents_hub) -> None:
    plain = dict(sparse(documents_hub, ["lighting"]))
    expanded = dict(sparse(documents_hub, ["lighting"], ["street lighting"]))
    texts = documents_hub.catalog.chunks_by_ids(expanded)
    raised = [c for c in expanded if expanded[c] > plain.get(c, 0.0) + 1e-6]

    def together(c: str) -> bool:
        chunk = texts[c]
        where = " ".join([chunk.text, chunk.heading or "", documents_hub.catalog.document(chunk.doc_id).title]).lower()
        return "street lighting" in where or "street-lighting" in where

    assert raised and all(together(c) for c in raised)
    assert set(expanded) == set(plain) | set(raised)


def test_a_year_range_leaves_out_the_years_outside_it(documents_hub) -> None:
    """The sample documents are dated 2024 or undated: ranges that miss 2024 find nothing."""
    for q in QUERIES:
        words = parse_query(q).words
        assert sparse(documents_hub, words, filters={"year": (2024, 2024)}), q
        assert sparse(documents_hub, words, filters={"year": (2025, 2030)}) == [], q
        assert sparse(documents_hub, words, filters={"year": (2000, 2023)}) == [], q
