"""The trilingual thesaurus: concepts of the field with English, French and Spanish labels.

Curators edit ``search/thesaurus.yaml`` (or a copy named by ``HUB_THESAURUS``). A query that
names a concept in one language is expanded with the concept's labels in the others, so a
French question finds English evidence; the concepts found are shown as related searches.
Labels match on stems with stop words removed, so plurals and "de la" do not get in the way.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.config_file import load_yaml
from hub.errors import HubError
from search.analysis import LANGUAGES, VERSION, terms

DEFAULT_PATH = Path(__file__).with_name("thesaurus.yaml")

#: Labels added to the keyword query per concept, and English labels given to the dense model.
KEYWORD_LABELS = 6
DENSE_LABELS = 1
_WORDS = re.compile(r"\w+")

log = logging.getLogger(__name__)


def configured_path(setting: Path | None) -> Path | None:
    """The thesaurus file in use: the one ``HUB_THESAURUS`` names, else the bundled one (None:
    no thesaurus, and searches are not expanded)."""
    if setting:
        return setting
    return DEFAULT_PATH if DEFAULT_PATH.exists() else None


@dataclass
class Concept:
    id: str
    labels: dict[str, list[str]]
    broader: str | None = None
    related: list[str] = field(default_factory=list)

    def label(self, lang: str = "en") -> str:
        return (self.labels.get(lang) or self.labels.get("en") or [self.id])[0]


class Thesaurus:
    def __init__(self, concepts: list[Concept], analysed: dict[str, Any] | None = None) -> None:
        """``analysed``: the labels' terms as ``analysed()`` gave them for these concepts (from the
        model cache: ``load``), instead of analysing every label again."""
        self.concepts = {c.id: c for c in concepts}
        if analysed is None:
            analysed = _analyse(concepts)
        # stemmed label -> concept id, per language
        self._patterns: dict[str, dict[tuple[str, ...], str]] = {lang: {} for lang in LANGUAGES}
        for lang, rows in analysed["patterns"].items():
            self._patterns[lang] = {tuple(key): cid for cid, *key in rows}
        self._analysed = analysed
        unmatched = analysed["unmatched"]
        if unmatched:  # said once, so that a curator knows why a label finds nothing
            log.warning("thesaurus labels never matched, being one word once their small words are dropped: %s",
                        ", ".join(unmatched))
        self._longest = max((len(k) for p in self._patterns.values() for k in p), default=1)

    def analysed(self) -> dict[str, Any]:
        """The labels' terms per language, and the labels that can never match: what ``load``
        keeps in the model cache."""
        return self._analysed

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH, cache: Path | None = None) -> "Thesaurus":
        """The thesaurus in ``path``. With a model cache (``HUB_MODEL_CACHE``), its labels' terms
        are kept there for the next start: analysing the 1,400 labels took 0.2 s of a server's 2 s
        start-up, holding the interpreter that the encoders were loading with (bench/RESULTS.md,
        "Start-up"). The copy is named by the file's path, size and modification time and by the
        text analysis's version and code (search/analysis.py), so an edited file or another
        analysis is read afresh."""
        from hub.unpacked import unpacked

        data = load_yaml(path, "thesaurus file", "HUB_THESAURUS")
        concepts = []
        for i, row in enumerate(data.get("concepts") or []):
            if not isinstance(row, dict) or not row.get("id"):
                raise HubError(f"{path}: concept #{i + 1} has no id")
            labels = {lang: [str(x) for x in (row.get(lang) or [])] for lang in LANGUAGES}
            concepts.append(Concept(str(row["id"]), labels, row.get("broader"), list(row.get("related") or [])))
        made: list[Thesaurus] = []

        def analyse(_: Path, target: Path) -> None:
            made.append(cls(concepts))
            target.write_text(json.dumps(made[0].analysed(), ensure_ascii=False), encoding="utf-8")

        copy = unpacked(cache, Path(path), analyse, suffix=".json", recipe=f"thesaurus-terms-{_analysis_code()}")
        if made:
            return made[0]
        if copy is not None:
            try:
                return cls(concepts, json.loads(copy.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                log.info("unreadable thesaurus terms in %s: analysing the labels again", copy)
        return cls(concepts)

    def find(self, text: str) -> list[Concept]:
        """Concepts named in ``text``, in any of the three languages (longest match wins)."""
        found: list[str] = []
        for lang in LANGUAGES:
            tokens = terms(text, lang)
            i = 0
            while i < len(tokens):
                for n in range(min(self._longest, len(tokens) - i), 0, -1):
                    cid = self._patterns[lang].get(tuple(tokens[i:i + n]))
                    if cid:
                        if cid not in found:
                            found.append(cid)
                        i += n
                        break
                else:
                    i += 1
        return [self.concepts[c] for c in found]

    def expansions(self, concepts: list[Concept], query: str) -> dict[str, list[str]]:
        """Labels to add: all languages for the keyword index, English for the dense model."""
        present = query.lower()
        keyword: list[str] = []
        dense: list[str] = []
        for c in concepts:
            per_concept = [lab for lang in LANGUAGES for lab in c.labels.get(lang, [])[:2]
                           if lab.lower() not in present]
            keyword.extend(per_concept[:KEYWORD_LABELS])
            dense.extend(lab for lab in c.labels.get("en", [])[:DENSE_LABELS] if lab.lower() not in present)
        return {"keyword": list(dict.fromkeys(keyword)), "dense": list(dict.fromkeys(dense))}

    def annotate(self, text: str, language: str) -> str:
        """Text to embed for a passage: a French or Spanish passage gets the English labels of
        the concepts it names, so an English-trained model places it near English evidence
        (cross-lingual nDCG@10 on the judged library: bench/quality.py)."""
        if language == "en" or not self.concepts:
            return text
        labels = [c.label("en") for c in self.find(text)]
        return f"{text}\n({'; '.join(labels)})" if labels else text

    def describe(self, concept: Concept) -> dict[str, Any]:
        related = [self.concepts[r] for r in concept.related if r in self.concepts]
        if concept.broader in self.concepts:
            related.insert(0, self.concepts[concept.broader])
        return {"id": concept.id, "labels": {lang: concept.label(lang) for lang in LANGUAGES},
                "related": [{"id": r.id, "labels": {lang: r.label(lang) for lang in LANGUAGES}}
                            for r in related]}


def _analyse(concepts: list[Concept]) -> dict[str, Any]:
    """Each label's terms per language (as ``Thesaurus.analysed`` gives them), the first concept
    keeping a label that two share; and the labels that can never match."""
    patterns: dict[str, dict[tuple[str, ...], str]] = {lang: {} for lang in LANGUAGES}
    unmatched: list[str] = []
    for c in concepts:
        for lang in LANGUAGES:
            for label in c.labels.get(lang, []):
                key = tuple(terms(label, lang))
                if len(key) == 1 and len(_WORDS.findall(label)) > 1:
                    # Its other words are stop words ("what works", "call-in"): the one left
                    # ("work", "call") would name the concept in any sentence.
                    unmatched.append(f"{label!r} ({c.id})")
                    continue
                if key:
                    patterns[lang].setdefault(key, c.id)
    return {"patterns": {lang: [[cid, *key] for key, cid in p.items()] for lang, p in patterns.items()},
            "unmatched": unmatched}


def _analysis_code() -> str:
    """What the labels' terms depend on: the analysis's version, and its code (a change of stop
    words or stemming made without a new version must not leave a cached copy behind)."""
    import hashlib

    from search import analysis

    return f"{VERSION}-{hashlib.blake2b(Path(analysis.__file__).read_bytes(), digest_size=6).hexdigest()}"
