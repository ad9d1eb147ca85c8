"""A bounded fuzz pass over the loaders: random byte mutations of the sample library's files
(every format) go through one real ingest batch. Each file lands or is refused with a one-line
reason naming it; nothing escapes as an exception, and the stores stay in step."""

from __future__ import annotations

import random
import time
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[2] / "library" / "documents"
SEEDS = ["hot-spots-and-focused-deterrence.en.pdf", "guide-diagnostic-local-securite.fr.pdf",
         "exploratory-walks-how-to.en.html", "juntas-locales-seguridad.es.html",
         "cartographie-participative-ateliers.fr.md", "cultura-ciudadana-bogota.es.txt"]
MUTANTS_PER_SEED = 7
#: Text seeds are cut to their start: the mutations, not the embedding of long texts, are the point.
TEXT_BYTES = 2500
NASTY = [b"\x00", b"\xff\xfe", b"\xed\xa0\x80", b"<div>" * 50, b"---\n&a [*a]\n", b"%%EOF", b"endobj",
         b"\r", "\u202e".encode(), b"\xc3", b"<script>alert(1)</script>", b"]]>", b"\\u0000"]


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        kind = rnd.choice(["flip", "delete", "duplicate", "insert", "truncate"])
        if not out:
            break
        at = rnd.randrange(len(out))
        if kind == "flip":
            for _ in range(rnd.randint(1, 20)):
                out[rnd.randrange(len(out))] = rnd.randrange(256)
        elif kind == "delete":
            del out[at:at + rnd.randint(1, 400)]
        elif kind == "duplicate":
            out[at:at] = out[at:at + rnd.randint(1, 400)] * rnd.randint(1, 5)
        elif kind == "insert":
            out[at:at] = rnd.choice(NASTY) if rnd.random() < 0.6 else bytes(rnd.randrange(256) for _ in range(50))
        else:
            del out[max(1, at):]
    return bytes(out)


def test_mutated_files_land_or_are_refused_cleanly(make_hub, tmp_path: Path) -> None:
    rnd = random.Random(1414)
    folder = tmp_path / "mutants"
    folder.mkdir()
    names = []
    for seed in SEEDS:
        data = (LIBRARY / seed).read_bytes()
        if not seed.endswith(".pdf"):
            data = data[:TEXT_BYTES]
        stem, _, suffix = seed.partition(".")
        for i in range(MUTANTS_PER_SEED):
            name = f"{stem}-{i}.{suffix}"
            (folder / name).write_bytes(_mutate(data, rnd))
            names.append(name)
    hub = make_hub()
    started = time.perf_counter()
    report = hub.ingest([folder])
    took = time.perf_counter() - started

    landed = {Path(s).name for s in report.added}
    refused = {Path(r.source).name: str(r) for r in report.rejected}
    assert landed | set(refused) == set(names), "every file either lands or is refused"
    assert not landed & set(refused)
    for name, reason in refused.items():
        assert "\n" not in reason and name in reason and "Traceback" not in reason, reason
    assert landed and refused, "the mutations should give both outcomes"
    check = hub.check()
    assert check.ok, check.problems
    health = hub.health()
    assert health["consistent"] and health["documents"] == len(landed)
    assert hub.search("safety", limit=5).hits
    assert took < 60, f"{len(names)} mutated files took {took:.0f}s"
