"""Greedy decoding of a completion at the cursor, with fill-in-the-middle and natural stops.

Pure and synchronous: ``Decoder(models, ctx).tokens(max_tokens)`` yields the text to insert, a
token at a time; the provider paces it. Where the completion ends depends on the cursor:

- **line**: text follows the cursor on its line: finish the line, and stop before writing what
  already follows the cursor;
- **statement**: code before the cursor that does not open a block: finish the statement (the
  line, or more lines while brackets opened on the cursor's line are still open); when it is
  already finished at the cursor, the next lines, as in a block;
- **block**: an empty line, or a line that opens a block (``:``, ``{``): write lines until a blank
  line, a dedent out of the block, the code after the cursor (the suffix's next line), a line
  the model is unsure of, the same line a third time, or ``MAX_LINES``.

A whole line is decoded before any of it is given out, so a line that would duplicate the code
after the cursor, or leave the block, is never sent. The output never ends with a line break.

With the file's ``structure`` (Python), names and attributes the scope lacks are never chosen,
and a line that redefines a name or is not valid code is cut back, decoded again from another
first token (the cursor's line), or ends the completion (a later line).

The model sees indentation as steps (see ``tokens``); the decoder keeps the absolute depth and
writes real indentation. On an empty line the user's indentation is the depth, unless there is
none (column 0: editors often strip the indentation of empty lines), where the model picks it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from inkstream.completion.context import CompletionContext
from inkstream.providers.offline.lines import Spot, lines_of, recall
from inkstream.providers.offline.ngram import (
    ORDER,
    Models,
    NgramModel,
    choose,
    complete_word,
    rank,
    train,
)
from inkstream.providers.offline.structure import Guard, Structure, binds, finished, reads
from inkstream.providers.offline.tokens import (
    NEWLINE,
    is_break,
    is_comment,
    is_step,
    model_tokens,
    step,
    step_of,
    tokenize_code,
)

CONTEXT_CHARS = 2000  # how much of the prefix is tokenized (the model uses the last 5 tokens)
MAX_LINES = 8
MAX_LINE_CHARS = 160
#: a further line is only written if the model is this sure of each of its tokens
MIN_LINE_SCORE = 0.05
LOOKAHEAD = 4  # candidates weighed with the token after them, when one is an indentation step
RETRIES = 4  # other starts tried for the cursor's line when the structure rejects it
MIN_RETRY_SCORE = 0.003  # ... and each of its tokens must be at least this likely
DOCUMENT_BEFORE = 16_000  # characters of the document learned around the cursor
DOCUMENT_AFTER = 8_000
DOCUMENT_WEIGHT = 3.0
FOLLOWING_CHARS = 400  # of the code after the cursor's line, tokenized to find its first line
_ENDS = set(")]}\"'")
_PIECES = re.compile(r"\s*(?:\w+|\S)")
_PARTIAL_WORD = re.compile(r"[A-Za-z_$][\w$]*$")
_CLOSERS = set(")]};,")
_LEADS = {"return", "yield", "raise", "if", "elif", "while", "assert", "await", "del", "not"}
_LITERAL = re.compile(r"""([ \t]*)(?:([rbufRBUF]{0,2}["'])|\d)""")

Mode = Literal["line", "statement", "block"]


def _width(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _sign(number: int) -> int:
    return (number > 0) - (number < 0)


def _depth(text: str) -> int:
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def opens_block(line: str, language: str) -> bool:
    code = line.split("#", 1)[0] if language == "python" else line
    code = code.rstrip()
    if language == "python":
        return code.endswith(":")
    return code.endswith(("{", "=>", " do", " then")) or code == "do"


def mode_of(ctx: CompletionContext) -> Mode:
    if ctx.line_suffix.strip():
        return "line"
    before = ctx.line_prefix.strip()
    if before and not opens_block(before, ctx.language_id):
        return "statement"
    return "block"


def first_code_line(suffix: str) -> str:
    """The first non-blank line after the cursor's line: what a completion must not write."""
    for line in suffix.split("\n")[1:]:
        if line.strip():
            return line.strip()
    return ""


def _last_indentation(prefix: str) -> str:
    """The indentation of the last line with code before the cursor's line."""
    for line in reversed(prefix.split("\n")[:-1]):
        if line.strip():
            return line[: _width(line)]
    return ""


@dataclass
class _Line:
    first: bool  # the cursor's line (its start is already in the document)
    level: int  # its indentation, in columns
    tokens: list[str] = field(default_factory=list)  # code, without the indentation
    ended: bool = False  # the model ended the line (its next token is a line break)
    confidence: float = 1.0  # the lowest score of its tokens
    start: tuple[int, str] | None = None  # its first code token and where it is in the context
    stuck: bool = False  # the model had no next token for it (it may be unfinished)
    recalled: bool = False  # a whole line seen elsewhere (see ``lines``), checked already

    @property
    def code(self) -> str:
        return "".join(self.tokens).strip()


class Decoder:
    """One completion; make one per request (it keeps the growing context). With a
    ``structure`` (see ``structure``), names and attributes the file lacks are not written, and
    a line that redefines or reads what the scope lacks is not shown: the cursor's line is
    decoded again from another start, a later line ends the completion."""

    def __init__(
        self, models: Models, ctx: CompletionContext, structure: Structure | None = None
    ) -> None:
        self.models = models
        self.ctx = ctx
        self.guard = Guard(structure, ctx.line_prefix) if structure is not None else None
        self.banned: set[tuple[int, str]] = set()  # (context length, token): starts rejected
        self.resumed = False  # the cursor ended a statement: the next line is being written
        #: the function whose formula the best guess for a line was (``structure.copied``): then
        #: whatever else the model would write there is a worse guess, so it writes nothing
        self.copied: str | None = None
        self.mode = mode_of(ctx)
        start = ctx.prefix.rfind("\n", 0, max(0, len(ctx.prefix) - CONTEXT_CHARS)) + 1
        raw = tokenize_code(ctx.prefix[start:], ctx.language_id)
        # the cursor is in a comment: prose, which an n-gram model of code cannot write
        self.in_comment = bool(raw) and is_comment(raw[-1], ctx.language_id)
        self.context = model_tokens(raw, ctx.language_id)
        line = ctx.line_prefix
        self.blank = not line.strip()  # the cursor is on an empty (maybe indented) line
        self.untyped = line == ""  # ... with no indentation: the model chooses it
        self.typed = line[len(line.rstrip(" \t")) :]  # spaces typed after the last token
        before = _last_indentation(ctx.prefix)
        self.unit = "\t" if before.startswith("\t") or line.startswith("\t") else " "
        self.level = len(before) if self.untyped else _width(line)
        self.floor = self.level if self.blank else self.level + 1  # shallower lines end a block
        self.depth = max(0, _depth(line))  # brackets the cursor's line left open
        self.following = first_code_line(ctx.suffix)
        self.shift = 0  # re-indent the model's lines to where the user's code is
        self.seen: set[tuple[str, ...]] = set()

    def tokens(self, max_tokens: int) -> Iterator[str]:
        if self.in_comment:
            return
        budget = max_tokens
        recalled = self._recall() if self.blank or self.mode == "statement" else None
        lines: list[_Line] = []
        if recalled is None and self.mode == "statement" and self._statement_ends():
            recalled = self._recall_next_line()
            if recalled is not None:
                lines.append(_Line(True, self.floor, ended=True))  # the cursor's line, as it is
        if self.copied is not None:
            return
        # the word under the cursor is finished and given out with the cursor's line
        word = "" if self.blank or recalled else self._finish_word()
        if word:
            budget -= 1
        elif self.blank and not self.untyped and recalled is None:
            self._fit_indentation()
        retries = RETRIES
        while budget > 0 and len(lines) < MAX_LINES:
            first = not lines
            saved = self._state()
            # a later line also costs its line break and indentation
            room = budget - (1 if self.untyped else 0) if first else budget - 2
            if recalled is not None:
                line, recalled = recalled, None
                if len(line.tokens) > room:
                    line.tokens, line.ended = line.tokens[: max(0, room)], False
            else:
                line = self._line(first, room)
            verdict = self._verdict(line, lines)
            if retries < RETRIES and (first or self.resumed) and line.confidence < MIN_RETRY_SCORE:
                verdict = "stop"  # another start, and a guess: better no line than a wrong one
            if (
                verdict != "stop"
                and not line.recalled
                and (problem := self._problem(line, lines, word))
            ):
                if problem.startswith("copies "):
                    self.copied = problem.removeprefix("copies ")
                    verdict = "stop"  # another function's formula: its other starts are worse
                elif problem == "not a statement" and self._trim(line, lines, word):
                    verdict = "last"  # the line's start is right; its end is not
                elif (first or self.resumed) and retries and line.start is not None:
                    retries -= 1
                    self._restore(saved)
                    self.banned.add(line.start)
                    continue
                else:
                    verdict = "stop"
            if verdict == "stop":
                if first and word and self._word_fits(word):
                    yield word
                return
            if first and word:
                yield word
            if not first:
                yield NEWLINE
            if (not first or self.untyped) and line.level + self.shift > 0:
                yield self.unit * (line.level + self.shift)
            yield from line.tokens
            budget -= len(line.tokens) + (0 if first else 2)
            lines.append(line)
            self.depth += _depth(line.code)
            if verdict == "last" or not line.ended:
                return
            if first and not line.tokens and not word and self.mode == "statement":
                # the statement was complete at the cursor (the end of a line): the next lines
                self.mode, self.floor, self.resumed = "block", self.level, True
                recalled = self._recall()
                if self.copied is not None:
                    return
                continue
            self.resumed = False
            if self.mode == "line" or (self.mode == "statement" and self.depth <= 0):
                return  # the line, or the statement, is complete

    # -- the structure -------------------------------------------------------------------------

    def _problem(self, line: _Line, lines: list[_Line], word: str) -> str | None:
        """Why the line does not fit the file (see ``structure.Guard.check_line``), or None."""
        if self.guard is None or not (line.code or (word and not lines)):
            return None
        if line.stuck and line.code.endswith((".", "(", "[", "{", ",", "=", "+", "-", "*", "/")):
            return "unfinished"  # nothing that fits could follow (``self.``, ``self.add(``)
        if line.code in _LEADS and (line.stuck or line.confidence < MIN_LINE_SCORE):
            return "unfinished"  # ``return``, what it returned left out (a name not here)
        if lines:
            previous = lines[-1].code or self.ctx.line_prefix.strip()
            text, column = line.code, line.level + self.shift
        elif self.blank:
            column = line.level + (self.shift if self.untyped else 0)
            text, previous = line.code, _last_code_line(self.ctx.prefix)
        else:
            text = (self.ctx.line_prefix + word + "".join(line.tokens)).strip()
            column, previous = _width(self.ctx.line_prefix), _last_code_line(self.ctx.prefix)
        return self.guard.check_line(text, column, first=not lines, previous=previous)

    def _word_fits(self, word: str) -> bool:
        """Whether the finished word alone fits (the line it starts did not)."""
        if self.guard is None:
            return True
        text = (self.ctx.line_prefix + word).strip()
        previous = _last_code_line(self.ctx.prefix)
        column = _width(self.ctx.line_prefix)
        problem = self.guard.check_line(text, column, first=True, previous=previous)
        return problem in (None, "not a statement")

    def _trim(self, line: _Line, lines: list[_Line], word: str) -> bool:
        """Cut a line that is not valid code back to its longest start that is a finished
        statement, keeping at least half of it (``return 2 * self.side = self.side`` ->
        ``return 2 * self.side``)."""
        tokens = line.tokens
        for keep in range(len(tokens) - 1, max(0, (len(tokens) + 1) // 2 - 1), -1):
            line.tokens = tokens[:keep]
            if line.code and finished(line.code) and self._problem(line, lines, word) is None:
                line.ended = False
                return True
        line.tokens = tokens
        return False

    def _state(self) -> tuple[list[str], int, int, set[tuple[str, ...]]]:
        return list(self.context), self.level, self.floor, set(self.seen)

    def _restore(self, state: tuple[list[str], int, int, set[tuple[str, ...]]]) -> None:
        context, self.level, self.floor, seen = state
        self.context, self.seen = list(context), set(seen)

    # -- a whole line seen elsewhere -------------------------------------------------------------

    def _recall(self) -> _Line | None:
        """The cursor's line (or, when the cursor ends a statement, the next one) as a whole
        line the project or the document wrote between the same neighbours (see ``lines``)."""
        indexes = [model.lines for model, _ in self.models if model.lines is not None]
        if not indexes or self.in_comment:
            return None
        code_lines = [code for code, _ in lines_of(self.context)]
        typed = "" if self.blank or self.resumed else self.ctx.line_prefix.lstrip(" \t")
        if typed:
            code_lines.pop()  # the cursor's line, being typed
        if not code_lines:
            return None
        previous = code_lines[-1]
        before = code_lines[-2] if len(code_lines) > 1 else ""
        base = (
            _width(self.ctx.line_prefix)
            if self.resumed
            else len(_last_indentation(self.ctx.prefix))
        )
        guard = self.guard

        opened = self.depth > 0 or opens_block(previous, self.ctx.language_id)
        # the line before, as written (comments and all): what the structural checks read
        previous_raw = (
            self.ctx.line_prefix.strip() if self.resumed else _last_code_line(self.ctx.prefix)
        )

        def fits(code: str, shift: int | None) -> bool:
            if shift is None:
                shift = 0 if self.untyped or self.resumed else self.level - base
            level = self.level if not (self.untyped or self.resumed) else base + shift
            if self.resumed and (level < self.floor or (shift > 0 and not opened)):
                return False
            if self.blank and not self.untyped and _sign(level - base) != _sign(shift):
                return False  # the user's indentation says another block
            if guard is None:
                return True
            if not all(guard.structure.sees(name) or name in guard.bound for name in reads(code)):
                return False  # a name of the place it was copied from
            column = level + (self.shift if self.untyped else 0)
            problem = guard.check_line(code, column, first=not self.resumed, previous=previous_raw)
            if problem is not None and problem.startswith("copies "):
                copied.append(problem.removeprefix("copies "))
            return problem is None or (problem == "not a statement" and _depth(code) > 0)

        structure = self.guard.structure if self.guard is not None else None
        spot = Spot(
            previous,
            self._following_code(),
            before,
            typed,
            frozenset(structure.wanted) if structure is not None else frozenset(),
            tuple(structure.unstored[:1]) if structure is not None else (),
            binds,
        )
        copied: list[str] = []  # the functions whose formulas candidates copy
        found = recall(indexes, spot, fits)
        if copied:  # ranked above any line found: the evidence points at the wrong function
            self.copied = copied[0]
            return None
        if found is None:
            return None
        shift = found.shift or 0
        level = self.level if not (self.untyped or self.resumed) else base + shift
        if self.untyped or self.resumed:
            if level != self.level:
                self.context.append(step(level - self.level))
            self.level = level
        if not self.resumed:
            self.floor = self.level
        if typed:  # the context's cursor line becomes the whole line
            while self.context and not is_break(self.context[-1]) and not is_step(self.context[-1]):
                self.context.pop()
        language = self.ctx.language_id
        tokens = model_tokens(tokenize_code(found.code, language), language)
        self.context += [t for t in tokens if not is_break(t) and not is_step(t)]
        self.context.append(NEWLINE)
        rest = found.code[len(typed) :]
        return _Line(not self.resumed, level, _PIECES.findall(rest), ended=True, recalled=True)

    def _recall_next_line(self) -> _Line | None:
        """The line after the cursor's (a finished statement), if one was seen between the
        same lines; else the decoder is left as it was."""
        state, level = self._state(), self.level
        self.mode, self.floor, self.resumed = "block", self.level, True
        self.context.append(NEWLINE)
        recalled = self._recall()
        if recalled is None:
            self._restore(state)
            self.mode, self.level, self.floor, self.resumed = "statement", level, level + 1, False
        return recalled

    def _statement_ends(self) -> bool:
        """The cursor's line is a finished statement that ends in a closed bracket, a string or
        a whole word (``dist = get(name)``, ``return value``): the user goes on to the next
        line."""
        code = self.ctx.line_prefix.strip()
        if self.typed or not finished(code):
            return False
        if code[-1:] in _ENDS:
            return True
        partial = _PARTIAL_WORD.search(code)
        if partial is None or not self.context:
            return False
        return complete_word(self.models, self.context[:-1], partial.group(0)) is None

    def _following_code(self) -> str:
        """The first line of code after the cursor's line, as the models see lines."""
        after = self.ctx.suffix[len(self.ctx.line_suffix) :][:FOLLOWING_CHARS]
        tokens = model_tokens(
            tokenize_code(after.lstrip("\n"), self.ctx.language_id), self.ctx.language_id
        )
        return next((code for code, _ in lines_of(tokens)), "")

    # -- the start: the word being typed, or the indentation of the cursor's empty line ----------

    def _finish_word(self) -> str:
        """Finish the identifier under the cursor (``make_re`` -> ``make_response``)."""
        partial = _PARTIAL_WORD.search(self.ctx.line_prefix)
        if not partial or not self.context or self.context[-1].strip() != partial.group(0):
            return ""
        before = self.context[:-1]
        guard = self.guard
        fits = None if guard is None else (lambda token: guard.allows(before, token))
        word = complete_word(self.models, before, partial.group(0), fits)
        if not word:
            return ""
        last = self.context[-1]
        self.context[-1] = last[: len(last) - len(partial.group(0))] + word
        return word[len(partial.group(0)) :]

    def _fit_indentation(self) -> None:
        """The user's indentation step, if the model never saw it here, becomes the step the
        model knows here; the lines written are re-indented to the user's depth."""
        if self._knows(self.context):
            return
        typed = step_of(self.context[-1]) or 0
        if typed:
            self.context.pop()
        found = choose(self.models, self.context, is_step)
        if found is not None:
            self.context.append(found)
            self.shift = typed - (step_of(found) or 0)
            self.level -= self.shift
        elif typed:
            self.context.append(step(typed))

    def _knows(self, context: list[str]) -> bool:
        return choose(self.models, context) is not None

    # -- lines ---------------------------------------------------------------------------------

    def _line(self, first: bool, budget: int) -> _Line:
        """Decode up to the next line break (not given out yet: the caller decides)."""
        line = _Line(first, self.level)
        length = 0
        while len(line.tokens) < budget and length < MAX_LINE_CHARS:
            opening = not line.tokens
            found = self._next(
                # the cursor's empty line gets code, not a blank line; so does the line after
                # a statement the cursor ends
                allow_break=not (((first and self.blank) or self.resumed) and opening),
                # only at a line's start; on the cursor's line, only if the user typed nothing
                allow_step=opening and (not first or self.untyped),
                # deeper only after a line that opens a block or leaves a bracket open
                deeper=self.depth > 0 or opens_block(self._last_line(), self.ctx.language_id),
            )
            if found is None:
                line.stuck = bool(line.tokens)
                return line
            token, score = found
            line.confidence = min(line.confidence, score)
            if is_break(token):
                line.ended = True
                return line
            if (delta := step_of(token)) is not None:
                line.level = self.level = max(0, self.level + delta)
                if first:
                    self.floor = self.level
                continue
            if opening:
                line.start = (len(self.context) - 1, self.context[-1])
            if first and opening and not self.blank:
                token = token[min(len(self.typed), _width(token)) :]  # the space typed
            if self.mode == "line" and self._reaches_suffix(token):
                return line
            line.tokens.append(token)
            length += len(token)
        return line

    def _last_line(self) -> str:
        """The code of the last finished line in the context."""
        end = len(self.context)
        while end and (is_break(self.context[end - 1]) or is_step(self.context[end - 1])):
            end -= 1
        start = end
        while start and not is_break(self.context[start - 1]):
            start -= 1
        return "".join(t for t in self.context[start:end] if not is_step(t)).strip()

    def _next(
        self, *, allow_break: bool, allow_step: bool, deeper: bool = True
    ) -> tuple[str, float] | None:
        """The model's next token and its score; it joins the context. Never the same 4 tokens
        twice (greedy decoding loves circles). A step is chosen with the token after it: "4
        columns deeper, then ``def``" competes with "``import``, as deep" as one event."""
        recent = tuple(self.context[-3:])
        at = len(self.context)
        guard = self.guard

        def fresh(token: str) -> bool:
            if is_break(token):
                return allow_break
            if is_step(token):
                return allow_step and (deeper or (step_of(token) or 0) < 0)
            if (*recent, token) in self.seen or (at, token) in self.banned:
                return False
            return guard is None or guard.allows(self.context, token)

        ranked = rank(self.models, _general(self.models, self.context), fresh)
        ranked = ranked or self._attribute(fresh)
        if not ranked:
            return None
        best_score, best = ranked[0]
        if any(is_step(t) for _, t in ranked[:LOOKAHEAD]):
            best_score = -1.0
            for score, token in ranked[:LOOKAHEAD]:
                if is_step(token):
                    after = rank(self.models, [*self.context, token], lambda t: not is_break(t))
                    score *= after[0][0] if after else 0.0
                if score > best_score:
                    best_score, best = score, token
        self.seen.add((*recent, best))
        self.context.append(best)
        return best, best_score

    def _attribute(self, fits: Callable[[str], bool]) -> list[tuple[float, str]]:
        """After ``self.``, when the model knows no attribute the class has: the class's
        attribute that the models saw most often (scored as a guess)."""
        if self.guard is None or not self.context or self.context[-1].strip() != ".":
            return []
        names = self.guard.attribute_names(self.context)
        counts: dict[str, float] = {}
        for model, weight in self.models:
            for name in names:
                if (i := model.ids.get(name)) is not None and fits(name):
                    counts[name] = counts.get(name, 0.0) + weight * model.freq[i]
        found = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return [(MIN_LINE_SCORE, found[0][0])] if found else []

    def _reaches_suffix(self, token: str) -> bool:
        rest = self.ctx.line_suffix.strip()
        word = token.strip()
        return bool(word) and rest.startswith(word)

    def _verdict(self, line: _Line, lines: list[_Line]) -> Literal["go", "last", "stop"]:
        """Whether this line is given out, and whether it is the last one."""
        code = line.code
        if not lines:  # the cursor's own line: only stop if it is the code after the cursor
            return "stop" if self.blank and code and code == self.following else "go"
        if not code:
            return "stop"  # a blank line, or the model has nothing more
        opening = len(lines) == 1 and not lines[0].code  # the first line the completion writes
        if line.confidence < MIN_LINE_SCORE and not opening:
            return "stop"  # a guess: better no line than a wrong one
        if self.following and code == self.following:
            return "stop"  # ran into the code after the cursor
        if any(code == other.code for other in lines):
            return "stop"  # a line it already wrote: a loop
        if self.mode == "block" and line.level + self.shift < self.floor:
            # the block ended; a lone closer the code still needs (``}``) ends the completion
            needed = all(c in _CLOSERS for c in code) and not self.following.startswith(code)
            return "last" if needed else "stop"
        return "go"


def decode(models: Models, ctx: CompletionContext, max_tokens: int) -> Iterator[str]:
    """The completion at ``ctx``'s cursor, as text deltas (tokens), fitted to the file's
    structure (the provider caches the structure; this works it out)."""
    return Decoder(models, ctx, structure_at(ctx)).tokens(max_tokens)


def structure_key(ctx: CompletionContext) -> tuple[str, str, str, str]:
    """What ``structure_at`` depends on: the document without the cursor's line, and the
    line's indentation (so it can be reused while the user types on the line)."""
    line = ctx.line_prefix
    before = ctx.prefix[: len(ctx.prefix) - len(line)]
    return ctx.language_id, before, line[: _width(line)], ctx.suffix[len(ctx.line_suffix) :]


def structure_at(ctx: CompletionContext) -> Structure | None:
    """The file's structure at the cursor (see ``structure``), from the code around the
    cursor's line (what is typed on it, the decoder checks as part of the completion)."""
    language, before, indentation, after = structure_key(ctx)
    return Structure.of(before + indentation, after, language)


def misfit(ctx: CompletionContext, text: str, structure: Structure | None) -> str | None:
    """Why the completion ``text`` does not fit the file (a redefinition, a name or attribute
    the scope lacks), or None: the structural checks, on a finished completion (benchmarks)."""
    if structure is None:
        return None
    guard = Guard(structure, ctx.line_prefix)
    previous = _last_code_line(ctx.prefix)
    for i, line in enumerate(text.split("\n")):
        whole = ctx.line_prefix + line if i == 0 else line
        if not whole.strip():
            continue
        problem = guard.check_line(whole.strip(), _width(whole), first=i == 0, previous=previous)
        if problem is not None and problem != "not a statement":
            return problem
        previous = whole.strip()
    return None


def _general(models: Models, context: list[str]) -> list[str]:
    """The context with each (finished) string or number that no model has seen replaced by
    one they have (``""``, ``0``, with its leading space): what follows a literal rarely depends
    on its text, and an unseen token would cut the context (nothing would be predicted after
    it)."""
    tail = context[-(ORDER - 1) :]
    general = tail
    for i, token in enumerate(tail):
        literal = _LITERAL.match(token)
        if literal is None or any(token in model.ids for model, _ in models):
            continue
        opening = literal.group(2)
        if opening and not (len(token) > literal.end() and token.endswith(opening[-1])):
            continue  # a string still being typed: the cursor is in it
        if general is tail:
            general = list(tail)
        general[i] = literal.group(1) + ('""' if opening else "0")
    return context if general is tail else [*context[: -len(tail)], *general]


def _last_code_line(prefix: str) -> str:
    """The last line with code before the cursor's line."""
    for line in reversed(prefix.split("\n")[:-1]):
        if line.strip():
            return line.strip()
    return ""


def document_around(ctx: CompletionContext) -> tuple[str, str]:
    """The code before and after the cursor's line (not the line itself: while the user types
    on it, the rest stays the same, so a model of it can be reused)."""
    line_start = len(ctx.prefix) - len(ctx.line_prefix)
    cut = ctx.prefix.find("\n", max(0, line_start - DOCUMENT_BEFORE)) + 1
    before = ctx.prefix[cut if line_start > DOCUMENT_BEFORE else 0 : line_start]
    after = ctx.suffix[len(ctx.line_suffix) + 1 :]
    end = after.rfind("\n", 0, DOCUMENT_AFTER)
    return before, after if len(after) <= DOCUMENT_AFTER else after[: max(0, end)]


def document_model(before: str, after: str, language: str) -> NgramModel:
    """A model of the document being edited: its own names and idioms ("cache model", Tu et
    al., 2014), which neither the project's index (maybe older) nor the library knows."""
    parts = (model_tokens(tokenize_code(text, language), language) for text in (before, after))
    return train(parts, min_count=1, lines="document")
