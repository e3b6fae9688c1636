"""How much of an accepted suggestion is still in the document: the kept rate. Pure.

The server already mirrors every open document (``didChange``), so it can look for itself some
time after an acceptance, for every client alike. The search starts where the text went in and
covers its lines plus a margin, so edits around it (lines added above, text typed in between)
do not hide it; text before the insertion point is not searched, so the surrounding code that
was there anyway is never counted as kept.

Everything here counts characters (code points, Python ``str`` indices): the handlers turn
client positions (negotiated encoding) and Copilot's ``acceptedLength`` (UTF-16) into them.
"""

from __future__ import annotations

import difflib

from lsprotocol import types
from pygls.workspace import PositionCodec

#: lines of context searched on each side of the accepted text
WINDOW_LINES = 20
#: shorter common runs are coincidence (a space, an "e"), not kept text
MIN_RUN = 4

_UTF16 = PositionCodec(types.PositionEncodingKind.Utf16)  # pygls' unit counts


def kept_ratio(accepted: str, document: str, line: int, column: int = 0) -> float:
    """Share (0..1) of ``accepted``'s characters found, in order, from ``line:column`` on.

    ``column`` indexes the line's ``str``; lines are split as pygls splits them, so ``line`` is
    the line number the server's positions use.
    """
    if not accepted:
        return 1.0
    lines = document.splitlines(keepends=True)
    end = min(len(lines), line + accepted.count("\n") + 1 + WINDOW_LINES)
    window = "".join(lines[line:end])[column:]
    matcher = difflib.SequenceMatcher(None, accepted, window, autojunk=False)
    least = min(MIN_RUN, len(accepted))
    matched = sum(b.size for b in matcher.get_matching_blocks() if b.size >= least)
    return round(matched / len(accepted), 4)


def utf16_prefix(text: str, units: int) -> int:
    """How many characters of ``text`` its first ``units`` UTF-16 code units hold.

    Copilot's ``acceptedLength`` counts UTF-16 units whatever the position encoding. A length
    that ends inside a character (half a surrogate pair) leaves that character out.
    """
    used = 0
    for index, char in enumerate(text):
        used += _UTF16.client_num_units(char)
        if used > units:
            return index
    return len(text)
