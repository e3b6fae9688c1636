"""Clean model output into text worth inserting, on every snapshot of the stream as it grows.

The stages, in order:

1. ``cut_special_tokens``: end at the first FIM/special token (``<|endoftext|>``, ``<fim_middle>``,
   ``<EOT>``…); hold back a trailing fragment that may become one.
2. ``unwrap_chat`` (chat style only): take the code out of Markdown fences, drop prose before and
   after, the hole marker, and an echo of the text before the cursor on its line.
3. ``align_indentation``: drop indentation the cursor's line already has.
4. ``limit_to_line`` when text follows the cursor on its line (single-line mode).
5. ``end_at_block``: stop where the current block ends, by indentation and bracket balance; a
   closing bracket the suffix already has is dropped, one the code needs is kept.
6. ``cut_suffix_repeats``: stop where the output runs into the code after the cursor.
7. ``drop_repetition``: the same line again and again is cut to one.
8. Trailing whitespace is trimmed; whitespace-only output becomes empty.

Output that is already right passes unchanged. ``done`` tells the server it may stop the model.
"""

from __future__ import annotations

import re
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
    if style == "chat":
        text, fence_done = unwrap_chat(text, ctx, final=final or done)
        done = done or fence_done
    text = align_indentation(text, ctx)
    text, line_done = limit_to_line(text, ctx)
    text, block_done = end_at_block(text, ctx, final=final)
    text, repeat_done = cut_suffix_repeats(text, ctx, final=final)
    text, loop_done = drop_repetition(text)
    done = done or line_done or block_done or repeat_done or loop_done
    text = text.rstrip()
    return Cleaned(text=text if text.strip() else "", done=done)


# -- 1. special tokens ---------------------------------------------------------------------------


def cut_special_tokens(raw: str, *, final: bool) -> tuple[str, bool]:
    first = min((i for t in SPECIAL_TOKENS if (i := raw.find(t)) >= 0), default=-1)
    if first >= 0:
        return raw[:first], True
    if not final:
        return raw[: len(raw) - _partial_tail(raw, SPECIAL_TOKENS)], False
    return raw, False


def _partial_tail(text: str, markers: tuple[str, ...]) -> int:
    """Length of the longest end of ``text`` that is the start of some marker."""
    longest = 0
    for marker in markers:
        for k in range(min(len(marker) - 1, len(text)), longest, -1):
            if text.endswith(marker[:k]):
                longest = k
                break
    return longest


# -- 2. chat wrappers ----------------------------------------------------------------------------


def unwrap_chat(text: str, ctx: CompletionContext, *, final: bool) -> tuple[str, bool]:
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
        if not final and text.lstrip(" \n").startswith(("`", "``")) and len(text.strip()) < 3:
            return "", False
        lines = text.split("\n")
        if len(lines) > 1 and _PROSE_LEAD.match(lines[0].strip()):
            text = "\n".join(lines[1:]).lstrip("\n")
    text = text.replace("<|CURSOR|>", "")
    return strip_echo(text, ctx, final=final), done


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


# -- 3. indentation ------------------------------------------------------------------------------


def align_indentation(text: str, ctx: CompletionContext) -> str:
    indent = ctx.line_prefix
    if indent and not indent.strip() and text.startswith(indent):
        return text[len(indent) :]
    return text


# -- 4. single line ------------------------------------------------------------------------------


def limit_to_line(text: str, ctx: CompletionContext) -> tuple[str, bool]:
    if not ctx.line_suffix.strip():
        return text, False
    newline = text.find("\n")
    if newline < 0:
        return _trim_suffix_overlap(text, ctx.line_suffix), False
    return _trim_suffix_overlap(text[:newline], ctx.line_suffix), True


def _trim_suffix_overlap(text: str, line_suffix: str) -> str:
    """Drop the end of ``text`` that the rest of the line already has (``foo(1)`` + ``)``)."""
    head = line_suffix.lstrip(" ")
    for k in range(min(len(text), len(head)), 0, -1):
        overlap = head[:k]
        if text.endswith(overlap) and (k >= 4 or all(c in ")]}>\"';,:" for c in overlap)):
            return text[: len(text) - k]
    return text


# -- 5. block end --------------------------------------------------------------------------------


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def end_at_block(text: str, ctx: CompletionContext, *, final: bool = False) -> tuple[str, bool]:
    """Cut where the block the cursor is in ends; keep a closing line the code still needs."""
    if ctx.line_suffix.strip():
        return text, False
    line_before = ctx.line_prefix
    if line_before.strip():
        opens_block = bool(_BLOCK_OPENER.search(line_before.rstrip()))
        floor = _indent_of(line_before) + (1 if opens_block else 0)
    else:
        floor = len(line_before)  # an empty line: the block is where the cursor sits
    lines = text.split("\n")
    for i, line in enumerate(lines[1:], start=1):
        if not line.strip() or _indent_of(line) >= floor:
            continue
        complete = i < len(lines) - 1 or final
        if not complete:
            return "\n".join(lines[:i]), False  # wait and see how this line ends
        closer = line.strip()
        if _only_closers(closer) and not _first_code_line(ctx.suffix).startswith(closer[0]):
            return "\n".join(lines[: i + 1]), True
        return "\n".join(lines[:i]), True
    return text, False


def _first_code_line(suffix: str) -> str:
    rest = suffix.split("\n", 1)[1] if "\n" in suffix else ""
    for line in rest.split("\n"):
        if line.strip():
            return line.strip()
    return ""


def _only_closers(line: str) -> bool:
    return bool(line) and all(c in ")]};," for c in line)


# -- 6. repeats of the suffix --------------------------------------------------------------------


def cut_suffix_repeats(
    text: str, ctx: CompletionContext, *, final: bool = False
) -> tuple[str, bool]:
    """Stop where the output starts writing the code that already follows the cursor."""
    following = [line.strip() for line in ctx.suffix.split("\n")[1:] if line.strip()][:3]
    if not following or not text:
        return text, False
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if i == 0 and ctx.line_prefix.strip():
            continue
        stripped = line.strip()
        if len(stripped) < 4 or _only_closers(stripped):
            continue
        complete = i < len(lines) - 1 or final
        if stripped == following[0] and complete:
            return "\n".join(lines[:i]), True
        if not complete and following[0].startswith(stripped):
            return "\n".join(lines[:i]), False  # may be the start of that line: wait
    return text, False


# -- 7. repetition -------------------------------------------------------------------------------


def drop_repetition(text: str, limit: int = 3) -> tuple[str, bool]:
    lines = text.split("\n")
    run = 1
    for i in range(1, len(lines)):
        if lines[i].strip() and lines[i] == lines[i - 1]:
            run += 1
            if run >= limit:
                return "\n".join(lines[: i - limit + 2]), True
        else:
            run = 1
    return text, False
