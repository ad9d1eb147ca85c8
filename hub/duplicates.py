"""Near-identical documents: two versions of one report, a translation's shared tables, a file
saved twice with different bytes. Byte-identical files never become two documents (ingest records
the second as a copy); these are listed for a person to decide (`hub documents --duplicates`).

Each document is reduced to a sample of its five-word shingles (those whose hash falls in one
bucket of eight, so a long report costs little and the sample is the same for every document);
pairs sharing sampled shingles are scored by the Jaccard overlap of their samples.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE = 5
#: One shingle in this many is kept: estimates the overlap within a few points for documents of
#: more than a few hundred words, at an eighth of the memory.
SAMPLE = 8
#: A shingle shared by more documents than this is boilerplate (a licence, a funder's line), not
#: evidence that two documents are versions of each other.
COMMON = 50


@dataclass(frozen=True)
class NearDuplicate:
    first: str
    second: str
    #: share of the two documents' sampled shingles they have in common (0..1)
    overlap: float

    def to_json(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second, "overlap": round(self.overlap, 3)}


def shingles(text: str) -> set[int]:
    words = [w.lower() for w in _WORD.findall(text)]
    out = set()
    for i in range(max(0, len(words) - SHINGLE + 1)):
        h = zlib.crc32(" ".join(words[i:i + SHINGLE]).encode("utf-8", "surrogatepass"))
        if h % SAMPLE == 0:
            out.add(h)
    return out


def near_duplicates(catalog, threshold: float = 0.8) -> list[NearDuplicate]:  # type: ignore[no-untyped-def]
    """Pairs of catalogued documents whose texts overlap at least ``threshold``, most alike first."""
    sets: dict[str, set[int]] = {}
    postings: dict[int, list[str]] = defaultdict(list)
    for doc_id, text in catalog.document_texts():
        sample = shingles(text)
        if sample:
            sets[doc_id] = sample
            for h in sample:
                postings[h].append(doc_id)
    shared: Counter[tuple[str, str]] = Counter()
    for docs in postings.values():
        if 1 < len(docs) <= COMMON:
            docs = sorted(docs)
            for i, a in enumerate(docs):
                for b in docs[i + 1:]:
                    shared[(a, b)] += 1
    out = []
    for (a, b), n in shared.items():
        overlap = n / (len(sets[a]) + len(sets[b]) - n)
        if overlap >= threshold:
            out.append(NearDuplicate(a, b, overlap))
    return sorted(out, key=lambda d: (-d.overlap, d.first, d.second))
