"""Every corpus case through the post-processing, fed as a growing stream, in both styles."""

from __future__ import annotations

import pytest

from corpus import Case, load
from inkstream.completion.context import CompletionContext
from inkstream.completion.postprocess import clean_completion

CASES = load()


def test_corpus_size() -> None:
    assert len(CASES) >= 80
    assert len({c.language for c in CASES}) >= 10


@pytest.mark.parametrize("style", ["fim", "chat"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, style: str) -> None:
    selected = case.selected["text"] if case.selected else ""
    ctx = CompletionContext("u", case.path, case.language, case.model_prefix, case.suffix, selected)
    raw = case.raw[style]
    shown = ""
    for i in range(1, len(raw) + 1):
        cleaned = clean_completion(raw[:i], ctx, style=style)  # type: ignore[arg-type]
        shown = cleaned.text
        if cleaned.done:
            break
    final = clean_completion(raw[:i], ctx, style=style, final=True).text  # type: ignore[arg-type]
    assert final.startswith(shown) or shown.startswith(final)
    assert (selected + final if final else "") == case.expected
