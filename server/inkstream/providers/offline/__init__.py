"""The built-in offline model: works with no network and no key, through the same interface.

A real (small) statistical model of code: back-off n-grams learned from the project and from the
Python standard library, decoded greedily, FIM-aware (it stops where its output runs into the
code after the cursor) and stopping at natural ends. Explanations are structural.

Pure parts: ``tokens`` (code -> tokens), ``ngram`` (the model), ``decoder`` (the completion at a
cursor), ``structure`` (what the file defines: the names, attributes and definitions a completion
may use), ``explainer`` (Markdown from the syntax tree). I/O: ``index`` (files, cache, the detached
process that builds). Async: ``provider`` (``OfflineProvider``).

Importing this package does no work and imports none of them until ``OfflineProvider`` is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inkstream.providers.offline.provider import OfflineProvider

__all__ = ["OfflineProvider"]


def __getattr__(name: str) -> Any:
    if name == "OfflineProvider":
        from inkstream.providers.offline.provider import OfflineProvider

        return OfflineProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
