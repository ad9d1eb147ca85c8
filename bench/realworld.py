"""Real files nobody here wrote, through the real pipeline: what gets in, how well it reads, how fast.

    python bench/realworld.py [--fresh] [--folder ../shared/benchmarks/realworld]

Ingests every PDF of the corpus and every readability test page (`source.html`) into one home
under $HUB_BENCH_DIR (kept between runs; --fresh starts over), then reports:

* files added and refused, refusals grouped by reason;
* pages read by OCR;
* words kept per PDF against poppler's `pdftotext` (the share of pdftotext's words found in the
  document's passages; median and worst; skipped when pdftotext is not installed);
* web pages against readability's reference article (`expected.html`): word precision and recall
  of the passages, median and worst, pages under 0.5 precision and whether ingest warned;
* titles judged junk by `ingest.titles.is_junk_title` (a number, a file name, a generic or
  template title, a table header, control characters, a path);
* ingest throughput.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path

from _common import BENCHMARKS, WORK

from hub.core import Hub
from hub.settings import Settings

HOME = WORK / "homes" / "realworld"
_WORD = re.compile(r"\w+", re.UNICODE)


def corpus(folder: Path) -> list[Path]:
    pdfs = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())
    pages = sorted((folder / "readability").rglob("source.html"))
    return pdfs + pages


def words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in _WORD.findall(text))


def overlap(found: Counter[str], reference: Counter[str]) -> tuple[float, float]:
    """Word precision and recall of ``found`` against ``reference`` (multisets)."""
    common = sum((found & reference).values())
    return (common / max(1, sum(found.values())), common / max(1, sum(reference.values())))


def pdftotext(path: Path) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    try:
        out = subprocess.run(["pdftotext", "-q", "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return None
    return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else None


def html_text(path: Path) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8", errors="replace"), "html.parser").get_text(" ")


def indexed_text(hub: Hub, doc) -> str:  # type: ignore[no-untyped-def]
    """What was read of a document: each heading once, every passage (not the title: metadata)."""
    from html_extraction import with_headings

    return with_headings(hub.catalog.chunks_of(doc.id))


def reason_kind(reason: str) -> str:
    """A refusal's reason without the file's own numbers and names, to group them."""
    text = re.sub(r"\(.*?\)", "(…)", reason)
    return re.sub(r"\d[\d,.]*", "N", text)[:90]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=BENCHMARKS / "realworld")
    parser.add_argument("--fresh", action="store_true", help="start from an empty home")
    args = parser.parse_args()
    files = corpus(args.folder)
    if args.fresh and HOME.exists():
        shutil.rmtree(HOME)
    hub = Hub(Settings.from_env(None, home=HOME, progress=True))
    started = time.perf_counter()
    report = hub.ingest(files)
    seconds = time.perf_counter() - started
    docs = {d.extra.get("path"): d for d in hub.documents()}
    copies = {c["path"]: c["doc_id"] for c in hub.catalog.copies()}
    by_id = {d.id: d for d in docs.values()}

    print(f"{len(files)} files ({sum(f.suffix.lower() == '.pdf' for f in files)} PDF, "
          f"{sum(f.suffix == '.html' for f in files)} web pages): {len(report.added) + len(report.updated)} added or "
          f"updated, {len(report.unchanged)} unchanged, {len(report.duplicates)} identical copies, "
          f"{len(report.rejected)} refused")
    for kind, n in Counter(reason_kind(r.reason) for r in report.rejected).most_common():
        print(f"  refused {n:>3}  {kind}")
    ocr = sum(int(d.extra.get("ocr_pages", 0) or 0) for d in docs.values())
    print(f"pages read by OCR: {ocr} (in {sum(1 for d in docs.values() if d.extra.get('ocr_pages'))} documents)")
    warned = [w for w in getattr(report, "warnings", [])]
    if warned:
        print(f"warnings: {len(warned)}")

    kept = []
    for path in files:
        doc = docs.get(str(path.resolve())) or by_id.get(copies.get(str(path.resolve()), ""))
        if path.suffix.lower() != ".pdf" or doc is None:
            continue
        reference = pdftotext(path)
        if reference is None:
            continue
        ref = words(reference)
        if sum(ref.values()) < 50:  # pdftotext reads nothing either (a scan): OCR's case
            continue
        ours = words(indexed_text(hub, doc))
        kept.append((overlap(ours, ref)[1], path.name))
    if kept:
        kept.sort()
        print(f"PDF words kept against pdftotext ({len(kept)} PDFs): median {statistics.median(k for k, _ in kept):.3f}, "
              f"worst {kept[0][0]:.3f} ({kept[0][1]}); under 0.9: {sum(k < 0.9 for k, _ in kept)}")
    else:
        print("PDF words kept against pdftotext: pdftotext not installed (apt-get install poppler-utils)")

    scores = []
    for page in (p for p in files if p.name == "source.html"):
        expected = page.with_name("expected.html")
        doc = docs.get(str(page.resolve())) or by_id.get(copies.get(str(page.resolve()), ""))
        if doc is None or not expected.exists():
            continue
        ours = words(indexed_text(hub, doc))
        p, r = overlap(ours, words(html_text(expected)))
        scores.append((p, r, page.parent.name, bool(doc.extra.get("warnings"))))
    if scores:
        low = [s for s in scores if s[0] < 0.5]
        print(f"web pages against readability's reference ({len(scores)}): precision median "
              f"{statistics.median(s[0] for s in scores):.3f}, worst {min(s[0] for s in scores):.3f}; recall median "
              f"{statistics.median(s[1] for s in scores):.3f}, worst {min(s[1] for s in scores):.3f}; "
              f"under 0.5 precision: {len(low)} ({sum(s[3] for s in low)} with a warning)")

    try:
        from ingest.titles import is_junk_title
    except ImportError:
        is_junk_title = None
    if is_junk_title is not None:
        junk = [d for d in docs.values() if is_junk_title(d.title)]
        print(f"titles judged junk: {len(junk)} of {len(docs)} ({len(junk) / max(1, len(docs)):.1%})")
        for d in junk[:10]:
            print(f"  {d.title!r}  <- {Path(d.source).name}")
    passages = report.passages
    print(f"ingest: {seconds:.0f} s for {len(files)} files, {passages} passages written, {report.embedded} embedded "
          f"({passages / seconds if seconds else 0:.1f} passages/s)")
    print(f"hub check: {'clean' if hub.check().ok else 'PROBLEMS: ' + '; '.join(hub.check().problems)}")
    hub.close()


if __name__ == "__main__":
    main()
