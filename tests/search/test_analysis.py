"""Text analysis (search/analysis.py): the terms the keyword index, the sparse vectors, the
thesaurus and the snippets share."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.analysis import analyzer, terms

LIBRARY = Path(__file__).resolve().parents[2] / "library"
EDGES = ("U.S. and E.U. rules, 3.5% more, wild*cards, l'école du quartier, don't, naïve café-crème, "
         "ÉCOLE Straße İstanbul ½ x² مرحبا 東京 Ünïcödé, policía-comunitaria, 2024-2025.")


@pytest.mark.parametrize("lang", ["en", "fr", "es", "xx"])
def test_terms_are_the_analyzers_own(lang: str) -> None:
    """``terms`` analyses each word once and remembers it; a passage must still get exactly the
    terms Whoosh's analyzer chain gives the whole text, or a question would miss the words its
    own analysis makes (and the snippets would mark other words than the index matched)."""
    texts = [EDGES] + [p.read_text(encoding="utf-8") for p in sorted(LIBRARY.rglob("*.md"))]
    for text in texts:
        assert terms(text, lang) == [t.text for t in analyzer(lang)(text)]
