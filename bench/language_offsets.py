"""The cosine each encoder gives a question and an unrelated text, per pair of languages: the
table ``UNRELATED_COSINE`` in search/embedder.py, from which search takes each encoder's bonus
for texts in the question's own language (search/dense.py).

The texts are the sample profiles' parallel ones (library/practices: each profile's typical
situations and summary, written by the team in English, French and Spanish). A profile's first
two situations in one language are the questions; the other profiles' summaries in each language
are the unrelated texts. Because the three languages say the same things, the differences
between the columns are the encoder's, not the texts'.

    .venv/bin/python bench/language_offsets.py            # use-m3 and minilm
    .venv/bin/python bench/language_offsets.py e5-small   # any encoder by name
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.markdown import split_front_matter  # noqa: E402
from search.analysis import LANGUAGES  # noqa: E402
from search.encoders import load  # noqa: E402

PRACTICES = Path(__file__).resolve().parents[1] / "library" / "practices"
QUESTIONS_PER_PROFILE = 2


def parallel_texts(folder: Path = PRACTICES) -> tuple[dict[str, list[list[str]]], dict[str, list[str]]]:
    """Each language's situations (a list per profile) and summaries, for the profiles that have
    both in all three languages, in the same order."""
    situations: dict[str, list[list[str]]] = {lang: [] for lang in LANGUAGES}
    summaries: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for path in sorted(folder.glob("*.md")):
        meta, _ = split_front_matter(path.name, path.read_text(encoding="utf-8"))
        said = meta.get("situations") or {}
        summary = {meta.get("language", "en"): meta.get("summary"), **(meta.get("summaries") or {})}
        if all(said.get(lang) and summary.get(lang) for lang in LANGUAGES):
            for lang in LANGUAGES:
                situations[lang].append(list(said[lang]))
                summaries[lang].append(str(summary[lang]))
    return situations, summaries


def unrelated_cosines(encoder, situations: dict[str, list[list[str]]],  # type: ignore[no-untyped-def]
                      summaries: dict[str, list[str]]) -> dict[str, float]:
    """``"a>b"``: the mean cosine between a question in language a and the summaries, in b, of
    the profiles it is not about; only the pairs the encoder reads."""
    reads = encoder.languages
    langs = [lang for lang in LANGUAGES if reads is None or lang in reads]
    texts = {lang: np.asarray(encoder.encode(summaries[lang])) for lang in langs}
    table: dict[str, float] = {}
    for a in langs:
        asked = [(i, np.asarray(encoder.encode_query(text)).ravel())
                 for i, texts_of in enumerate(situations[a]) for text in texts_of[:QUESTIONS_PER_PROFILE]]
        for b in langs:
            values = [float(texts[b][j] @ q) for i, q in asked for j in range(len(texts[b])) if j != i]
            table[f"{a}>{b}"] = round(statistics.mean(values), 4)
    return table


def main() -> None:
    names = sys.argv[1:] or ["use-m3", "minilm"]
    situations, summaries = parallel_texts()
    print(f"{len(summaries['en'])} profiles in three languages, {QUESTIONS_PER_PROFILE} questions each")
    for name in names:
        print(f'    "{name}": {unrelated_cosines(load(name), situations, summaries)},')


if __name__ == "__main__":
    main()
