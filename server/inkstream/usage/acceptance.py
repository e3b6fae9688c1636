"""How much of an accepted suggestion is still in the document: the kept rate. Pure.

The server already mirrors every open document (``didChange``), so it can look for itself some
time after an acceptance, for every client alike. The search starts where the text went in and
covers its lines plus a margin, so edits around it (lines added above, text typed in between)
do not hide it; text before the insertion point is not searched, so the surrounding code that
was there anyway is never counted as kept.
"""

from __future__ import annotations

import difflib

#: lines of context searched on each side of the accepted text
WINDOW_LINES = 20
#: shorter common runs are coincidence (a space, an "e"), not kept text
MIN_RUN = 4


def kept_ratio(accepted: str, document: str, line: int, column: int = 0) -> float:
    """Share (0..1) of ``accepted``'s characters found, in order, from ``line:column`` on."""
    if not accepted:
        return 1.0
    lines = document.split("\n")
    end = min(len(lines), line + accepted.count("\n") + 1 + WINDOW_LINES)
    window = "\n".join(lines[line:end])[column:]
    matcher = difflib.SequenceMatcher(None, accepted, window, autojunk=False)
    least = min(MIN_RUN, len(accepted))
    matched = sum(b.size for b in matcher.get_matching_blocks() if b.size >= least)
    return round(matched / len(accepted), 4)
