"""The registry of practitioner forums: where peers discuss a practice.

Curators keep ``practices/forums.yaml`` (or the file named by ``HUB_FORUMS``): name, URL,
language, themes and a description per forum. A recommendation links the forums whose themes
(or listed practices) meet the practice's.

``links`` maps a practice id to the forum's own page on that practice (a toolkit entry, a guide):
:func:`forums_for` gives those forums with ``url`` set to that page, so every place that shows a
practice's forums (pages, advice, CLI, API, briefs) leads to it. ``reason`` says in one line why
the home page is the best link where the forum has no such page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hub.config_file import load_yaml
from hub.errors import HubError

DEFAULT_PATH = Path(__file__).with_name("forums.yaml")


@dataclass
class Forum:
    id: str
    name: str
    url: str
    language: list[str]
    themes: list[str]
    description: str
    practices: list[str] = field(default_factory=list)
    #: practice id -> URL of the forum's page on that practice
    links: dict[str, str] = field(default_factory=dict)
    #: why the home page (``url``) is the best link for its practices, when it is
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def link_for(self, practice_id: str) -> str:
        """The page most useful for the practice: its own page on the forum, else ``url``."""
        return self.links.get(practice_id, self.url)


def load_forums(path: Path | None = None) -> list[Forum]:
    path = path or DEFAULT_PATH
    data = load_yaml(path, "forum registry", "HUB_FORUMS")
    forums = []
    for i, row in enumerate(data.get("forums") or []):
        missing = [k for k in ("id", "name", "url") if not row.get(k)]
        if missing:
            raise HubError(f"{path}: forum #{i + 1} lacks {', '.join(missing)}")
        if not str(row["url"]).startswith(("https://", "http://")):
            raise HubError(f"{path}: forum {row['id']!r} has a URL that is not http(s)")
        lang = row.get("language") or []
        links = row.get("links") or {}
        if not isinstance(links, dict):
            raise HubError(f"{path}: forum {row['id']!r}: links must map practice ids to URLs")
        for practice_id, url in links.items():
            if not str(url).startswith(("https://", "http://")):
                raise HubError(f"{path}: forum {row['id']!r}: the link for {practice_id!r} is not http(s)")
        listed = [str(p) for p in row.get("practices") or []]
        forums.append(Forum(
            id=str(row["id"]), name=str(row["name"]), url=str(row["url"]),
            language=[lang] if isinstance(lang, str) else list(lang),
            themes=[str(t).lower() for t in row.get("themes") or []],
            description=str(row.get("description") or "").strip(),
            practices=listed + [str(p) for p in links if str(p) not in listed],
            links={str(k): str(v) for k, v in links.items()},
            reason=str(row["reason"]).strip() if row.get("reason") else None,
        ))
    return forums


def forums_for(forums: list[Forum], practice_id: str, themes: list[str], limit: int = 3) -> list[Forum]:
    """Forums that list the practice first, then those sharing most themes with it; each with
    ``url`` set to its page on the practice where it has one (``links``)."""
    wanted = {t.lower() for t in themes}
    scored = []
    for forum in forums:
        score = (10 if practice_id in forum.practices else 0) + len(wanted & set(forum.themes))
        if score:
            scored.append((score, forum.name, forum))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [replace(f, url=f.link_for(practice_id)) for _, _, f in scored[:limit]]
