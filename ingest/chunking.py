"""Passages of about 100 to 300 words that never cross a page and keep their heading.

A passage is what a citation points at, so it must stay on one page; it is also what the
embedding model sees (MiniLM reads 256 word pieces, roughly 180 words), hence the target size.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ingest.records import Chunk, Section

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=[\"'«¿¡(\[]?[A-ZÀ-ÖØ-Þ0-9])")


@dataclass(frozen=True)
class ChunkSizes:
    target: int = 180
    minimum: int = 100
    maximum: int = 300


def chunk_sections(doc_id: str, content_hash: str, sections: list[Section],
                   sizes: ChunkSizes = ChunkSizes()) -> list[Chunk]:
    """Pack sections into passages; ids change with the content, so stale passages never linger."""
    pieces: list[tuple[str, int | None, str | None, str | None]] = []
    for section in _merge_small_sections(sections, sizes):
        for text in _pack(section.text, sizes):
            pieces.append((text, section.page, section.heading, section.language))
    return [
        Chunk(
            id=hashlib.sha1(f"{doc_id}|{content_hash}|{i}".encode()).hexdigest()[:20],
            doc_id=doc_id, ordinal=i, text=text, page=page, heading=heading, language=language,
        )
        for i, (text, page, heading, language) in enumerate(pieces)
    ]


def embedding_text(title: str, chunk: Chunk) -> str:
    """The document title (and heading) give a passage its context for the dense model."""
    parts = [title]
    if chunk.heading and chunk.heading.strip().lower() != title.strip().lower():
        parts.append(chunk.heading)
    parts.append(chunk.text)
    return "\n".join(parts)


#: Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, Japanese kana, Chinese
#: characters): each character counts as a word, so such a text is neither refused as empty nor
#: packed whole into one passage.
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_UNSPACED_END = re.compile(r"(?<=[。！？])")


def word_count(text: str) -> int:
    """Words as a reader counts them: space-separated, or characters of an unspaced script."""
    if _UNSPACED.search(text) is None:  # nearly every text: one scan in C instead of one per word
        return len(text.split())
    return sum(max(1, len(_UNSPACED.findall(token))) for token in text.split())


_words = word_count


def _merge_small_sections(sections: list[Section], sizes: ChunkSizes) -> list[Section]:
    """A short section joins the next one on the same page and in the same language, so
    headings do not make crumbs and a passage reads in one language."""
    merged: list[Section] = []
    for section in sections:
        prev = merged[-1] if merged else None
        if (prev is not None and prev.page == section.page and prev.language == section.language
                and _words(prev.text) < sizes.minimum
                and _words(prev.text) + _words(section.text) <= sizes.maximum):
            joined = prev.text + "\n\n" + (f"{section.heading}\n\n" if section.heading else "") + section.text
            merged[-1] = Section(text=joined, page=prev.page, heading=prev.heading or section.heading,
                                 language=prev.language)
        else:
            merged.append(Section(text=section.text, page=section.page, heading=section.heading,
                                  language=section.language))
    return merged


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = re.sub(r"\s+", " ", paragraph).strip()
        if paragraph:
            out.extend(part for s in _SENTENCE_END.split(paragraph)
                       for part in _UNSPACED_END.split(s) if part.strip())
    return out


def _pack(text: str, sizes: ChunkSizes) -> list[str]:
    units: list[str] = []
    for sentence in _sentences(text):
        words = sentence.split()
        if len(words) == 1 and word_count(sentence) > sizes.maximum:  # unspaced: cut by characters
            words = [sentence[i:i + sizes.target] for i in range(0, len(sentence), sizes.target)]
            units.extend(words)
            continue
        while len(words) > sizes.maximum:  # a run-on "sentence" (tables, lists) is cut by words
            units.append(" ".join(words[: sizes.target]))
            words = words[sizes.target:]
        if words:
            units.append(" ".join(words))

    chunks: list[list[str]] = []
    current: list[str] = []
    count = 0
    for unit in units:
        n = _words(unit)
        if current and (count + n > sizes.maximum or count >= sizes.target):
            chunks.append(current)
            current, count = [], 0
        current.append(unit)
        count += n
    if current:
        if chunks and count < sizes.minimum and sum(map(_words, chunks[-1])) + count <= sizes.maximum:
            chunks[-1].extend(current)
        else:
            chunks.append(current)
    return [" ".join(c) for c in chunks]
