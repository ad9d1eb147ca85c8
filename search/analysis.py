"""Language-aware text analysis shared by the keyword index and the snippet highlighter.

English, French and Spanish get their own stop words and Snowball stemmers; accents are folded
after stemming (the stemmers expect accented input), so "sécurité", "securite" and "Sécurités"
meet on one term. Other languages get lowercasing and folding only.
"""

from __future__ import annotations

import re
from functools import lru_cache

from whoosh.analysis import (Analyzer, CharsetFilter, Filter, LowercaseFilter, RegexTokenizer,
                             StemFilter, StopFilter)
from whoosh.support.charset import accent_map

LANGUAGES = ("en", "fr", "es")
OTHER = "xx"
#: Which analysis made a home's keyword terms (its catalog records it): 1, Snowball's; 2, French
#: and Spanish drop the small words English drops, and plurals meet their singular. The terms of
#: a home made by an earlier one no longer meet today's questions ("mujeres" was "mujer", is
#: "muj"): `hub check` says so, and `hub upgrade` makes them again from the catalog.
VERSION = 2


def field_language(language: str | None) -> str:
    """The analysis language used for a document in ``language``."""
    return language if language in LANGUAGES else OTHER


#: Function words Snowball's lists leave out, so that the three languages drop the same kinds of
#: word: English drops "the", "how", "when", "more", "very", "all", "between"; French kept "les",
#: "comment", "quand", "plus", "très", "tous", "entre", and Spanish kept its interrogatives when
#: written with their accents ("¿cómo?", "¿dónde?"), as questions write them. Kept, each such word
#: matched every passage of its language: a French or Spanish question's keyword ranking leaned
#: towards passages in its own language, whatever they were about, and snippets marked "les".
#: Unaccented spellings too, as people type them.
_MORE_STOP_WORDS = {
    "fr": """les ils elles cette cet celle celles celui ceux ceci cela ça leurs comment quand lorsque où
             pourquoi quel quelle quels quelles plus très tres aussi tout tous toute toutes autre
             autres chaque quelques peu comme entre après apres avant pendant contre
             depuis vers chez dont donc alors ici là si car ni non encore déjà deja""",
    "es": """cómo cuál cuáles cuándo dónde adónde quién quiénes cuánto cuánta cuántos cuántas
             aquí allí ahí así""",
    "en": "",
}


def stop_words(lang: str) -> frozenset[str]:
    """Snowball's stop words for ``lang``, the function words it leaves out, and Whoosh's short
    English list in every language (English words in a French text: "Secured by Design")."""
    from whoosh.analysis import STOP_WORDS
    from whoosh.lang import stopwords_for_language

    return STOP_WORDS | frozenset(stopwords_for_language(lang)) | frozenset(_MORE_STOP_WORDS[lang].split())


class SingularFilter(Filter):
    """A word and its plural on one term where Snowball parts them.

    Snowball strips verb endings from a singular that its plural protects: Spanish "mujer"
    gives "muj" and "mujeres" "mujer" (so "joven/jóvenes", "ciudad/ciudades", "taller/talleres",
    "lugar/lugares"); French "usager" gives "usag" and "usagers" "usager", "élu" and "élus" differ.
    So the plural is made singular first: Spanish "-es" after l, n, r, d or j ("-ones": "-ón");
    French "-s" after "er" or "u". English has its irregular plurals ("women", "children"), and
    its American and British spellings ("neighborhood", "offense", "organize") are made one."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, tokens):  # type: ignore[no-untyped-def]
        one = _SINGULAR[self.lang]
        for t in tokens:
            if not t.stopped:
                t.text = one(t.text)
            yield t


def _spanish(word: str) -> str:
    if len(word) >= 5 and word.endswith("es") and word[-3] in "lnrdj":
        # "acciones": "acción", the accent Snowball's "-ción" rules expect
        return word[:-4] + "ón" if word.endswith("ones") else word[:-2]
    return word


def _french(word: str) -> str:
    if len(word) >= 4 and word[-1] == "s" and (word[-2] == "u" or word.endswith("ers")):
        return word[:-1]
    return word


_ENGLISH_SAME = {"women": "woman", "men": "man", "children": "child", "behavior": "behaviour",
                 "behaviors": "behaviours", "behavioral": "behavioural", "neighbor": "neighbour",
                 "neighbors": "neighbours", "neighborhood": "neighbourhood", "neighborhoods": "neighbourhoods",
                 "labor": "labour", "center": "centre", "centers": "centres", "theater": "theatre",
                 "offense": "offence", "offenses": "offences", "defense": "defence", "license": "licence",
                 "program": "programme", "programs": "programmes", "color": "colour", "favor": "favour"}
_IZE = re.compile(r"(?<=\w{3})([iy])z(?=(?:e|es|ed|er|ers|ing|ation|ations)$)")


def _english(word: str) -> str:
    word = _ENGLISH_SAME.get(word, word)
    return _IZE.sub(r"\1s", word) if "z" in word else word


_SINGULAR = {"es": _spanish, "fr": _french, "en": _english}


def irregular_forms(lang: str) -> tuple[str, ...]:
    """Words whose term does not start as they do ("women": "woman"): a highlighter that looks
    for words by the start of their terms must look for these too."""
    return tuple(_ENGLISH_SAME) if lang == "en" else ()


@lru_cache(maxsize=None)
def analyzer(lang: str) -> Analyzer:
    chain = RegexTokenizer() | LowercaseFilter()
    if lang in LANGUAGES:
        chain = (chain | StopFilter(stop_words(lang)) | SingularFilter(lang)
                 | StemFilter(lang=lang, cachesize=100_000))
    else:
        # A text in a language the hub does not analyse: the function words of the three it does
        # name no subject there either ("de", "que", "para" are Portuguese and Italian too). Kept,
        # a Spanish question's small words, rare in the library's few such passages and so
        # weighed high, put Portuguese news first (bench/RESULTS.md, "Files in other languages").
        chain = chain | StopFilter(frozenset().union(*(stop_words(lang) for lang in LANGUAGES)))
    return chain | CharsetFilter(accent_map)


def terms(text: str, lang: str) -> list[str]:
    """Index terms of ``text`` as analysed for ``lang``: the analyzer's own, word by word. Every
    filter of the chain works on one word at a time, so each word's terms are remembered rather
    than sent through the chain again (the same words come back in passage after passage)."""
    return [term for word in _TOKEN.findall(text) for term in _word_terms(word, lang)]


#: The analyzer's tokenizer (Whoosh's RegexTokenizer, its default expression).
_TOKEN = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*")


@lru_cache(maxsize=200_000)
def _word_terms(word: str, lang: str) -> tuple[str, ...]:
    return tuple(t.text for t in analyzer(lang)(word))


@lru_cache(maxsize=100_000)
def query_terms(text: str, lang: str) -> tuple[str, ...]:
    """``terms`` for the short texts of queries (a word, a thesaurus label), remembered: the same
    words come back query after query, and analysing them for every language cost more than
    scoring them (``bench/scale.py``)."""
    return tuple(terms(text, lang))


_WORD = re.compile(r"[^\W\d_]{3,}")


def words(text: str) -> list[str]:
    """The words of ``text`` as the library's word counts keep them (hub/catalog.py): lower case,
    three letters or more, accents kept, every occurrence."""
    return _WORD.findall(text.lower())


def fold(text: str) -> str:
    """Strip accents: "sécurité" -> "securite" (for matching, never for display).

    The marks of Latin letters go in one regex pass, and a text left with none of any script is
    returned at once: checking every character in Python took 50 to 80 µs a passage, which a
    question with a phrase or an exclusion pays for each of its 300 candidates."""
    import unicodedata

    text = unicodedata.normalize("NFKD", text)
    if text.isascii():
        return text
    text = _LATIN_MARKS.sub("", text)
    if text.isascii() or not any(unicodedata.combining(c) for c in set(text)):
        return text
    return "".join(c for c in text if not unicodedata.combining(c))


_LATIN_MARKS = re.compile("[\u0300-\u036f]")
