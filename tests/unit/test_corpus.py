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
    """Fed as a growing stream, as the relay does: stop at ``done``, then the final clean-up."""
    selected = case.selected["text"] if case.selected else ""
    ctx = CompletionContext("u", case.path, case.language, case.model_prefix, case.suffix, selected)
    raw = case.raw[style]
    shown = [""]
    for i in range(1, len(raw) + 1):
        cleaned = clean_completion(raw[:i], ctx, style=style)  # type: ignore[arg-type]
        if cleaned.text != shown[-1]:
            shown.append(cleaned.text)
        if cleaned.done:
            break
    final = clean_completion(raw[:i], ctx, style=style, final=True).text  # type: ignore[arg-type]
    shown.append(final)
    # The ghost text only ever grows: no snapshot takes back what an earlier one showed.
    for earlier, later in zip(shown, shown[1:], strict=False):
        assert later.startswith(earlier), f"{earlier!r} then {later!r}"
    # Stopping the model early shows what letting it finish would have shown, and the ghost text
    # on screen when the stream closes is already the answer.
    if cleaned.done:
        assert cleaned.text == final
    assert clean_completion(raw, ctx, style=style, final=True).text == final  # type: ignore[arg-type]
    assert (selected + final if final else "") == case.expected
