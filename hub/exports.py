"""A package's public names, imported when first used (PEP 562): importing one small module of a
package (the kernel's errors, say) loads nothing else of it."""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable


def lazy(package: str, where: dict[str, str]) -> tuple[Callable[[str], Any], list[str]]:
    """``__getattr__`` and ``__all__`` for a package's ``__init__``; ``where``: name -> the
    module that defines it."""

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(where[name]), name)

    return __getattr__, sorted(where)
