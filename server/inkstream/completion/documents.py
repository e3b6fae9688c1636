"""From an editor request to a model context: find the document, check the position, split the text.

Positions arrive in the negotiated encoding (UTF-16 by default); pygls' TextDocument converts them
to string offsets. Everything that is wrong with a request becomes ``InvalidParams`` (-32602).
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

from inkstream.completion.context import CompletionContext, ExplainRequest, Snippet
from inkstream.completion.privacy import ExclusionRules
from inkstream.completion.snippets import Candidate, rank_snippets
from inkstream.errors import InvalidParams

#: Characters of other files' code that may join a completion prompt.
SNIPPET_BUDGET = 2000
EDIT_WINDOW = 10  # lines around a recent edit


def open_document(workspace: Workspace, uri: str) -> TextDocument:
    if unquote(uri) not in workspace.text_documents:  # pygls keys documents unquoted
        raise InvalidParams(
            f"Document {uri} is not open.", hint="Send textDocument/didOpen before asking about it."
        )
    return workspace.get_text_document(uri)


def offset_of(doc: TextDocument, position: types.Position) -> int:
    """String offset of a client position; positions past the end are an error, not clamped."""
    lines = doc.lines
    if position.line < 0 or position.character < 0:
        raise InvalidParams(f"Position {position} is negative.")
    if position.line > len(lines) or (position.line == len(lines) and position.character > 0):
        raise InvalidParams(
            f"Position {position.line}:{position.character} is past the end of {doc.uri} "
            f"({len(lines)} lines).",
            hint="The editor and server copies of the document may be out of sync.",
        )
    if position.line == len(lines):
        return len(doc.source)
    line = lines[position.line].rstrip("\r\n")
    width = doc.position_codec.client_num_units(line)
    if position.character > width:
        raise InvalidParams(
            f"Position {position.line}:{position.character} is past the end of its line "
            f"({width} characters).",
            hint="The editor and server copies of the document may be out of sync.",
        )
    # copy: pygls mutates positions it clamps
    return doc.offset_at_position(types.Position(position.line, position.character))


def column_of(doc: TextDocument, position: types.Position) -> int:
    """A client position's column as an index into its line's ``str`` (lines split as pygls
    splits them), for code that keeps a place beyond this request; errors as ``offset_of``."""
    return offset_of(doc, position) - sum(len(line) for line in doc.lines[: position.line])


def path_of(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def language_of(doc: TextDocument) -> str:
    return doc.language_id or "plaintext"


def completion_context(
    workspace: Workspace,
    uri: str,
    position: types.Position,
    selected: types.SelectedCompletionInfo | None = None,
    snippets: tuple[Snippet, ...] = (),
) -> CompletionContext:
    doc = open_document(workspace, uri)
    offset = offset_of(doc, position)
    source = doc.source
    prefix, selected_prefix = source[:offset], ""
    if selected is not None:
        # complete as if the item selected in the suggest widget were already inserted
        start = offset_of(doc, selected.range.start)
        end = offset_of(doc, selected.range.end)
        if start > end:
            raise InvalidParams("selectedCompletionInfo.range starts after it ends.")
        prefix, selected_prefix = source[:start] + selected.text, selected.text
    return CompletionContext(
        uri=uri,
        path=path_of(uri),
        language_id=language_of(doc),
        prefix=prefix,
        suffix=source[offset:],
        selected_prefix=selected_prefix,
        snippets=snippets,
    )


def related_snippets(
    workspace: Workspace,
    ctx: CompletionContext,
    rules: ExclusionRules,
    recent_edits: list[tuple[str, int]],
    root: str | None,
) -> tuple[Snippet, ...]:
    """Code from other open documents and recent edits that resembles the code at the cursor."""
    candidates: list[Candidate] = []
    for doc in list(workspace.text_documents.values()):
        path = path_of(doc.uri)
        if doc.uri == ctx.uri or rules.is_excluded(path, root):
            continue
        candidates.append(Candidate(path, doc.source[:50_000]))
    cursor_line = ctx.prefix.count("\n")
    for uri, line in recent_edits:
        doc = workspace.text_documents.get(uri)
        if doc is None or (uri == ctx.uri and abs(line - cursor_line) <= 2 * EDIT_WINDOW):
            continue
        if rules.is_excluded(path_of(uri), root):
            continue
        lines = doc.lines[max(0, line - EDIT_WINDOW) : line + EDIT_WINDOW]
        candidates.append(Candidate(f"{path_of(uri)} (recent edit)", "".join(lines)))
    around = "\n".join(ctx.prefix.splitlines()[-15:] + ctx.suffix.splitlines()[:5])
    return rank_snippets(around, candidates, budget_chars=SNIPPET_BUDGET)


def explain_request(workspace: Workspace, uri: str, range_: types.Range) -> ExplainRequest:
    doc = open_document(workspace, uri)
    start = offset_of(doc, range_.start)
    end = offset_of(doc, range_.end)
    if start > end:
        raise InvalidParams(
            f"Range {range_.start.line}:{range_.start.character}-{range_.end.line}:"
            f"{range_.end.character} starts after it ends."
        )
    code = doc.source[start:end]
    if not code.strip():
        raise InvalidParams("The range to explain holds no code.", hint="Select some code first.")
    return ExplainRequest(
        uri=uri,
        path=path_of(uri),
        language_id=language_of(doc),
        code=code,
        full_text=doc.source,
        start_line=range_.start.line,
    )
