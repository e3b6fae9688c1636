"""Clean model output into text worth inserting, on every snapshot of the stream as it grows.

The stages, in order:

1. ``cut_special_tokens``: end at the first FIM/special token (``<|endoftext|>``, ``<fim_middle>``,
   ``<EOT>``…); hold back a trailing fragment that may become one.
2. ``unwrap_chat`` (chat style only): take the code out of Markdown fences, drop prose before and
   after, the hole marker, and an echo of the text before the cursor on its line.
3. ``align_indentation``: drop indentation the cursor's line already has, and a leading space
   when the text before the cursor already ends with one.
4. ``drop_line_above_echo``: a first line that repeats the line above the cursor (an assignment,
   a key) is dropped.
5. ``limit_to_line`` when text follows the cursor on its line (single-line mode).
6. ``end_at_block``: stop where the current block ends, by indentation; a closing line is kept
   when it closes the completion's own block or the code needs it, and dropped when the code
   after the cursor already has it. Also stop after a definition the completion wrote, before
   the next one.
7. ``cut_suffix_repeats``: stop where the output runs into the code after the cursor; output that
   only copies a line of the cursor's block a few lines below is no completion at all.
8. ``drop_repetition``: the same definition twice in a row, or any line three times, is cut.
9. Trailing whitespace is trimmed (but a space the model wrote before a closing bracket that the
   rest of the line has is kept); whitespace-only output becomes empty.

Output that is already right passes unchanged. ``done`` tells the server it may stop the model.

Every stage sees a snapshot that may end in the middle of a line. A rule that needs the whole line
to decide holds that line back (shows the text before it) instead of showing it and taking it away
later, so the text on screen only ever grows; and ``done`` is only set once a later token can no
longer change the decision.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from inkstream.completion.context import CompletionContext

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_end|>",
    "<|im_start|>",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|fim_pad|>",
    "<|file_sep|>",
    "<|repo_name|>",
    "<|file_separator|>",
    "<|eot_id|>",
    "<|end|>",
    "<fim_prefix>",
    "<fim_suffix>",
    "<fim_middle>",
    "<fim_pad>",
    "<file_sep>",
    "<filename>",
    "<reponame>",
    "<PRE>",
    "<SUF>",
    "<MID>",
    "<EOT>",
    "<｜end▁of▁sentence｜>",
    "<｜fim▁begin｜>",
    "<｜fim▁hole｜>",
    "<｜fim▁end｜>",
    "[PREFIX]",
    "[SUFFIX]",
    "[MIDDLE]",
    "</s>",
    "<|CURSOR|>",
)

_BLOCK_OPENER = re.compile(r"(:|\{|\(|\[|=>|\bdo|\bthen|\bbegin)\s*(#.*|//.*)?$")
_PROSE_LEAD = re.compile(
    r"^(here('s| is| are)|sure|certainly|of course|the (missing|completed?|following)|"
    r"this (code|completes)|to complete|you can)\b.*$",
    re.I,
)
_PROSE_WORDS = (
    "here's",
    "here is",
    "here are",
    "sure",
    "certainly",
    "of course",
    "the missing",
    "the complete",
    "the following",
    "this code",
    "this completes",
    "to complete",
    "you can",
)
# Words that end a block, or go on with it (``else``), where other languages have a bracket.
_BLOCK_END_PREFIXES = (
    *("end", "fi", "done", "esac"),
    *("else", "elif", "elsif", "except", "finally", "rescue", "ensure"),
)
_BLOCK_END_WORDS = re.compile(rf"^({'|'.join(_BLOCK_END_PREFIXES)})\b")
# The head line of a function, method, class or type, in the languages the corpus covers: by its
# keyword, or (C, C++, Java, C#, TypeScript methods) as a signature that opens a brace.
_DEFINITION = re.compile(
    r"^(export\s+)?(default\s+)?(pub(\([^)]*\))?\s+)?(async\s+)?(unsafe\s+)?"
    r"(def|defp|class|function\*?|func|fn|fun|impl|trait|struct|enum|interface|module|type|"
    r"local\s+function)\b"
    r"|^(export\s+)?(const|let|var)\s+[\w$]+\s*(:[^=]+)?=\s*(async\s+)?(function\b|"
    r"\([^)]*\)\s*(:[^=]+)?=>|[\w$]+\s*=>)"
)
_SIGNATURE = re.compile(
    r"^(?!(if|for|while|switch|catch|return|else|do|try|with|new|await|throw|yield|sizeof|using|"
    r"lock|foreach|fixed|synchronized|go|defer|case)\b)"
    r"([\w$<>\[\],.*&:?]+\s+)*[*&]*(?!(if|for|while|switch|catch)\b)[A-Za-z_$][\w$]*\s*"
    r"(<[^>]*>)?\s*\([^;{}]*\)[^;={}]*\{$"
)
_SIGNATURE_MAX = 200  # longer lines are not signatures (and the pattern need not scan them)


def _is_definition(line: str) -> bool:
    """Whether a (stripped) line is the head of a definition."""
    if _DEFINITION.match(line):
        return True
    return line.endswith("{") and len(line) <= _SIGNATURE_MAX and bool(_SIGNATURE.match(line))


# Lines that introduce the next definition: decorators, annotations, attributes, doc comments.
_DEFINITION_LEAD = re.compile(r"^(@|#\[|///?|/\*|\*|#|--)")
# A line that defines a name: an assignment, a key, a declaration or an import. Two in a row that
# are the same are a model repeating itself (two calls in a row may be meant).
_DEFINES = re.compile(
    r"^(-\s+)?[\w$@.\[\]'\"`<>:,*& -]+?\s*(:=|(?<![=!<>+\-*/%&|^~])=(?![=>]))"
    r"|^(-\s+)?[\"']?[\w$.\-]+[\"']?\s*:(\s|$)"
    r"|^(import|from|#include|using|use|require|package|let|var|const|val|local|my)\b"
)
_CLOSING = ")]}>\"';,: "  # what a line's tail that the rest of the line already has may hold
# "A few lines below": how many non-blank lines of the cursor's block a copy may match.
_SUFFIX_WINDOW = 8


@dataclass(frozen=True)
class Cleaned:
    text: str
    done: bool


def clean_completion(
    raw: str,
    ctx: CompletionContext,
    *,
    style: Literal["fim", "chat"],
    final: bool = False,
) -> Cleaned:
    text, done = cut_special_tokens(raw, final=final)
    final = final or done  # nothing more will arrive
    if style == "chat":
        text, fence_done = unwrap_chat(text, ctx, final=final)
        done = done or fence_done
        final = final or fence_done
    text = align_indentation(text, ctx)
    text = drop_line_above_echo(text, ctx, final=final)
    # Once a stage has decided where the completion ends, the later ones see it as final.
    text, line_done, keep_space = limit_to_line(text, ctx, final=final)
    text, block_done = end_at_block(text, ctx, final=final or line_done)
    done = done or line_done or block_done
    text, repeat_done = cut_suffix_repeats(text, ctx, final=final or done)
    done = done or repeat_done
    text, loop_done = drop_repetition(text, ctx, final=final or done)
    done = done or loop_done
    text = _trim_end(text, keep_space=keep_space)
    return Cleaned(text=text if text.strip() else "", done=done)


def _trim_end(text: str, *, keep_space: bool) -> str:
    stripped = text.rstrip()
    tail = text[len(stripped) :]
    if keep_space and tail and not tail.strip(" \t"):
        return text  # ``{ a, b }``: the space before the bracket the line already has
    return stripped


# -- 1. special tokens ---------------------------------------------------------------------------


def cut_special_tokens(raw: str, *, final: bool) -> tuple[str, bool]:
    first = min((i for t in SPECIAL_TOKENS if (i := raw.find(t)) >= 0), default=-1)
    if first >= 0:
        return raw[:first], True
    if not final:
        return raw[: len(raw) - _partial_tail(raw, SPECIAL_TOKENS)], False
    return raw, False


def _partial_tail(text: str, markers: tuple[str, ...]) -> int:
    """Length of the longest end of ``text`` that is the start of some marker (not all of it).

    Runs on every token: only the last few characters are looked at, from the earliest one that
    starts some marker.
    """
    window, firsts = _marker_shape(markers)
    for start in range(max(0, len(text) - window), len(text)):
        if text[start] in firsts:
            end = text[start:]
            if any(len(end) < len(m) and m.startswith(end) for m in markers):
                return len(text) - start
    return 0


@functools.cache
def _marker_shape(markers: tuple[str, ...]) -> tuple[int, frozenset[str]]:
    return max(len(m) for m in markers) - 1, frozenset(m[0] for m in markers)


# -- 2. chat wrappers ----------------------------------------------------------------------------


def unwrap_chat(text: str, ctx: CompletionContext, *, final: bool) -> tuple[str, bool]:
    text, done = unwrap_markdown(text, final=final)
    text = text.replace("<|CURSOR|>", "")
    return strip_echo(text, ctx, final=final or done), done


def unwrap_markdown(text: str, *, final: bool) -> tuple[str, bool]:
    """The code in a chat answer: inside the first fence, or the text minus a lead-in line.

    ``done``: the fence closed, nothing after it matters. Also used for next edits' chat format.
    """
    done = False
    fence = text.find("```")
    if fence >= 0:
        newline = text.find("\n", fence)
        if newline < 0:
            return "", False  # the fence's language tag is still arriving
        body = text[newline + 1 :]
        close = body.find("```")
        if close >= 0:
            body, done = body[:close], True
        elif not final:
            body = body[: len(body) - _partial_tail(body, ("\n```",))]
        text = body.rstrip(" ") if done else body
        if done:
            text = text[:-1] if text.endswith("\n") else text
    else:
        lines = text.split("\n")
        if not final and len(lines) == 1 and _may_be_prose(lines[0]):
            return "", False  # "Here is…" would be shown, then taken away
        if len(lines) > 1 and _PROSE_LEAD.match(lines[0].strip()):
            text = "\n".join(lines[1:]).lstrip("\n")
        if not final and text.lstrip(" \n").startswith("`") and len(text.strip()) < 3:
            return "", False  # the start of a fence
    return text, done


def _may_be_prose(line: str) -> bool:
    """A first line, still arriving, that is or may become a lead-in such as "Here is the code:"."""
    start = line.strip().lower()
    if not start:
        return False
    return bool(_PROSE_LEAD.match(start)) or any(w.startswith(start) for w in _PROSE_WORDS)


def strip_echo(text: str, ctx: CompletionContext, *, final: bool = False) -> str:
    """Chat models often repeat the line up to the cursor; the editor already has it."""
    before = ctx.line_prefix.lstrip(" \t")
    if not before.strip():
        return text
    stripped = text.lstrip(" \t")
    if stripped.startswith(before):
        return stripped[len(before) :]
    if stripped.startswith(before.rstrip()):
        return stripped[len(before.rstrip()) :].lstrip(" ")
    if not final and before.startswith(stripped):
        return ""  # might still turn into the echo
    return text


# -- 3. indentation and the space at the cursor -------------------------------------------------


def align_indentation(text: str, ctx: CompletionContext) -> str:
    """Drop what the cursor's line already ends with: its indentation, or a space after code."""
    line_before = ctx.line_prefix
    if not line_before.strip():
        if line_before and text.startswith(line_before):
            return text[len(line_before) :]
        return text
    if line_before[-1] in " \t":
        return text.lstrip(" \t")  # ``x = `` + `` 5``: one space, not two
    return text


# -- 4. the line above, again --------------------------------------------------------------------


def drop_line_above_echo(text: str, ctx: CompletionContext, *, final: bool) -> str:
    """On a fresh line, a model may first restate the line above (``runs-on: …`` again): drop it."""
    line_before = ctx.line_prefix
    if line_before.strip():
        return text
    above = _line_above(ctx).rstrip()
    if not above.strip() or not _DEFINES.match(above.strip()):
        return text
    while True:
        first, newline, rest = text.partition("\n")
        full = line_before + first
        if not newline and not final:
            return "" if full.strip() and above.startswith(full.rstrip()) else text
        if full.rstrip() != above:
            return text
        if not rest.strip() and (final or line_before.startswith(rest)):
            return ""  # only the repeat so far, or the next line's indentation still arriving
        if not rest.startswith(line_before):
            return text
        text = rest[len(line_before) :]


def _line_above(ctx: CompletionContext) -> str:
    return next(_lines_above(ctx), "")


# The document around the cursor can be long and the clean-up runs on every token: these read only
# the few lines next to the cursor, never the whole text.


def _lines_above(ctx: CompletionContext) -> Iterator[str]:
    """The lines above the cursor's line, nearest first."""
    prefix = ctx.prefix
    end = prefix.rfind("\n")
    while end >= 0:
        start = prefix.rfind("\n", 0, end)
        yield prefix[start + 1 : end]
        end = start


def _lines_below(ctx: CompletionContext) -> Iterator[str]:
    """The lines below the cursor's line, nearest first."""
    suffix = ctx.suffix
    start = suffix.find("\n")
    while start >= 0:
        end = suffix.find("\n", start + 1)
        yield suffix[start + 1 : end if end >= 0 else len(suffix)]
        start = end


def _code_below(ctx: CompletionContext) -> str:
    """The first non-blank line below the cursor's line ("" at the end of the file)."""
    return next((line for line in _lines_below(ctx) if line.strip()), "")


# -- 5. single line ------------------------------------------------------------------------------


def limit_to_line(
    text: str, ctx: CompletionContext, *, final: bool = False
) -> tuple[str, bool, bool]:
    """Single-line mode: end at the line's end; drop the tail the rest of the line already has.

    The third value says whether trailing spaces are meant: the model wrote ``a, b }`` and the
    line has ``}``, so the space before the bracket stays.
    """
    if not ctx.line_suffix.strip():
        return text, False, False
    newline = text.find("\n")
    line = text if newline < 0 else text[:newline]
    trimmed = _trim_suffix_overlap(line, ctx.line_suffix)
    if trimmed == line and newline < 0 and not final:
        trimmed = line[: len(line) - _overlap_start(line, ctx.line_suffix)]
    keep_space = trimmed != line and not ctx.line_suffix[0].isspace()
    return trimmed, newline >= 0, keep_space


def _trim_suffix_overlap(text: str, line_suffix: str) -> str:
    """Drop the end of ``text`` that the rest of the line already has (``foo(1)`` + ``)``)."""
    head = line_suffix.lstrip(" ")
    for k in range(min(len(text), len(head)), 0, -1):
        overlap = head[:k]
        if text.endswith(overlap) and (k >= 4 or all(c in _CLOSING for c in overlap)):
            return text[: len(text) - k]
    return text


def _overlap_start(text: str, line_suffix: str) -> int:
    """Length of an end of ``text`` that may still grow into the overlap (``} `` of ``} };``)."""
    head = line_suffix.lstrip(" ")
    for k in range(min(len(text), len(head) - 1), 0, -1):
        if text.endswith(head[:k]) and (len(head) >= 4 or all(c in _CLOSING for c in head[:k])):
            return k
    return 0


# -- 6. block end --------------------------------------------------------------------------------


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _closes(line: str) -> bool:
    """A line that ends a block rather than starting something: ``}``, ``});``, ``end``."""
    stripped = line.strip()
    return stripped[:1] in (")", "]", "}") or bool(_BLOCK_END_WORDS.match(stripped))


def _block_floor(ctx: CompletionContext) -> int:
    """The least indentation a line of the cursor's block has; a line below it ends the block.

    On a line with code, that is the line's indentation (one more after a block opener). On a
    blank line it is where the cursor sits, or, when the cursor sits further left than the code
    around it (an empty line at column 0 inside a method), what the lines above and below show.
    """
    line_before = ctx.line_prefix
    if line_before.strip():
        opens_block = bool(_BLOCK_OPENER.search(line_before.rstrip()))
        return _indent_of(line_before) + (1 if opens_block else 0)
    above = next((line for line in _lines_above(ctx) if line.strip()), "")
    below = _code_below(ctx)
    from_above = _indent_of(above) + (1 if _BLOCK_OPENER.search(above.rstrip()) else 0)
    from_below = _indent_of(below) + (1 if below and _closes(below) else 0)
    return max(len(line_before), min(from_above, from_below))


def end_at_block(text: str, ctx: CompletionContext, *, final: bool = False) -> tuple[str, bool]:
    """Cut where the block the cursor is in ends; keep a closing line the code still needs.

    Also cut after a definition the completion wrote itself (a function, method or class): a model
    that has closed it and goes on at the same level is writing the next one.
    """
    if ctx.line_suffix.strip():
        return text, False
    floor = _block_floor(ctx)
    lines = text.split("\n")
    head = _definition_indent(lines, ctx)
    went_deeper = False
    for i, line in enumerate(lines[1:], start=1):
        if not line.strip():
            continue
        indent = _indent_of(line)
        complete = i < len(lines) - 1 or final
        if indent < floor:
            if not complete:
                return _upto(lines, i), False  # wait and see how this line ends
            if _only_closers(line.strip()) and _closer_needed(line, ctx):
                return _upto(lines, i + 1), True
            return _upto(lines, i), True
        if head is None:
            continue
        if indent > head:
            went_deeper = True
        elif went_deeper and not _closes(line):
            if not complete and any(w.startswith(line.strip()) for w in _BLOCK_END_PREFIXES):
                return _upto(lines, i), False  # may still become a closing ``end``
            return _upto(lines, i), True  # the next definition, or what leads to it
    return text, False


def _definition_indent(lines: list[str], ctx: CompletionContext) -> int | None:
    """The indentation of the definition the completion starts with, if it starts with one."""
    for i, line in enumerate(lines):
        full = ctx.line_prefix + line if i == 0 else line
        stripped = full.strip()
        if not stripped:
            continue
        if _DEFINITION_LEAD.match(stripped) and i < len(lines) - 1:
            continue  # a decorator or doc comment before the definition
        return _indent_of(full) if _is_definition(stripped) else None
    return None


def _upto(lines: list[str], i: int) -> str:
    """Lines before ``i``, with the newline ending the last one: later stages see it whole."""
    return "\n".join(lines[:i]) + "\n"


def _closer_needed(closer: str, ctx: CompletionContext) -> bool:
    """Whether a closing line below the cursor's block belongs in the completion.

    It closes the completion's own block when the cursor's line opens one at the same indentation
    (``render() {`` + body + ``}``): kept unless the code after the cursor starts with that very
    line (a ``}`` further left closes an outer block). Otherwise it closes a block above the cursor,
    and is dropped when the code after the cursor starts with such a bracket, wherever it stands.
    """
    below = _code_below(ctx)
    same_bracket = below.strip()[:1] == closer.strip()[:1]
    line_before = ctx.line_prefix
    own = (
        bool(line_before.strip())
        and bool(_BLOCK_OPENER.search(line_before.rstrip()))
        and _indent_of(closer) == _indent_of(line_before)
    )
    if own:
        return not (same_bracket and _indent_of(below) == _indent_of(closer))
    return not same_bracket


def _only_closers(line: str) -> bool:
    return bool(line) and all(c in ")]};," for c in line)


# -- 7. repeats of the suffix --------------------------------------------------------------------


def cut_suffix_repeats(
    text: str, ctx: CompletionContext, *, final: bool = False
) -> tuple[str, bool]:
    """Stop where the output starts writing the code that already follows the cursor."""
    following = _code_below(ctx).strip()
    if not following or not text:
        return text, False
    copied = _copies_block_below(text, ctx, final=final)
    if copied is not None:
        return "", copied
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if i == 0 and ctx.line_prefix.strip():
            continue
        stripped = line.strip()
        complete = i < len(lines) - 1 or final
        if not complete:
            if stripped and following.startswith(stripped):
                return _upto(lines, i), False  # may be the start of that line: wait
            continue
        if len(stripped) < 4 or _only_closers(stripped):
            continue
        if stripped == following:
            return _upto(lines, i), True
    return text, False


def _copies_block_below(text: str, ctx: CompletionContext, *, final: bool) -> bool | None:
    """Whether the output starts by copying a line a few lines below, in the cursor's block.

    True: it does (nothing to show, stop). False: its first line is still arriving and may be such
    a copy (show nothing yet). None: it does not.
    """
    if ctx.line_prefix.strip() or ctx.line_suffix.strip():
        return None
    floor = _block_floor(ctx)
    window: list[str] = []
    for line in _lines_below(ctx):
        if not line.strip():
            continue
        if _indent_of(line) < floor or len(window) == _SUFFIX_WINDOW:
            break
        window.append(line.rstrip())
    lines = text.split("\n")
    for i, line in enumerate(lines):
        full = (ctx.line_prefix + line if i == 0 else line).rstrip()
        if not full.strip():
            continue
        if i == len(lines) - 1 and not final:
            return False if any(w.startswith(full) for w in window) else None
        stripped = full.strip()
        if len(stripped) < 4 or _only_closers(stripped):
            return None
        return True if full in window else None
    return None


# -- 8. repetition -------------------------------------------------------------------------------


def drop_repetition(
    text: str, ctx: CompletionContext | None = None, *, final: bool = False, limit: int = 3
) -> tuple[str, bool]:
    """Cut a model that repeats itself: a definition twice in a row, or any line ``limit`` times.

    Two equal calls in a row may be meant (``fgetc(f);`` twice), so the second is only shown once
    a different line follows it; a third cuts the run back to one.
    """
    lines = text.split("\n")
    full = lines.copy()
    if ctx is not None:
        full[0] = ctx.line_prefix + lines[0]
    last = len(lines) - 1
    for i in range(1, len(lines)):
        cur, prev = full[i].rstrip(), full[i - 1].rstrip()
        if not cur.strip():
            continue
        if i == last and not final:
            if prev.startswith(cur):
                return _upto(lines, i), False  # may become the repeat
            return text, False
        if cur != prev:
            continue
        if _DEFINES.match(prev.strip()):
            return _upto(lines, i), True
        if _run_length(full, i) >= limit:
            return _upto(lines, i - limit + 2), True
        if i == last:
            return _upto(lines, i), True  # the end, and no different line followed it
        following = full[i + 1].rstrip()
        if not final and i + 1 == last and cur.startswith(following):
            return _upto(lines, i), False  # a third may follow
    return text, False


def _run_length(full: list[str], i: int) -> int:
    """How many lines ending at ``i`` are the same line."""
    run = 1
    while i - run >= 0 and full[i - run].rstrip() == full[i].rstrip():
        run += 1
    return run
