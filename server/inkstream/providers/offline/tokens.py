"""Code into tokens that keep their leading whitespace, so joining tokens gives the text back.

Python goes through its own ``tokenize``; other languages through a generic regex. Both follow one
convention: a newline is its own token, and indentation is part of the token that follows it.
"""

from __future__ import annotations

import io
import re
import tokenize

_GENERIC = re.compile(
    r"""[ \t]*(?:\n|[A-Za-z_$][\w$]*|\d[\w.]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'"""
    r"""|//[^\n]*|\#[^\n]*|->|=>|==|!=|<=|>=|&&|\|\||::|\+=|-=|\S)"""
)
_SKIP = {tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER, tokenize.ENCODING}
MAX_TOKEN_CHARS = 60


def tokenize_code(text: str, language: str) -> list[str]:
    if language == "python":
        try:
            return _python_tokens(text)
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pass  # incomplete code: the generic tokenizer copes with anything
    return _generic_tokens(text)


def _generic_tokens(text: str) -> list[str]:
    tokens = [m.group(0) for m in _GENERIC.finditer(text)]
    return [t if len(t) <= MAX_TOKEN_CHARS else t[:MAX_TOKEN_CHARS] for t in tokens]


def _python_tokens(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    row, col = 1, 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in _SKIP:
            continue
        (srow, scol), (erow, ecol) = tok.start, tok.end
        line = lines[srow - 1] if srow <= len(lines) else ""
        gap = line[col:scol] if srow == row else line[:scol]
        if tok.type in (tokenize.NEWLINE, tokenize.NL):
            if tok.string:  # tokenize invents an empty NEWLINE at the end of the text
                out.append("\n")
        elif tok.string:
            piece = gap + tok.string
            out.append(piece if len(piece) <= MAX_TOKEN_CHARS else piece[:MAX_TOKEN_CHARS])
        row, col = erow, ecol
    return out
