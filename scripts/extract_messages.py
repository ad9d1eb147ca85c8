"""Write hub/locales/messages.pot: every _("...") in the templates and web/*.py, plus the labels
that reach templates as data (ratings, levels, statuses, roles, document types, and the themes,
populations and settings of the bundled practice profiles).

    python scripts/extract_messages.py         # then translate the new msgids in fr.po / es.po
    python scripts/extract_messages.py --check # exit 1 and list msgids a catalog lacks
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from practices.ratings import LEVELS, SCALE  # noqa: E402
from hub.i18n import LANGUAGES, catalog  # noqa: E402

CALL = re.compile(r"""_\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
FLASH = re.compile(r"""flash\(request,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)""")
DATA = (["member", "moderator", "admin", "pending", "approved", "rejected", "withdrawn", "superseded", "new",
         "edit", "withdrawal", "submitted", "edited", "withdrawal requested", "document", "case study",
         "practice", "evaluation", "review", "tool guide", "diagnosis", "guide", "report", "theme",
         "rating", "level", "population", "Question", "Problem", "Partners", "Evidence rating",
         "Advisor's note:", "References", "Technical-support brief prepared by {author}, {date}."]
        + [r.label for r in SCALE.values()] + [r.meaning for r in SCALE.values()] + list(LEVELS)
        + list(LEVELS.values()))


def profile_vocabulary() -> list[str]:
    """The themes, populations and settings the bundled profiles name: the practice pages and the
    advice's filters show them. A library's own profiles may add words, shown as written."""
    import yaml

    words: set[str] = set()
    for path in sorted((ROOT / "library" / "practices").glob("*.md")):
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1]) or {}
        for key in ("themes", "populations", "settings"):
            words.update(str(w) for w in meta.get(key) or [])
    return sorted(words)


def messages() -> list[str]:
    found: dict[str, None] = {}
    for path in sorted((ROOT / "web" / "templates").glob("*.html")):
        for m in CALL.finditer(path.read_text(encoding="utf-8")):
            found[ast.literal_eval(m.group(1))] = None
    for path in sorted((ROOT / "web").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for m in FLASH.finditer(text):
            found["".join(ast.literal_eval(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', m.group(1)))] = None
    for text in DATA + profile_vocabulary():
        found[text] = None
    return list(found)


def po_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> int:
    msgs = messages()
    if "--check" in sys.argv:
        missing = {lang: [m for m in msgs if m not in catalog(lang)] for lang in LANGUAGES if lang != "en"}
        for lang, items in missing.items():
            for m in items:
                print(f"{lang}: {m}")
        return 1 if missing.get("fr") else 0
    out = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', ""]
    for m in msgs:
        out += [f"msgid {po_quote(m)}", 'msgstr ""', ""]
    (ROOT / "hub" / "locales").mkdir(exist_ok=True)
    (ROOT / "hub" / "locales" / "messages.pot").write_text("\n".join(out), encoding="utf-8")
    print(f"{len(msgs)} messages in hub/locales/messages.pot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
