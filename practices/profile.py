"""Practice profiles: curated Markdown records (``doc_type: practice``), checked at ingest.

A profile names a practice, says whether it is an intervention or a method (a tool for
diagnosis or consultation), rates each outcome of an intervention on the scale in
``ratings.py`` with the studies behind it (``outcomes``), sums up the evidence under the EMMIE
headings (effect, mechanism, moderators, implementation, economic cost) with the quality of each
(``emmie_quality``), and cites the library documents, and pages, it rests on. The headline
rating is derived (``ratings.headline``). A profile that would mislead (an unknown rating, no
name, a source that does not exist) is refused with the file and the field; one in the older
format (a single ``evidence`` rating, no outcomes) still loads, with a warning naming what is
missing.

An outcome, in the front matter::

    outcomes:
      - outcome: crime            # ratings.OUTCOMES, or another word used the same way
        direction: reduces        # reduces, increases, no-change, mixed, unknown
        rating: effective         # effective, promising, mixed, insufficient, no-effect, harmful
        studies: 76               # how many studies (or evaluations) the rating rests on
        design: systematic-review # systematic-review, randomised, quasi-experimental, observational, case-study
        size: about 13 percent less crime      # optional, in words
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.errors import RejectedDocument
from ingest.records import Document, LoadedDocument, Section
from practices.ratings import (DESIGNS, DIRECTIONS, KINDS, LEVELS, OUTCOME_RATINGS, SCALE, STRENGTHS,
                               EmmieQuality, Outcome, Rating, headline, rating)

EMMIE = {
    "effect": "Effect",
    "mechanism": "Mechanism",
    "moderators": "Moderators: where and for whom",
    "implementation": "Implementation",
    "economic_cost": "Economic cost",
}
#: The document type of a practice profile in the catalog and the indexes.
PRACTICE_TYPE = "practice"
SUMMARY_HEADINGS = {"en": "Summary", "fr": "Résumé", "es": "Resumen"}
SITUATION_HEADINGS = {"en": "When it fits", "fr": "Quand y recourir", "es": "Cuándo recurrir a ella"}
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass
class Source:
    file: str
    pages: list[int] = field(default_factory=list)
    note: str | None = None


@dataclass
class Practice:
    id: str
    name: str
    names: dict[str, str]
    summary: str
    rating: Rating
    levels: list[str]
    themes: list[str]
    populations: list[str]
    settings: list[str]
    related_tools: list[str]
    emmie: dict[str, str]
    sources: list[Source]
    doc_id: str
    language: str
    related: list[str] = field(default_factory=list)
    #: "intervention" or "method" (ratings.KINDS).
    kind: str = "intervention"
    outcomes: list[Outcome] = field(default_factory=list)
    emmie_quality: EmmieQuality = field(default_factory=EmmieQuality)
    #: The profile's file as ingested: its sources are relative to its folder.
    path: str = ""
    #: The summary in each language the profile gives (the original and translations).
    summaries: dict[str, str] = field(default_factory=dict)

    def summary_in(self, language: str) -> str:
        """The summary in the reader's language when the profile has it, else the original."""
        return self.summaries.get(language) or self.summary

    def name_in(self, language: str) -> str:
        return self.names.get(language) or self.name

    def headline_json(self, language: str | None = None) -> dict[str, Any]:
        """Which practice, and how it is rated: the head of a recommendation's JSON and of each
        practice listed beside a search's documents. ``name`` is in ``language`` when the profile
        has it (a Spanish question is answered in Spanish), else the profile's own; ``names`` has
        them all."""
        return {"practice_id": self.id, "name": self.name_in(language) if language else self.name,
                "names": self.names, "rating": self.rating.key,
                "rating_label": self.rating.label, "rating_meaning": self.rating.meaning}

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "names": self.names, "summary": self.summary,
            "summaries": self.summaries,
            "rating": self.rating.key, "rating_label": self.rating.label, "rating_meaning": self.rating.meaning,
            "kind": self.kind, "outcomes": [o.to_json() for o in self.outcomes],
            "emmie_quality": self.emmie_quality.to_json(),
            "prevention_level": self.levels, "themes": self.themes, "populations": self.populations,
            "settings": self.settings, "related_tools": self.related_tools, "emmie": self.emmie,
            "sources": [{"file": s.file, "pages": s.pages, "note": s.note} for s in self.sources],
            "doc_id": self.doc_id, "related": self.related,
        }


@functools.lru_cache(maxsize=8192)
def _resolved(path: str) -> str:
    # Resolving asks the file system; advice resolves every source of every profile per question.
    return str(Path(path).resolve())


def document_path(doc: Document) -> str:
    """Where a document was ingested from, resolved: how sources name it."""
    return _resolved(str(doc.extra.get("path", doc.source)))


def source_path(practice: Practice, source: Source) -> str:
    """The file a profile's source names, resolved from the profile's own folder."""
    return _resolved(str(Path(practice.path).parent / source.file)) if practice.path else ""


def sources_citing(practice: Practice, doc: Document) -> list[Source]:
    """The profile's sources that name this document, matched by resolved path (two files of
    one name in two folders are two documents). The one answer to "which passages of which
    document does this practice cite", for practice pages, briefs, advice and linking."""
    target = document_path(doc)
    return [s for s in practice.sources if source_path(practice, s) == target]


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def validate(source: str, path: Path, loaded: LoadedDocument) -> LoadedDocument:
    """Check a profile's fields and sources; add its summary and EMMIE notes as sections so
    they are searchable and citable like any passage."""
    meta = loaded.extra

    def bad(field_name: str, why: str) -> RejectedDocument:
        return RejectedDocument(source, f"practice profile field {field_name!r}: {why}")

    pid = str(meta.get("id") or "").strip()
    if not pid:
        raise bad("id", "missing (a short kebab-case id such as hot-spots-policing)")
    if not _ID.match(pid):
        raise bad("id", f"{pid!r} is not kebab-case (lowercase letters, digits and hyphens)")
    name = meta.get("name")
    if isinstance(name, dict):
        name = name.get("en") or next(iter(name.values()), None)
    if not name or not str(name).strip():
        raise bad("name", "missing")
    kind = str(meta.get("kind") or "intervention").strip().lower()
    if kind not in KINDS:
        raise bad("kind", f"unknown kind {kind!r}; use {' or '.join(KINDS)}")
    outcomes = parse_outcomes(meta.get("outcomes"), bad)
    parse_emmie_quality(meta.get("emmie_quality"), bad)
    raw_rating = meta.get("evidence")
    if raw_rating is not None and rating(str(raw_rating)) is None:
        raise bad("evidence", f"unknown rating {raw_rating!r}; use one of {', '.join(SCALE)}")
    warnings = loaded.extra.setdefault("warnings", [])
    if kind == "intervention" and not outcomes:
        if raw_rating is None:
            raise bad("outcomes", "missing: rate each outcome (crime, violence, reoffending...) with its studies")
        warnings.append(f"practice profile in the older format: a single rating ({raw_rating}) and no "
                        "per-outcome ratings ('outcomes'), nor the quality of each EMMIE heading ('emmie_quality')")
    elif raw_rating is not None and rating(str(raw_rating)) != headline(kind, outcomes, None):
        warnings.append(f"practice profile field 'evidence': {raw_rating} differs from the rating derived from "
                        f"its outcomes ({headline(kind, outcomes, None).key}); the derived one is shown")
    if not warnings:
        del loaded.extra["warnings"]
    if not str(meta.get("summary") or "").strip():
        raise bad("summary", "missing")
    situations = meta.get("situations")
    if situations is not None and (not isinstance(situations, dict) or any(
            not isinstance(v, list) or any(not isinstance(t, str) for t in v) for v in situations.values())):
        raise bad("situations", "must map a language code (en, fr, es) to a list of sentences")
    for key in ("names", "summaries"):
        value = meta.get(key)
        if value is not None and (not isinstance(value, dict)
                                  or any(not isinstance(v, str) for v in value.values())):
            raise bad(key, "must map a language code (en, fr, es) to a text")
    for level in _list(meta.get("prevention_level")):
        if level.lower() not in LEVELS:
            raise bad("prevention_level", f"unknown level {level!r}; use primary, secondary or tertiary")
    emmie = meta.get("emmie") or {}
    if not isinstance(emmie, dict):
        raise bad("emmie", "must be a mapping with effect, mechanism, moderators, implementation, economic_cost")
    unknown = set(emmie) - set(EMMIE)
    if unknown:
        raise bad("emmie", f"unknown heading(s) {', '.join(sorted(unknown))}; use {', '.join(EMMIE)}")
    sources = meta.get("sources") or []
    if not isinstance(sources, list):
        raise bad("sources", "must be a list of {file, pages}")
    for i, src in enumerate(sources):
        entry = src if isinstance(src, dict) else {"file": src}
        file = str(entry.get("file") or "").strip()
        where = f"sources[{i}].file"
        if not file:
            raise bad(where, "missing")
        target = (path.parent / file).resolve()
        if not target.is_file():
            raise bad(where, f"broken reference: {file} is not in {path.parent}")
        pages = entry.get("pages") or []
        pages = pages if isinstance(pages, list) else [pages]
        if any(not isinstance(p, int) or p < 1 for p in pages):
            raise bad(f"sources[{i}].pages", "pages must be whole numbers from 1")
        if pages and target.suffix.lower() == ".pdf":
            count = _page_count(target)
            if count and max(pages) > count:
                raise bad(f"sources[{i}].pages", f"{file} has {count} pages, not {max(pages)}")

    names = meta.get("names") if isinstance(meta.get("names"), dict) else {}
    known_as = [str(v) for v in names.values() if v]
    facts = [f"{label}: {', '.join(_list(meta.get(key)))}." for key, label in (
        ("themes", "Themes"), ("populations", "Populations"), ("settings", "Settings"),
        ("related_tools", "Related tools")) if _list(meta.get(key))]
    # The summary passage carries the practice's names in every language and its context, so a
    # question in English finds a profile written in Spanish, and "for youth" finds youth work.
    summary = " ".join([str(name) + ("" if not known_as else f" ({'; '.join(known_as)})") + ".",
                        str(meta["summary"]).strip(), *facts])
    sections = [Section(text=summary, heading=SUMMARY_HEADINGS.get(loaded.language or "en", "Summary"),
                        language=loaded.language)]
    # The name and summary in the other languages (translations the profile carries) are
    # passages of their own: a question in Spanish meets the Spanish summary of an English
    # profile, and both encoders and the keyword index see a text in one language.
    summaries = meta.get("summaries") if isinstance(meta.get("summaries"), dict) else {}
    for lang, text in sorted(summaries.items()):
        if str(text or "").strip() and lang != loaded.language:
            label = str(names.get(lang) or name)
            sections.append(Section(text=f"{label}. {str(text).strip()}", heading=SUMMARY_HEADINGS.get(lang, "Summary"),
                                    language=lang))
    # Typical situations where the practice fits, in each language: a manager describes a
    # problem, not a practice, and these passages speak the same way.
    situations = meta.get("situations") if isinstance(meta.get("situations"), dict) else {}
    for lang, items in sorted(situations.items()):
        texts = [str(t).strip() for t in (items or []) if str(t).strip()]
        if texts:
            label = str(names.get(lang) or name)
            sections.append(Section(text=f"{label}. " + " ".join(texts), heading=SITUATION_HEADINGS.get(lang, "When it fits"),
                                    language=lang))
    for key, heading in EMMIE.items():
        if str(emmie.get(key) or "").strip():
            sections.append(Section(text=str(emmie[key]).strip(), heading=heading))
    loaded.sections = sections + loaded.sections
    loaded.doc_type = PRACTICE_TYPE
    if not loaded.title or loaded.title == source:
        loaded.title = str(name)
    return loaded


def parse_outcomes(value: Any, bad) -> list[Outcome]:  # type: ignore[no-untyped-def]
    """The ``outcomes`` list as Outcome records; ``bad(field, why)`` makes the refusal."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad("outcomes", "must be a list of {outcome, direction, rating, studies, design}")
    out = []
    for i, entry in enumerate(value):
        where = f"outcomes[{i}]"
        if not isinstance(entry, dict):
            raise bad(where, "must be a mapping with outcome, direction, rating, studies, design")
        name = str(entry.get("outcome") or "").strip().lower()
        if not name:
            raise bad(f"{where}.outcome", "missing (crime, violence, victimisation, reoffending, fear, trust...)")
        found = rating(str(entry.get("rating") or ""))
        if found is None or found.key not in OUTCOME_RATINGS:
            raise bad(f"{where}.rating", f"unknown rating {entry.get('rating')!r}; use one of {', '.join(OUTCOME_RATINGS)}")
        direction = str(entry.get("direction") or "unknown").strip().lower()
        if direction not in DIRECTIONS:
            raise bad(f"{where}.direction", f"unknown direction {direction!r}; use one of {', '.join(DIRECTIONS)}")
        design = entry.get("design")
        if design is not None and str(design) not in DESIGNS:
            raise bad(f"{where}.design", f"unknown design {design!r}; use one of {', '.join(DESIGNS)}")
        studies = entry.get("studies")
        if studies is not None and (not isinstance(studies, int) or isinstance(studies, bool) or studies < 0):
            raise bad(f"{where}.studies", "must be a whole number of studies")
        out.append(Outcome(outcome=name, direction=direction, rating=found, studies=studies,
                           design=str(design) if design is not None else None,
                           size=str(entry["size"]).strip() if entry.get("size") else None,
                           note=str(entry["note"]).strip() if entry.get("note") else None))
    return out


def parse_emmie_quality(value: Any, bad) -> EmmieQuality:  # type: ignore[no-untyped-def]
    if value is None:
        return EmmieQuality()
    if not isinstance(value, dict):
        raise bad("emmie_quality", "must map EMMIE headings to a quality level")
    levels = {}
    for key, level in value.items():
        if key not in EMMIE:
            raise bad("emmie_quality", f"unknown heading {key!r}; use {', '.join(EMMIE)}")
        level = str(level).strip().lower().replace(" ", "-")
        if level not in STRENGTHS:
            raise bad(f"emmie_quality.{key}", f"unknown level {level!r}; use one of {', '.join(STRENGTHS)}")
        levels[key] = level
    return EmmieQuality({k: levels[k] for k in EMMIE if k in levels})


def _never(field_name: str, why: str) -> Exception:
    # Stored profiles were checked at ingest; one that no longer parses is a bug, not input.
    return ValueError(f"stored practice profile field {field_name!r}: {why}")


def _page_count(path: Path) -> int | None:
    try:
        from pypdf import PdfReader

        return len(PdfReader(str(path)).pages)
    except Exception:  # noqa: BLE001 - the referenced file's own problems are reported when it is ingested
        return None


def practice_from_document(doc: Document) -> Practice:
    """The profile as stored in the catalog (front matter kept in ``doc.extra``)."""
    meta = doc.extra
    name = meta.get("name")
    names = dict(meta.get("names") or {})
    if isinstance(name, dict):
        names = {**name, **names}
        name = name.get("en") or next(iter(name.values()))
    names.setdefault(doc.language, str(name))
    sources = []
    for src in meta.get("sources") or []:
        entry = src if isinstance(src, dict) else {"file": src}
        pages = entry.get("pages") or []
        sources.append(Source(str(entry["file"]), pages if isinstance(pages, list) else [pages], entry.get("note")))
    kind = str(meta.get("kind") or "intervention").strip().lower()
    outcomes = parse_outcomes(meta.get("outcomes"), _never)
    return Practice(
        id=str(meta["id"]), name=str(name), names=names, summary=str(meta.get("summary", "")).strip(),
        rating=headline(kind, outcomes, rating(str(meta.get("evidence")))),
        kind=kind, outcomes=outcomes, emmie_quality=parse_emmie_quality(meta.get("emmie_quality"), _never),
        levels=[x.lower() for x in _list(meta.get("prevention_level"))],
        themes=[x.lower() for x in _list(meta.get("themes"))],
        populations=[x.lower() for x in _list(meta.get("populations"))],
        settings=[x.lower() for x in _list(meta.get("settings"))],
        related_tools=_list(meta.get("related_tools")),
        emmie={k: str(v).strip() for k, v in (meta.get("emmie") or {}).items() if k in EMMIE},
        sources=sources, doc_id=doc.id, language=doc.language,
        related=_list(meta.get("related_practices")),
        summaries={**{str(k): str(v).strip() for k, v in (meta.get("summaries") or {}).items() if v},
                   doc.language: str(meta.get("summary", "")).strip()},
        path=str(meta.get("path", doc.source)),
    )
