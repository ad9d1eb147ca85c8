"""Detected languages are ones the analysers have (en, fr, es) or "other"."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.language import OTHER, detect
from search.analysis import OTHER as ANALYSIS_OTHER, field_language

NON_LATIN = {
    "zh": "城市安全与犯罪预防是地方政府的重要任务。社区参与、环境设计和警务合作可以减少犯罪，"
          "夜间照明和公共空间的管理也很重要。",
    "ko": "도시 안전과 범죄 예방은 지방 정부의 중요한 과제입니다. 지역 사회 참여와 환경 설계가 도움이 됩니다.",
    "ar": "الأمن الحضري والوقاية من الجريمة من المهام الأساسية للحكومات المحلية في المدن الكبرى.",
}
ENGLISH_TABLE = ("Table 2\n2015 2016 2017 2018\nTotal 1 204 1 187 1 150 1 098\nRate 12.4 10.1 9.8 9.5\n"
                 "N 240 251 260 244\n% 38 31 29 27")
ENGLISH_LABELLED_TABLE = ("Area | Burglary | Robbery | Total\nNorth | 120 | 45 | 165\nSouth | 98 | 40 | 138\n"
                          "East | 143 | 61 | 204\nAll areas | 361 | 146 | 507")


@pytest.mark.parametrize("lang", sorted(NON_LATIN))
def test_chinese_korean_and_arabic_are_other(lang: str) -> None:
    assert detect(NON_LATIN[lang]) == OTHER
    assert field_language(OTHER) == ANALYSIS_OTHER


def test_english_tables_are_english() -> None:
    assert detect(ENGLISH_TABLE) == "en"
    assert detect(ENGLISH_LABELLED_TABLE) == "en"
    # Too few words to tell: the caller's default (a declared language) stands.
    assert detect(ENGLISH_TABLE, default="fr") == "fr"


def test_supported_languages_are_still_found() -> None:
    assert detect("Les conseils locaux de sécurité réunissent le maire, le préfet et le procureur.") == "fr"
    assert detect("Las juntas locales de seguridad coordinan a la policía y al ayuntamiento.") == "es"
    assert detect("éclairage public sécurité") == "fr"
    assert detect("A prevenção da violência urbana depende da participação da comunidade e das "
                  "políticas públicas locais.") == OTHER


def test_undeclared_chinese_text_and_an_english_table_land_with_usable_languages(hub, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    # As Chinese is written: no spaces between words. Each character counts as a word.
    (folder / "zh.txt").write_text("安全报告\n\n" + NON_LATIN["zh"] * 12, encoding="utf-8")
    (folder / "counts.txt").write_text(ENGLISH_LABELLED_TABLE, encoding="utf-8")
    report = hub.ingest([folder])
    assert report.rejected == [], [str(r) for r in report.rejected]
    langs = {Path(hub.document(d).source).name: hub.document(d).language for d in report.doc_ids}
    assert langs == {"zh.txt": OTHER, "counts.txt": "en"}
    zh = next(hub.document(d) for d in report.doc_ids if hub.document(d).source.endswith("zh.txt"))
    # Cut into passages of readable size, not one passage of the whole text.
    assert len(zh.chunks) >= 2 and max(len(c.text) for c in zh.chunks) <= 2 * hub.settings.chunk_words
    assert hub.search("Burglary Robbery", mode="keyword").hits
