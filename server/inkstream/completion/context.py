"""What the model needs to know about the cursor, built from a document without any I/O."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Snippet:
    """Code from another file (or an earlier edit) that may help the model."""

    path: str
    text: str


@dataclass(frozen=True)
class CompletionContext:
    """The text around the cursor, split where the completion goes.

    ``prefix``/``suffix`` are the whole document before/after the cursor; prompt building cuts them
    to a budget. ``selected_prefix`` is the text of the item selected in the editor's suggest widget
    (empty when none): ``prefix`` already ends with it, and the completion extends it.
    """

    uri: str
    path: str
    language_id: str
    prefix: str
    suffix: str
    selected_prefix: str = ""
    snippets: tuple[Snippet, ...] = field(default=())
    #: the user asked for it (a key, a command), rather than typing: worth a longer wait
    invoked: bool = False

    @property
    def line_prefix(self) -> str:
        """Text on the cursor's line before the cursor."""
        return self.prefix[self.prefix.rfind("\n") + 1 :]

    @property
    def line_suffix(self) -> str:
        """Text on the cursor's line after the cursor."""
        end = self.suffix.find("\n")
        return self.suffix if end < 0 else self.suffix[:end]


@dataclass(frozen=True)
class ExplainRequest:
    """A span of code to explain, with the whole file for context."""

    uri: str
    path: str
    language_id: str
    code: str
    full_text: str
    start_line: int  # 0-based line of ``code`` in ``full_text``
