"""Code into tokens, and tokens into what the model learns.

``tokenize_code`` splits text so that joining the tokens gives it back. Python goes through its
own ``tokenize``; other languages (and the part of a Python file that ``tokenize`` gives up on,
such as an unterminated string at the cursor) through a generic regex. Both follow one convention:

- a line break is its own token, ``"\\n"`` (spaces at the end of a line are dropped);
- a line's indentation is its own token (``"    "``);
- any other space is part of the token that follows it (``" ="``, ``" foo"``), so a token also
  says whether a space goes before it;
- a token is at most ``MAX_TOKEN_CHARS`` long (long strings and comments are cut: they are never
  predicted whole anyway, and the cut keeps the vocabulary small).

``model_tokens`` then drops comments (prose the model cannot predict, which would also hide the
code before them) and makes indentation relative: a line as deep as the one before has no
indentation token, a deeper or shallower one has a step token (``step(4)``, ``step(-8)``). So
"a body starts after ``:``" and "``return`` at the end of a block" are learned at every depth.
"""

from __future__ import annotations

import io
import re
import tokenize

MAX_TOKEN_CHARS = 60
NEWLINE = "\n"
_STEP = "\0"  # starts an indentation step token: no code token can
#: Comments, by how they start; ``#`` is a preprocessor line in C-like languages, not a comment.
_COMMENTS = ("//", "/*")
_HASH_COMMENTS = {"python", "bash", "shellscript", "sh", "ruby", "perl", "r", "yaml", "toml"}
_DASH_COMMENTS = {"sql", "lua", "haskell"}

_GENERIC = re.compile(
    r"""[ \t]*(?:\n"""
    r"""|/\*.*?(?:\*/|\Z)"""  # block comment (possibly unterminated at the cursor)
    r"""|//[^\n]*|\#[^\n]*|--(?=\s)[^\n]*"""  # line comments (C-like, shell/Python, SQL/Lua)
    r"""|[A-Za-z_$][\w$]*"""  # identifiers and keywords
    r"""|0[xXbBoO][0-9a-fA-F_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?[A-Za-z]*"""  # numbers
    r"""|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?|`(?:\\.|[^`\\])*`?"""  # strings
    r"""|===|!==|\*\*=|<<=|>>=|\.\.\.|\?\?=?|\?\.|->|=>|==|!=|<=|>=|&&|\|\||::|:="""
    r"""|\+\+|--|\+=|-=|\*=|/=|%=|&=|\|=|\^=|<<|>>|\*\*|\S)""",
    re.S,
)
_SKIP = {tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER, tokenize.ENCODING}
_BREAKS = {tokenize.NEWLINE, tokenize.NL}


def tokenize_code(text: str, language: str) -> list[str]:
    """``text`` as tokens (joined, they give it back); never raises, whatever state the code is
    in. Spaces ending the text after a line break are a token: the indentation typed so far."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if language == "python":
        tokens, consumed = _python_tokens(text)
        if consumed < len(text):  # tokenize gave up (unfinished code): the rest, generically
            tokens.extend(_generic_tokens(text[consumed:]))
    else:
        tokens = _generic_tokens(text)
    return _split_indentation(tokens, text)


def is_break(token: str) -> bool:
    return token == NEWLINE


def is_indent(token: str) -> bool:
    """A line's indentation (spaces and tabs only)."""
    return bool(token) and not token.strip(" \t")


def is_step(token: str) -> bool:
    return token.startswith(_STEP)


def is_comment(token: str, language: str) -> bool:
    word = token.lstrip(" \t")
    if word.startswith(_COMMENTS):
        return True
    if word.startswith("#"):
        return language in _HASH_COMMENTS
    return word.startswith("--") and language in _DASH_COMMENTS


def step(delta: int) -> str:
    """The token for a line ``delta`` columns deeper (or shallower) than the one before."""
    return f"{_STEP}{delta:+d}"


def step_of(token: str) -> int | None:
    """How many columns deeper a step token goes; None for other tokens."""
    return int(token[1:]) if token.startswith(_STEP) else None


def code_tokens(tokens: list[str], language: str) -> list[str]:
    """The tokens without comments; a comment's own line goes with it."""
    out: list[str] = []
    for token in tokens:
        if is_comment(token, language):
            if out and is_indent(out[-1]):
                out.pop()
            if out and is_break(out[-1]):
                out.pop()  # the comment had a line to itself: the next line break stands for it
            continue
        out.append(token)
    return out


def model_tokens(tokens: list[str], language: str) -> list[str]:
    """What the model learns and sees (see the module's docstring). A text ending in a line
    break and indentation ends in the step to that indentation (maybe none)."""
    out: list[str] = []
    before = 0  # indentation of the last line with code
    at_line_start = True
    for token in code_tokens(tokens, language):
        if is_break(token):
            out.append(token)
            at_line_start = True
            continue
        if at_line_start:
            width = len(token) if is_indent(token) else 0
            if width != before:
                out.append(step(width - before))
            before = width
            at_line_start = False
            if is_indent(token):
                continue
        out.append(token)
    return out


def _split_indentation(tokens: list[str], text: str) -> list[str]:
    """A line's indentation becomes a token of its own."""
    out: list[str] = []
    for token in tokens:
        if out and is_break(out[-1]) and token[:1] in (" ", "\t") and not is_break(token):
            word = token.lstrip(" \t")
            out.append(token[: len(token) - len(word)])
            token = word
        out.append(token)
    tail = text[len(text.rstrip(" \t")) :]
    if tail and out and is_break(out[-1]) and text.endswith(NEWLINE + tail):
        out.append(tail)  # a line with only indentation so far: the cursor's, usually
    return out


def _cut(token: str) -> str:
    return token if len(token) <= MAX_TOKEN_CHARS else token[:MAX_TOKEN_CHARS]


def _generic_tokens(text: str) -> list[str]:
    out: list[str] = []
    for match in _GENERIC.finditer(text):
        token = match.group(0)
        out.append(NEWLINE if token.endswith("\n") and not token.strip() else _cut(token))
    return out


def _python_tokens(text: str) -> tuple[list[str], int]:
    """Tokens, and how far into ``text`` they reach (all of it unless ``tokenize`` failed)."""
    starts = [0]  # offset of each line's start, for tokenize's (row, col) positions
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    out: list[str] = []
    end = 0  # offset where the previous token ended
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in _SKIP:
                continue
            (srow, scol), (erow, ecol) = tok.start, tok.end
            if tok.type in _BREAKS:
                if tok.string:  # tokenize invents an empty NEWLINE at the end of the text
                    out.append(NEWLINE)
            elif tok.type == tokenize.ERRORTOKEN and not tok.string.strip():
                continue  # a stray space: it becomes part of the next token
            else:
                out.append(_cut(text[end : starts[srow - 1] + scol] + tok.string))
            end = starts[erow - 1] + ecol
    except (tokenize.TokenError, SyntaxError):
        pass  # unfinished code: keep what was read; the caller tokenizes the rest
    if end < len(text) and not text[end:].strip():
        end = len(text)  # only trailing whitespace is left: nothing to add
    return out, end
