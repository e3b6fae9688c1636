"""The completion corpus (tests/data/corpus): documents with a cursor, raw model output per style,
and the text expected on screen. Written for inkstream; shared by the unit and end-to-end tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).parent / "data" / "corpus"
CURSOR = "<CURSOR>"


@dataclass(frozen=True)
class Case:
    name: str
    language: str
    path: str
    prefix: str
    suffix: str
    raw: dict[str, str]
    expected: str
    selected: dict[str, Any] | None

    @property
    def model_prefix(self) -> str:
        """The prefix as the server builds it: the selected suggest item counts as inserted."""
        if not self.selected:
            return self.prefix
        return self.prefix[: len(self.prefix) - self.selected["replace"]] + self.selected["text"]


def load() -> list[Case]:
    cases = []
    for file in sorted(CORPUS.glob("*.json")):
        for c in json.loads(file.read_text(encoding="utf-8")):
            prefix, _, suffix = c["document"].partition(CURSOR)
            raw = {"fim": c["raw_fim"], "chat": c["raw_chat"]}
            cases.append(
                Case(
                    c["name"],
                    c["language"],
                    c["path"],
                    prefix,
                    suffix,
                    raw,
                    c["expected"],
                    c.get("selected"),
                )
            )
    return cases
