"""Answers without asking the model: an LRU of finished completions, with type-through.

Type-through: if the user typed characters that match the start of a completion we already have
for the same spot, the rest of that completion is still the answer; no upstream request needed.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedCompletion:
    uri: str
    prefix: str
    suffix: str
    text: str


class CompletionCache:
    def __init__(self, capacity: int = 128) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[tuple[str, str, str], CachedCompletion] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def put(self, uri: str, prefix: str, suffix: str, text: str) -> None:
        if not text:
            return
        key = (uri, prefix, suffix)
        self._entries[key] = CachedCompletion(uri, prefix, suffix, text)
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def lookup(self, uri: str, prefix: str, suffix: str) -> str | None:
        """The completion for this spot, exact or typed-through; None if we have none."""
        exact = self._entries.get((uri, prefix, suffix))
        if exact is not None:
            self._entries.move_to_end((uri, prefix, suffix))
            self.hits += 1
            return exact.text
        for entry in reversed(self._entries.values()):
            rest = type_through(entry.prefix, entry.text, prefix)
            if entry.uri == uri and entry.suffix == suffix and rest:
                self.hits += 1
                return rest
        self.misses += 1
        return None


def type_through(old_prefix: str, completion: str, new_prefix: str) -> str | None:
    """What is left of ``completion`` after the user typed from ``old_prefix`` to ``new_prefix``.

    None when the typing does not follow the completion (or has consumed all of it).
    """
    if not new_prefix.startswith(old_prefix):
        return None
    typed = new_prefix[len(old_prefix) :]
    if not typed or not completion.startswith(typed) or len(typed) >= len(completion):
        return None
    return completion[len(typed) :]
