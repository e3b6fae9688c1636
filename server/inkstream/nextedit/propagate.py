"""The offline next-edit predictor: the user's last edit, when it is a token-level substitution,
offered wherever else in the file it applies.

Pure, and fast by construction (a few regular-expression scans of the document, no per-character
Python loop), so its hunks reach the editor within milliseconds, before any model's. It fires only
on edits that say what to repeat:

- a rename, one identifier for another (``total`` → ``subtotal``), when the new name is new to
  the file (changing an argument ``f(a)`` → ``f(b)`` to a name already in use is not a rename);
- a substitution of a token sequence holding a name (``assertEquals(`` → ``assertEqual(``,
  ``== None`` → ``is None``, ``, debug=True`` removed); one name made an expression goes only
  where the name plays the same part;
- an argument added at either end of a call (``fetch(url)`` → ``fetch(url, timeout=t)``): the
  other calls of ``fetch`` get it, unless they already have it; a parameter added to a
  definition goes to the other definitions of the name (overrides), never to calls;
- a qualification added before a call (``helper(`` → ``self.helper(``);
- a statement's rest wrapped in parentheses (``print x`` → ``print(x)``).

Typing new code changes nothing that was there, so it is none of these. Matches respect word
boundaries and stay in the kind of text the edit was in: a rename in code leaves strings and
comments alone, an edit inside a string changes strings only. Places are ordered nearest after
the cursor first, then the nearest before it; each place (a line, or the lines of one call) is
its own hunk.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from inkstream.nextedit.history import Edit
from inkstream.nextedit.hunk import LineHunk

#: hunks offered at most, per request
MAX_PLACES = 50
#: a call's closing parenthesis is looked for this far
MAX_CALL_CHARS = 2000

_TOKEN = re.compile(r"\w+|[^\w\s]")
_NAME = re.compile(r"[A-Za-z_]\w*\Z")
_QUALIFIER = re.compile(r"(?:[A-Za-z_]\w*\s*\.\s*)+\Z|await\s+\Z")

CODE, STRING, COMMENT = "code", "string", "comment"

_HASH = r"#[^\n]*"
_SLASHES = r"//[^\n]*|/\*[\s\S]*?\*/"
_DASHES = r"--[^\n]*"
_TRIPLE = r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\''
_DOUBLE = r'"(?:\\.|[^"\\\n])*"'
_SINGLE = r"'(?:\\.|[^'\\\n])*'"
_BACKTICK = r"`(?:\\.|[^`\\])*`"

_HASH_LANGUAGES = {
    "python", "shellscript", "sh", "bash", "zsh", "ruby", "perl", "r", "yaml", "toml",
    "makefile", "dockerfile", "elixir", "julia", "nim", "coffeescript", "powershell", "cmake",
}  # fmt: skip
_SLASH_LANGUAGES = {
    "c", "cpp", "objective-c", "objective-cpp", "java", "javascript", "javascriptreact",
    "typescript", "typescriptreact", "go", "rust", "swift", "kotlin", "csharp", "php", "scala",
    "dart", "groovy", "zig", "jsonc", "css", "scss", "less", "proto", "solidity",
}  # fmt: skip
_DASH_LANGUAGES = {"lua", "sql", "haskell", "ada", "elm"}


def _literals(language: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Strings and comments of a language family (anything else: strings only), and the
    characters they can start with."""
    parts = []
    if language in _HASH_LANGUAGES:
        parts.append(_HASH)
    elif language in _SLASH_LANGUAGES:
        parts.append(_SLASHES)
    elif language in _DASH_LANGUAGES:
        parts.append(_DASHES)
    if language == "python":
        parts.append(_TRIPLE)
    parts.append(_DOUBLE)
    if language != "rust":  # 'a is a lifetime there
        parts.append(_SINGLE)
    if language.startswith(("javascript", "typescript")) or language == "go":
        parts.append(_BACKTICK)
    starts = "".join(sorted({p[0] if p[0] != "\\" else p[1] for p in parts}))
    return re.compile("|".join(parts)), re.compile(f"[{re.escape(starts)}]")


@dataclass(frozen=True)
class _Text:
    """The document with what is needed to place offsets: line starts, strings, comments."""

    text: str
    line_starts: list[int]
    literal_starts: list[int]
    literal_ends: list[int]
    literal_kinds: list[str]

    @classmethod
    def of(cls, lines: Sequence[str], language: str) -> _Text:
        text = "\n".join(lines)
        starts = [0]
        total = 0
        for line in lines[:-1]:
            total += len(line) + 1
            starts.append(total)
        literal, opener = _literals(language)
        spans = []
        at = 0
        # jump from one possible opening character to the next (a character-class search runs
        # at C speed; the alternation tried at every position was most of the time)
        while (candidate := opener.search(text, at)) is not None:
            m = literal.match(text, candidate.start())
            if m is None or m.end() == m.start():
                at = candidate.start() + 1
                continue
            spans.append((m.start(), m.end(), STRING if m.group()[0] in "\"'`" else COMMENT))
            at = m.end()
        return cls(
            text,
            starts,
            [s for s, _, _ in spans],
            [e for _, e, _ in spans],
            [k for _, _, k in spans],
        )

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset) - 1

    def kind_at(self, offset: int) -> str:
        i = bisect.bisect_right(self.literal_starts, offset) - 1
        if i >= 0 and offset < self.literal_ends[i]:
            return self.literal_kinds[i]
        return CODE


@dataclass(frozen=True)
class _Replacement:
    start: int
    end: int
    text: str


def propagate(
    edit: Edit,
    lines: Sequence[str],
    cursor: tuple[int, int],
    *,
    language: str = "",
    own_lines: Sequence[str] = (),
    opened: str | None = None,
) -> list[LineHunk]:
    """Hunks that repeat ``edit`` (the user's last edit, in the document ``lines`` as it is
    now) elsewhere, ordered for the user at ``cursor`` (line, column as a str index).

    ``own_lines`` are lines the user wrote in earlier edits (their new sides): a name found only
    there and in ``edit`` is still new to the file; so is one absent from ``opened`` (the text
    as the editor opened it), whatever the edits since (a long rename outlives the history).
    """
    if len(edit.old) != 1 or len(edit.new) != 1 or edit.start >= len(lines):
        return []
    old_line, new_line = edit.old[0], edit.new[0]
    if lines[edit.start] != new_line:
        return []  # the history and the document disagree: better nothing than nonsense
    old_tokens = list(_TOKEN.finditer(old_line))
    new_tokens = list(_TOKEN.finditer(new_line))
    head = 0
    limit = min(len(old_tokens), len(new_tokens))
    while head < limit and old_tokens[head].group() == new_tokens[head].group():
        head += 1
    tail = 0
    while tail < limit - head and old_tokens[-1 - tail].group() == new_tokens[-1 - tail].group():
        tail += 1
    old_mid = old_tokens[head : len(old_tokens) - tail]
    new_mid = new_tokens[head : len(new_tokens) - tail]
    before = old_tokens[:head]
    after = old_tokens[len(old_tokens) - tail :]
    doc = _Text.of(lines, language)
    where = doc.line_starts[edit.start] + (
        new_mid[0].start() if new_mid else (new_tokens[head - 1].end() if head else 0)
    )
    kind = doc.kind_at(where)
    renamed = _renamed(old_mid, new_mid)
    if renamed is not None:  # a rename or nothing
        written = [*own_lines, new_line]
        replacements = _rename(*renamed, doc, kind, written, opened)
    else:
        replacements = (
            _wrap(old_mid, new_mid, before, after, old_line, doc, kind)
            or _call_argument(old_mid, new_mid, before, after, new_line, doc)
            or (
                not old_mid
                and _qualification(new_mid, new_tokens[len(new_tokens) - tail :], new_line, doc)
            )
            or _substitution(*_with_a_name(old_mid, new_mid, after), old_line, new_line, doc, kind)
        )
    return _ordered(_hunks(replacements, doc, lines), cursor)


def _renamed(old_mid: list[re.Match[str]], new_mid: list[re.Match[str]]) -> tuple[str, str] | None:
    """(old, new) when the change is one name for another, wherever it changed in the span
    (``out[#out + 1]`` → ``lines[#lines + 1]`` is the rename ``out`` → ``lines``)."""
    if len(old_mid) != len(new_mid) or not old_mid:
        return None
    pairs = {(a.group(), b.group()) for a, b in zip(old_mid, new_mid, strict=True)}
    changed = {(a, b) for a, b in pairs if a != b}
    if len(changed) != 1:
        return None
    ((old, new),) = changed
    if not (_NAME.match(old) and _NAME.match(new)):
        return None
    return old, new


def _with_a_name(
    old_mid: list[re.Match[str]], new_mid: list[re.Match[str]], after: list[re.Match[str]]
) -> tuple[list[re.Match[str]], list[re.Match[str]]]:
    """An operator changed (``== None`` → ``is None``): the unchanged tokens after it join the
    pattern until it holds a name, so it does not match every ``==`` in the file."""
    if not old_mid or not new_mid or any(_NAME.match(m.group()) for m in old_mid):
        return old_mid, new_mid
    for count in range(1, min(2, len(after)) + 1):
        if _NAME.match(after[count - 1].group()):
            taken = after[:count]
            return [*old_mid, *taken], [*new_mid, *_same_tokens(new_mid, taken)]
    return old_mid, new_mid


def _same_tokens(new_mid: list[re.Match[str]], taken: list[re.Match[str]]) -> list[re.Match[str]]:
    """The new line's copies of ``taken`` (the unchanged tokens right after ``new_mid``)."""
    if not new_mid:
        return []
    line = new_mid[-1].string
    return list(_TOKEN.finditer(line, new_mid[-1].end()))[: len(taken)]


def _rename(
    old: str, new: str, doc: _Text, kind: str, own_lines: Sequence[str], opened: str | None
) -> list[_Replacement]:
    written = sum(len(_after_boundary(_words(new), line)) for line in own_lines)
    brought_in = opened is not None and not _after_boundary(_words(new), opened)
    if not brought_in and len(_after_boundary(_words(new), doc.text)) > written:
        return []  # an existing name: an argument or a variable swapped, not a rename
    return [
        _Replacement(m.start(), m.end(), new)
        for m in _after_boundary(_words(old), doc.text)
        if doc.kind_at(m.start()) == kind
    ]


def _words(word: str) -> re.Pattern[str]:
    """``word`` ending at a word boundary; the start is checked by ``_after_boundary``: a
    pattern that begins with a literal is searched for at C speed, one that begins with
    ``\\b`` or a look-behind is tried at every position (ten times slower on 5,000 lines)."""
    return re.compile(rf"{re.escape(word)}\b")


def _after_boundary(
    pattern: re.Pattern[str], text: str, *, not_after: str = ""
) -> list[re.Match[str]]:
    """Matches not preceded by a word character (nor by any of ``not_after``)."""
    return [
        m
        for m in pattern.finditer(text)
        if m.start() == 0
        or not (_word_char(text[m.start() - 1]) or text[m.start() - 1] in not_after)
    ]


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _wrap(
    old_mid: list[re.Match[str]],
    new_mid: list[re.Match[str]],
    before: list[re.Match[str]],
    after: list[re.Match[str]],
    old_line: str,
    doc: _Text,
    kind: str,
) -> list[_Replacement]:
    """``print x`` → ``print(x)``: a statement word whose rest of line became parenthesized."""
    if kind != CODE or after or not before or not old_mid or len(new_mid) < len(old_mid) + 2:
        return []
    keyword = before[-1].group()
    opener, closer = new_mid[0].group(), new_mid[-1].group()
    inner = [m.group() for m in new_mid[1:-1]]
    if (
        not _NAME.match(keyword)
        or (opener, closer) not in (("(", ")"), ("[", "]"))
        or inner != [m.group() for m in old_mid]
        or old_line[before[-1].end() : old_mid[0].start()].strip()
    ):
        return []
    statement = re.compile(
        rf"^([ \t]*{re.escape(keyword)})[ \t]+(?![ \t]*[\(\[=.,:])(\S.*?)[ \t]*$", re.M
    )
    return [
        _Replacement(m.end(1), m.end(2), f"{opener}{m.group(2)}{closer}")
        for m in statement.finditer(doc.text)
        if doc.kind_at(m.start(2)) == CODE
    ]


def _call_argument(
    old_mid: list[re.Match[str]],
    new_mid: list[re.Match[str]],
    before: list[re.Match[str]],
    after: list[re.Match[str]],
    new_line: str,
    doc: _Text,
) -> list[_Replacement]:
    """``fetch(url)`` → ``fetch(url, timeout=t)`` (or an argument put first)."""
    if old_mid or not new_mid:
        return []
    added = new_line[new_mid[0].start() : new_mid[-1].end()]
    appended = added.startswith(",") and bool(after) and after[0].group() == ")"
    prepended = added.endswith(",") and bool(before) and before[-1].group() == "("
    if not (appended or prepended):
        return []
    # the callee: the name before the "(" that the insertion is inside of
    depth = 0
    callee = None
    defining = False  # a signature changed: the same change to the other definitions only
    for i in range(len(before) - 1, -1, -1):
        token = before[i].group()
        if token == ")":
            depth += 1
        elif token == "(":
            if depth == 0:
                if i > 0 and _NAME.match(before[i - 1].group()):
                    callee = before[i - 1].group()
                    defining = i > 1 and before[i - 2].group() in _DEFINING
                break
            depth -= 1
    if callee is None or (defining and callee.startswith("__")):
        return []  # each class's __init__ is its own
    argument = added.strip(" \t,")
    marker = argument.split("=", 1)[0].strip() + "=" if "=" in argument else argument
    out = []
    for m in _after_boundary(re.compile(rf"{re.escape(callee)}\s*\("), doc.text):
        if doc.kind_at(m.start()) != CODE or _defined_at(doc.text, m.start()) != defining:
            continue
        close = _closing(doc.text, m.end())
        if close is None:
            continue
        inside = doc.text[m.end() : close]
        if marker in inside or (inside.strip() and argument in inside):
            continue
        if not inside.strip():
            out.append(_Replacement(m.end(), close, argument))
        elif appended and inside.rstrip().endswith(","):  # a trailing comma stays last
            end = m.end() + len(inside.rstrip())
            out.append(_Replacement(end, end, f" {argument},"))
        elif appended:
            end = m.end() + len(inside.rstrip())
            out.append(_Replacement(end, end, added.rstrip()))
        else:
            start = m.end() + len(inside) - len(inside.lstrip())
            out.append(_Replacement(start, start, added.lstrip()))
    return out


def _closing(text: str, start: int) -> int | None:
    """Offset of the ")" closing a call whose "(" ends at ``start``."""
    depth = 0
    stop = min(len(text), start + MAX_CALL_CHARS)
    for m in re.compile(r"[()]").finditer(text, start, stop):
        if m.group() == "(":
            depth += 1
        elif depth == 0:
            return m.start()
        else:
            depth -= 1
    return None


def _qualification(
    new_mid: list[re.Match[str]],
    after: list[re.Match[str]],
    new_line: str,
    doc: _Text,
) -> list[_Replacement]:
    """``helper(`` → ``self.helper(``: the same qualifier before the other calls (``after``:
    the unchanged tokens that follow, in the new line)."""
    if not new_mid or len(after) < 2:
        return []
    added = new_line[new_mid[0].start() : after[0].start()]
    name, opener = after[0].group(), after[1].group()
    if not _QUALIFIER.match(added) or not _NAME.match(name) or opener != "(":
        return []
    out = []
    calls = _after_boundary(re.compile(rf"{re.escape(name)}\s*\("), doc.text, not_after=".")
    for m in calls:
        if doc.kind_at(m.start()) == CODE and not _defined_at(doc.text, m.start()):
            out.append(_Replacement(m.start(), m.start(), added))
    return out


def _substitution(
    old_mid: list[re.Match[str]],
    new_mid: list[re.Match[str]],
    old_line: str,
    new_line: str,
    doc: _Text,
    kind: str,
) -> list[_Replacement]:
    """The changed tokens, as they were, replaced by what they became, when they hold a name."""
    if not any(_NAME.match(m.group()) for m in old_mid):
        return []  # operators alone would match anywhere
    if _subsequence([m.group() for m in old_mid], [m.group() for m in new_mid]):
        return []  # only added to (wrapped, extended): where else it applies is anyone's guess
    old = old_line[old_mid[0].start() : old_mid[-1].end()]
    new = new_line[new_mid[0].start() : new_mid[-1].end()] if new_mid else ""
    parts = [re.escape(m.group()) for m in old_mid]
    pattern = r"\s*".join(parts)
    if _word_char(old[-1]):
        pattern += r"\b"
    compiled = re.compile(pattern)
    matches = (
        _after_boundary(compiled, doc.text) if _word_char(old[0]) else compiled.finditer(doc.text)
    )
    # one name made an expression (``item`` → ``result.items[0]``): only where the name plays
    # the same part, told by what precedes it (an argument after "(" or ",", a type after ":")
    # and, for arguments and statements, whether "=" follows (a keyword's name, an assignment)
    role = _before_char(old_line, old_mid[0].start()) if len(old_mid) == 1 else None
    assigned = bool(_ASSIGNED.match(old_line, old_mid[-1].end()))
    out = []
    for m in matches:
        if doc.kind_at(m.start()) != kind:
            continue
        if role is not None and (
            _before_char(doc.text, m.start()) != role
            or (role in "(," and bool(_ASSIGNED.match(doc.text, m.end())) != assigned)
        ):
            continue
        out.append(_Replacement(m.start(), m.end(), new))
    return out


_DEFINING = {"def", "function", "fn", "func"}
#: what follows a name being assigned, or a keyword argument's name
_ASSIGNED = re.compile(r"[ \t]*=(?!=)")


def _defined_at(text: str, start: int) -> bool:
    """The name at ``start`` is being defined (``def name(``), not called."""
    return bool(re.search(r"\b(?:def|function|fn|func)\s+\Z", text[max(0, start - 10) : start]))


def _before_char(text: str, start: int) -> str:
    """The last character before ``start`` on its line that is not a space ("" if none)."""
    line_start = text.rfind("\n", 0, start) + 1
    stripped = text[line_start:start].rstrip()
    return stripped[-1:]


def _subsequence(part: list[str], whole: list[str]) -> bool:
    it = iter(whole)
    return all(token in it for token in part)


def _hunks(replacements: list[_Replacement], doc: _Text, lines: Sequence[str]) -> list[LineHunk]:
    """One hunk per place: the lines a replacement touches, with every replacement in them."""
    hunks: list[LineHunk] = []
    group: list[_Replacement] = []
    group_lines = (-1, -1)
    for r in sorted(replacements, key=lambda r: r.start):
        first, last = doc.line_of(r.start), doc.line_of(r.end)
        if group and first <= group_lines[1]:
            if r.start < group[-1].end:
                continue  # overlapping matches: the first wins
            group.append(r)
            group_lines = (group_lines[0], max(group_lines[1], last))
            continue
        if group:
            hunks.append(_hunk(group, group_lines, doc, lines))
        group, group_lines = [r], (first, last)
    if group:
        hunks.append(_hunk(group, group_lines, doc, lines))
    return [h for h in hunks if list(h.lines) != list(lines[h.start : h.end])]


def _hunk(
    group: list[_Replacement], span: tuple[int, int], doc: _Text, lines: Sequence[str]
) -> LineHunk:
    first, last = span
    base = doc.line_starts[first]
    text = "\n".join(lines[first : last + 1])
    out = []
    at = 0
    for r in group:
        out.append(text[at : r.start - base])
        out.append(r.text)
        at = r.end - base
    out.append(text[at:])
    return LineHunk(first, last + 1, tuple("".join(out).split("\n")))


def _ordered(hunks: list[LineHunk], cursor: tuple[int, int]) -> list[LineHunk]:
    line = cursor[0]

    def key(hunk: LineHunk) -> tuple[bool, int]:
        below = hunk.start >= line
        return (not below, hunk.start - line if below else line - hunk.start)

    return sorted(hunks, key=key)[:MAX_PLACES]
