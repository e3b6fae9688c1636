"""How each next-edit model is asked, and how its answer is read back into the region's lines.

Pure: no I/O. A model rewrites an *editable region* (a window of lines around the cursor) given
the user's recent edits; ``build_request`` writes the request in the layout the model was trained
on, and ``read_region`` turns the text streamed so far into the region's complete lines, which
``converge.py`` compares with the original region. Sources per format are in docs/next-edit.md.

Formats (``nextEdit.format``):

- ``zeta``: Zed's Zeta (zed-industries/zed ``crates/zeta/src/zeta1.rs``, ``zeta1/input_excerpt.rs``;
  the instruction as in vLLM's ``NextEditPredictionDataset``). A raw ``/v1/completions`` prompt;
  the answer repeats the region between ``<|editable_region_start|>`` and
  ``<|editable_region_end|>``.
- ``instinct``: Continue's Instinct (continuedev/continue ``core/nextEdit``: ``constants.ts``,
  ``templating/instinct.ts``, ``NextEditPromptEngine.ts``). Chat messages; the answer is the
  region's text without the markers.
- ``sweep``: Sweep's next-edit models (sweepai/cursortab.nvim ``server/provider/sweep/sweep.go``;
  the v2 model card adds line ranges and ``<|cursor|>``). A raw prompt of ``<|file_sep|>`` blocks;
  the model completes the ``updated/`` block.
- ``chat``: any instruct model: chat messages asking for the rewritten region in one fenced block;
  the answer is unwrapped as chat completions are (``postprocess.unwrap_markdown``).
- ``offline``: no model (``propagate.py``).

``auto`` picks one from the model's name (``resolve_format``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from inkstream.completion import postprocess
from inkstream.completion.context import Snippet
from inkstream.completion.prompts import estimate_tokens
from inkstream.nextedit.converge import LastEdit

Format = Literal["zeta", "instinct", "sweep", "chat", "offline"]
ModelFormat = Literal["zeta", "instinct", "sweep", "chat"]
FORMATS: tuple[Format, ...] = get_args(Format)
#: the values the setting takes
FORMAT_SETTINGS: tuple[str, ...] = (*FORMATS, "auto")

# Zeta and Instinct share these markers (zeta1.rs; Continue's constants.ts).
REGION_START = "<|editable_region_start|>"
REGION_END = "<|editable_region_end|>"
CURSOR = "<|user_cursor_is_here|>"
START_OF_FILE = "<|start_of_file|>"
CONTEXT_FILE = "<|context_file|>"  # Instinct
SNIPPET = "<|snippet|>"  # Instinct
FILE_SEP = "<|file_sep|>"  # Sweep (Qwen2.5-Coder's repository token)
SWEEP_CURSOR = "<|cursor|>"  # Sweep v2

# model-name fragments -> format, checked in order
_FORMAT_BY_NAME: tuple[tuple[str, ModelFormat], ...] = (
    ("zeta", "zeta"),
    ("instinct", "instinct"),
    ("sweep", "sweep"),
)


def format_from_name(model: str) -> ModelFormat | None:
    """The next-edit format a model's name shows, if any (``zed-industries/zeta``,
    ``nate/instinct``, ``sweep-next-edit-1.5b``); None for any other model."""
    name = model.lower()
    return next((fmt for fragment, fmt in _FORMAT_BY_NAME if fragment in name), None)


def resolve_format(
    setting: str, *, model: str, model_chosen: bool, provider: Literal["openai", "offline"]
) -> Format:
    """Which format next edits use.

    No model is asked unless one was chosen for next edits, so nobody pays for requests they did
    not ask for: with the offline provider, always ``offline``; an explicit format is used as set;
    with ``auto``, a name that shows a next-edit format picks it (also for the completion model),
    a model set in ``nextEdit.model`` with no such name gets ``chat``, and otherwise ``offline``.
    """
    if provider == "offline" or setting == "offline":
        return "offline"
    for fmt in FORMATS:
        if setting == fmt:
            return fmt
    named = format_from_name(model)
    if named is not None:
        return named
    return "chat" if model_chosen else "offline"


# -- the editable region ------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionSize:
    """Lines the model may rewrite around the cursor, and read-only context shown around them.

    ``above``/``below`` are line counts; with ``budget_chars`` set, the region grows a line at a
    time on alternate sides (up to ``above``/``below``) until it holds that many characters.
    """

    above: int
    below: int
    context: int
    budget_chars: int | None = None


#: Each model rewrites best the region size it was trained on; the chat format takes Copilot's.
REGION_SIZES: dict[ModelFormat, RegionSize] = {
    # Zed: the region grows around the cursor up to MAX_REWRITE_TOKENS = 350 tokens (3 bytes per
    # token guessed), context up to 150 more (zeta1.rs, input_excerpt.rs): ~1,050 / 450 chars.
    "zeta": RegionSize(above=20, below=20, context=8, budget_chars=1050),
    # Continue: topMargin 1, bottomMargin 5 (InstinctNextEditProvider.getWindowSize), shown within
    # 25 lines either side of the cursor.
    "instinct": RegionSize(above=1, below=5, context=25),
    # Sweep: a fixed 21-line window (10 + cursor + 10); its prompt shows only that window.
    "sweep": RegionSize(above=10, below=10, context=0),
    # Copilot xtab: N_LINES_ABOVE = 2, N_LINES_BELOW = 5, context ±15 (promptCrafting.ts). A
    # general chat model writes slowly: a small region keeps the rewrite short.
    "chat": RegionSize(above=2, below=5, context=15),
}


@dataclass(frozen=True)
class Region:
    """Lines ``[start, end)`` of the document may be rewritten; ``[context_start, context_end)``
    are shown. All 0-based, in document lines."""

    start: int
    end: int
    context_start: int
    context_end: int


def editable_region(lines: Sequence[str], cursor_line: int, size: RegionSize) -> Region:
    last = max(len(lines) - 1, 0)
    cursor_line = min(max(cursor_line, 0), last)
    if size.budget_chars is None:
        start = max(0, cursor_line - size.above)
        end = min(len(lines), cursor_line + size.below + 1)
    else:
        start, end = cursor_line, min(len(lines), cursor_line + 1)
        used = sum(len(line) + 1 for line in lines[start:end])
        grew = True
        while grew:
            grew = False
            if start > 0 and cursor_line - start < size.above:
                cost = len(lines[start - 1]) + 1
                if used + cost <= size.budget_chars:
                    start, used, grew = start - 1, used + cost, True
            if end < len(lines) and end - 1 - cursor_line < size.below:
                cost = len(lines[end]) + 1
                if used + cost <= size.budget_chars:
                    end, used, grew = end + 1, used + cost, True
    end = max(end, start + 1) if lines else start
    return Region(
        start,
        end,
        max(0, start - size.context),
        min(len(lines), end + size.context),
    )


# -- the request ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileDiff:
    """One recent edit as a unified diff (``@@`` hunks, with or without ``---``/``+++`` headers)."""

    path: str
    diff: str


@dataclass(frozen=True)
class NextEditInput:
    """What a prompt is built from; the caller has already redacted it (privacy.py)."""

    path: str
    language_id: str
    text: str
    cursor: tuple[int, int]  # line, character (``str`` index)
    history: tuple[FileDiff, ...] = ()  # oldest first
    snippets: tuple[Snippet, ...] = ()
    #: the user's last edit of this file, in its current lines (Sweep shows the region before it)
    last_edit: LastEdit | None = None


@dataclass(frozen=True)
class ModelRequest:
    """Either a raw ``prompt`` (``/v1/completions``) or chat ``messages``."""

    format: ModelFormat
    region: Region
    original: tuple[str, ...]  # the region's lines as the model sees them
    prompt: str | None
    messages: tuple[dict[str, str], ...] | None
    stop: tuple[str, ...]
    max_tokens: int


def build_request(fmt: ModelFormat, inp: NextEditInput, *, model: str = "") -> ModelRequest:
    lines = inp.text.split("\n")
    region = editable_region(lines, inp.cursor[0], REGION_SIZES[fmt])
    original = tuple(lines[region.start : region.end])
    # the region is written out again in full; room for it to grow, and for Zeta's echo of the
    # context before it
    echoed = "\n".join(lines[region.context_start : region.end])
    max_tokens = 2 * estimate_tokens(echoed) + 64
    if fmt == "zeta":
        prompt = _zeta_prompt(inp, lines, region)
        return ModelRequest(fmt, region, original, prompt, None, ("\n" + REGION_END,), max_tokens)
    if fmt == "sweep":
        prompt = _sweep_prompt(inp, lines, region, v2="v2" in model.lower())
        return ModelRequest(fmt, region, original, prompt, None, (FILE_SEP, "</s>"), max_tokens)
    if fmt == "instinct":
        messages = _instinct_messages(inp, lines, region)
    else:
        messages = _chat_messages(inp, lines, region)
    return ModelRequest(fmt, region, original, None, messages, (), max_tokens)


def _with_cursor(lines: list[str], cursor: tuple[int, int], marker: str) -> list[str]:
    out = list(lines)
    row = min(max(cursor[0], 0), len(out) - 1)
    col = min(max(cursor[1], 0), len(out[row]))
    out[row] = out[row][:col] + marker + out[row][col:]
    return out


def _zeta_event(diff: FileDiff) -> str:
    return f"User edited {diff.path}:\n```diff\n{_hunks_only(diff.diff)}\n```"


def _hunks_only(diff: str) -> str:
    """A unified diff without its ``---``/``+++``/``Index:`` headers, as both models saw them."""
    kept = [
        line
        for line in diff.rstrip("\n").split("\n")
        if not line.startswith(("--- ", "+++ ", "Index: ", "===", "diff --git"))
    ]
    return "\n".join(kept)


_ZETA_INSTRUCTION = (
    "You are a code completion assistant and your task is to analyze user edits and then "
    "rewrite an excerpt that the user provides, suggesting the appropriate edits within the "
    "excerpt, taking into account the cursor location."
)


def _zeta_prompt(inp: NextEditInput, lines: list[str], region: Region) -> str:
    marked = _with_cursor(lines, inp.cursor, CURSOR)
    excerpt = [f"```{inp.path}"]
    if region.context_start == 0:
        excerpt.append(START_OF_FILE)
    excerpt += marked[region.context_start : region.start]
    excerpt += [REGION_START, *marked[region.start : region.end], REGION_END]
    excerpt += marked[region.end : region.context_end]
    excerpt.append("```")
    events = "\n\n".join(_zeta_event(d) for d in inp.history if d.diff.strip())
    return (
        f"### Instruction:\n{_ZETA_INSTRUCTION}\n\n### User Edits:\n\n{events}\n\n"
        f"### User Excerpt:\n\n{chr(10).join(excerpt)}\n\n### Response:\n\n"
    )


_INSTINCT_SYSTEM = (
    "You are Instinct, an intelligent next-edit predictor developed by Continue.dev. Your role "
    "as an AI assistant is to help developers complete their code tasks by predicting the next "
    "edit that they will make within the section of code marked by <|editable_region_start|> "
    "and <|editable_region_end|> tags.\n\n"
    "Your task is to predict and complete the changes the developer would have made next in the "
    "editable region.\n\n"
    "# Output Format\n\n"
    "- Provide only the revised code within the tags. Do not include the tags in your output.\n"
    "- Ensure that you do not output duplicate code that exists outside of these tags.\n"
    "- Avoid undoing or reverting the developer's last change unless there are obvious typos "
    "or errors."
)
_INSTINCT_PREFIX = (
    "Reference the user excerpt, user edits, and the snippets to understand the developer's "
    "intent. Update the editable region of the user excerpt by predicting and completing the "
    "changes they would have made next. This may be a deletion, addition, or modification of "
    "code."
)


def _instinct_messages(
    inp: NextEditInput, lines: list[str], region: Region
) -> tuple[dict[str, str], ...]:
    context = "\n".join(
        f"{CONTEXT_FILE}: {s.path}\n{SNIPPET}\n{s.text.rstrip(chr(10))}" for s in inp.snippets
    )
    edits = "\n".join(
        f'User edited file "{d.path}"\n\n```diff\n{_hunks_only(d.diff)}\n```'
        for d in reversed(inp.history)  # "listed from most recent to least recent"
        if d.diff.strip()
    )
    marked = _with_cursor(lines, inp.cursor, CURSOR)
    excerpt = [
        *marked[region.context_start : region.start],
        REGION_START,
        *marked[region.start : region.end],
        REGION_END,
        *marked[region.end : region.context_end],
    ]
    # Continue's template closes a fence it never opened; kept, as the model was trained on it
    user = (
        f"{_INSTINCT_PREFIX}\n\n### Context:\n{context}\n\n### User Edits:\n\n{edits}\n\n"
        f"### User Excerpt:\n{inp.path}\n\n{chr(10).join(excerpt)}```\n### Response:"
    )
    return ({"role": "system", "content": _INSTINCT_SYSTEM}, {"role": "user", "content": user})


def _sweep_prompt(inp: NextEditInput, lines: list[str], region: Region, *, v2: bool) -> str:
    parts: list[str] = []
    for s in inp.snippets:
        parts += [f"{FILE_SEP}{s.path}", s.text.rstrip("\n")]
    for d in inp.history:
        before, after = _sides(d.diff)
        if before or after:
            parts += [f"{FILE_SEP}{d.path}.diff", "original:", before, "updated:", after]
    current = lines[region.start : region.end]
    original = _before_last_edit(lines, inp, region)
    where = f":{region.start + 1}:{region.end}" if v2 else ""
    shown = _with_cursor(current, (inp.cursor[0] - region.start, inp.cursor[1]), SWEEP_CURSOR)
    parts += [f"{FILE_SEP}original/{inp.path}{where}", *original]
    parts += [f"{FILE_SEP}current/{inp.path}{where}", *(shown if v2 else current)]
    parts += [f"{FILE_SEP}updated/{inp.path}{where}", ""]
    return "\n".join(parts)


def _sides(diff: str) -> tuple[str, str]:
    """A unified diff's text before and after (Sweep shows edits as original/updated blocks)."""
    before: list[str] = []
    after: list[str] = []
    for line in _hunks_only(diff).split("\n"):
        if line.startswith("@@") or line.startswith("\\"):
            continue
        tag, body = line[:1], line[1:]
        if tag in (" ", "-"):
            before.append(body)
        if tag in (" ", "+"):
            after.append(body)
    return "\n".join(before), "\n".join(after)


def _before_last_edit(lines: list[str], inp: NextEditInput, region: Region) -> list[str]:
    """The region as it was before the user's last edit of this file (Sweep's ``original/``):
    the same window, with that edit undone and the lines it added or removed above accounted."""
    edit = inp.last_edit
    if edit is None or lines[edit.start : edit.end] == list(edit.old):
        return lines[region.start : region.end]
    before = [*lines[: edit.start], *edit.old, *lines[edit.end :]]
    grown = len(edit.old) - (edit.end - edit.start)
    start = region.start + (grown if edit.end <= region.start else 0)
    end = region.end + (grown if edit.start < region.end else 0)
    return before[start:end]


CHAT_SYSTEM = (
    "You predict a programmer's next edit. You get their recent edits as diffs and the file "
    f"around the cursor, where the lines between {REGION_START} and {REGION_END} may be "
    f"rewritten and {CURSOR} marks the cursor. Reply with the rewritten lines between the "
    "markers, in one fenced code block, and nothing else: no explanation, no markers, no code "
    "from outside them. Change only what the recent edits call for next (finish a rename, "
    "repeat the same change, complete what was started); keep everything else exactly as it "
    "is. Never undo the recent edits. If nothing should change, reply with the lines unchanged."
)


def _chat_messages(
    inp: NextEditInput, lines: list[str], region: Region
) -> tuple[dict[str, str], ...]:
    parts: list[str] = []
    if inp.snippets:
        parts.append("Related code from other files, for reference:")
        parts += [f"--- {s.path}\n{s.text.rstrip()}" for s in inp.snippets]
        parts.append("")
    if inp.history:
        parts.append("Recent edits, oldest first:")
        parts += [f"--- {d.path}\n```diff\n{_hunks_only(d.diff)}\n```" for d in inp.history]
        parts.append("")
    marked = _with_cursor(lines, inp.cursor, CURSOR)
    excerpt = [
        *marked[region.context_start : region.start],
        REGION_START,
        *marked[region.start : region.end],
        REGION_END,
        *marked[region.end : region.context_end],
    ]
    parts.append(f"File: {inp.path} ({inp.language_id})")
    parts.append(f"```{inp.language_id}\n" + "\n".join(excerpt) + "\n```")
    parts.append(f"Rewrite the lines between {REGION_START} and {REGION_END}.")
    return (
        {"role": "system", "content": CHAT_SYSTEM},
        {"role": "user", "content": "\n".join(parts)},
    )


# -- reading the answer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionRead:
    """The rewritten region read from the text streamed so far.

    ``lines``: its complete lines (a line is complete once its newline arrived, or the answer
    ended). ``done``: the region's end was seen; the model may stop. ``error``: the answer cannot
    be read as a region (why, for the log); nothing more comes of it.
    """

    lines: tuple[str, ...]
    done: bool
    error: str | None = None


def read_region(fmt: ModelFormat, raw: str, final: bool = False) -> RegionRead:
    """Pure, on the whole text so far (as completions' clean-up is): call it after each delta,
    and with ``final=True`` once the stream ended."""
    if fmt == "zeta":
        return _read_zeta(raw, final=final)
    text, done = postprocess.cut_special_tokens(raw, final=final)
    final = final or done
    if fmt == "chat":
        text, done, final = _unfenced(text, done=done, final=final)
        return _lines(_drop_markers(text), final=final, done=done)
    if fmt == "instinct" and text.lstrip().startswith("```"):
        text, done, final = _unfenced(text, done=done, final=final)
    if fmt == "instinct":
        start = text.find(REGION_START)
        if start >= 0:  # told not to, but a model may write the markers anyway
            newline = text.find("\n", start)
            text = "" if newline < 0 else text[newline + 1 :]
        end = text.find(REGION_END)
        if end >= 0:
            text, done, final = text[:end], True, True
            if not text.endswith("\n") and text:
                text += "\n"
        return _lines(text.replace(CURSOR, ""), final=final, done=done)
    return _lines(text.replace(SWEEP_CURSOR, ""), final=final, done=done)


def _unfenced(text: str, *, done: bool, final: bool) -> tuple[str, bool, bool]:
    """The code of a chat answer (completions' clean-up). A line ends at its newline even when
    a closing fence may follow it; that clean-up holds such a newline back, a region need not."""
    code, fenced = postprocess.unwrap_markdown(text, final=final)
    if fenced:
        return code + "\n", True, True  # the closing fence ends the last line
    fence = text.find("```")
    newline = text.find("\n", fence) if fence >= 0 else -1
    if code and not code.endswith("\n") and newline >= 0:
        body = text[newline + 1 :]
        if body.startswith(code) and body[len(code) : len(code) + 1] == "\n":
            code += "\n"  # held back as the start of a closing fence: the line ended anyway
    return code, done, final


def _read_zeta(raw: str, *, final: bool) -> RegionRead:
    content = raw.replace(CURSOR, "")
    start = content.find(REGION_START)
    if start < 0:
        if final:
            return RegionRead((), True, f"no {REGION_START} in the answer")
        return RegionRead((), False)
    newline = content.find("\n", start)
    if newline < 0:
        return RegionRead((), final, "the answer ends at the region's start" if final else None)
    body = content[newline + 1 :]
    if REGION_START in body:
        return RegionRead((), True, f"a second {REGION_START} in the answer")
    end = body.find(REGION_END)
    if end >= 0:
        # "\n<|editable_region_end|>": the newline before the marker ends the last line
        return _lines(body[:end], final=True, done=True)
    # ended at the stop string "\n<|editable_region_end|>", or still streaming
    body, _ = postprocess.cut_special_tokens(body, final=final)
    return _lines(body + "\n" if final else body, final=final, done=False)


def _drop_markers(text: str) -> str:
    """A chat model may echo the markers around its answer: not part of the region. A marker
    on the last line, still without its newline, already ends the line before."""
    parts = text.split("\n")
    *complete, last = parts
    kept = [line for line in complete if line.strip() not in (REGION_START, REGION_END)]
    if last.strip() in (REGION_START, REGION_END):
        last = ""
    return "\n".join([*kept, last]).replace(CURSOR, "")


def _lines(text: str, *, final: bool, done: bool) -> RegionRead:
    """Complete lines: each ended by a newline; at the end, the text after the last newline
    too (empty there means the region ended with its newline)."""
    parts = text.split("\n")
    complete, rest = parts[:-1], parts[-1]
    if final and rest:
        complete.append(rest)
    return RegionRead(tuple(complete), done or final)
