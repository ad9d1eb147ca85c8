"""The BM25 matrix (search/terms.py) finds what Whoosh finds for bag-of-words queries, filters
without changing scores, and scores thesaurus phrases only where their words stand together.

Its scores differ from Whoosh's on purpose in one respect (one average length per part over all
languages, which ranks the judged library better), so rankings are compared on the matched set.
"""

from __future__ import annotations

import pytest

from search.query import parse_query

QUERIES = ["street lighting crime", "youth violence prevention programme evaluation", "sécurité des femmes",
           "policía comunitaria barrios", "women safety night bus stops", "cctv car parks theft"]


def test_matches_what_whoosh_matches(documents_hub) -> None:
    keyword = documents_hub.keyword
    assert keyword.terms is not None
    for q in QUERIES:
        words = parse_query(q).words
        ours = keyword.search_words(words, [], 1000)
        theirs = keyword.search(keyword.build_query(words), 1000)
        assert ours and {c for c, _ in ours} == {c for c, _ in theirs}, q
        # the best passage by either engine is near the top of the other's ranking
        assert ours[0][0] in [c for c, _ in theirs[:3]], q


@pytest.mark.parametrize("flt", [{"language": ["fr"]}, {"doc_type": ["document"]}, {"year": (2020, 2030)},
                                 {"tags": ["diagnostic"]}])
def test_filters_select_without_rescoring(documents_hub, flt) -> None:
    keyword = documents_hub.keyword
    docs = {d.id: d for d in documents_hub.documents()}

    def passes(doc) -> bool:  # type: ignore[no-untyped-def]
        if "language" in flt:
            return doc.language in flt["language"]
        if "doc_type" in flt:
            return doc.doc_type in flt["doc_type"]
        if "year" in flt:
            return doc.year is not None and flt["year"][0] <= doc.year <= flt["year"][1]
        return bool(set(doc.tags) & set(flt["tags"]))

    checked = 0
    for q in QUERIES + ["diagnostic local de sécurité", "marche exploratoire"]:
        words = parse_query(q).words
        everything = keyword.search_words(words, [], 5000)
        chunks = documents_hub.catalog.chunks_by_ids(c for c, _ in everything)
        expected = [(c, s) for c, s in everything if passes(docs[chunks[c].doc_id])][:20]
        assert keyword.search_words(words, [], 20, flt) == expected, (q, flt)
        checked += len(expected)
    assert checked > 0


def test_expansions_count_only_where_the_phrase_stands(documents_hub) -> None:
    keyword = documents_hub.keyword
    plain = dict(keyword.search_words(["lighting"], [], 1000))
    expanded = dict(keyword.search_words(["lighting"], ["street lighting"], 1000))
    theirs = {c for c, _ in keyword.search(keyword.build_query(["lighting"], expansions=["street lighting"]), 1000)}
    assert set(expanded) == theirs
    texts = documents_hub.catalog.chunks_by_ids(expanded)
    raised = [c for c in expanded if expanded[c] > plain.get(c, 0.0) + 1e-6]
    assert raised and all("street lighting" in texts[c].text.lower() or "street-lighting" in texts[c].text.lower()
                          or "street lighting" in (texts[c].heading or "").lower()
                          or "street lighting" in documents_hub.catalog.document(texts[c].doc_id).title.lower()
                          for c in raised)
