"""The hub's own YAML files (the thesaurus, the forum registry), read one way.

libyaml's safe parser when PyYAML has it: the thesaurus takes 0.05 s instead of 0.5 s, which a
server spent on its first search. A missing or broken file is one line naming it and the setting
that points elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.errors import HubError


def load_yaml(path: Path, what: str, setting: str) -> Any:
    """The file's data (an empty file is ``{}``); ``what`` names it in errors ("thesaurus file")."""
    import yaml

    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"),
                         Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except FileNotFoundError:
        raise HubError(f"{what} {path} not found (set {setting})") from None
    except yaml.YAMLError as exc:
        raise HubError(f"{what} {path} is not valid YAML: {' '.join(str(exc).split())}") from None
