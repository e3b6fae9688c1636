"""Next edits: ``inkstream/nextEdit`` (streamed hunk by hunk) and Copilot's
``textDocument/copilotInlineEdit``, plus the shown and dismissed notifications.

Parse, build the request (``nextedit/service.py``), pass each hunk on as an LSP edit the moment a
source makes it final, answer with all of them. Accepting runs the edit's command
(``handlers/usage.py``).
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from contextlib import aclosing
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import TextDocument

from inkstream.completion import documents
from inkstream.completion.privacy import ExclusionRules, redact
from inkstream.errors import InkstreamError
from inkstream.handlers.streaming import editor_request
from inkstream.nextedit import model, service
from inkstream.nextedit.hunk import LineHunk, narrow
from inkstream.protocol import (
    COPILOT_ACCEPT_COMMAND,
    COPILOT_INLINE_EDIT,
    DID_ACCEPT_COMMAND,
    DID_DISMISS_NEXT_EDIT,
    DID_SHOW_INLINE_EDIT,
    INKSTREAM_NEXT_EDIT,
    NextEditParams,
)
from inkstream.session import next_edit_key

if TYPE_CHECKING:
    from inkstream.app import InkstreamServer

logger = logging.getLogger(__name__)

#: characters of edit history a prompt may hold (this file's edits first, then other files')
PROMPT_HISTORY_BUDGET = 3000


def register(server: InkstreamServer) -> None:
    @server.feature(INKSTREAM_NEXT_EDIT)
    async def next_edit(ls: InkstreamServer, params: NextEditParams) -> dict[str, Any]:
        return await suggest(ls, params, DID_ACCEPT_COMMAND, "inkstream: next edit accepted")

    @server.feature(COPILOT_INLINE_EDIT)
    async def copilot_inline_edit(ls: InkstreamServer, params: NextEditParams) -> dict[str, Any]:
        return await suggest(ls, params, COPILOT_ACCEPT_COMMAND, "Accept next edit")

    @server.feature(DID_DISMISS_NEXT_EDIT)
    def did_dismiss(ls: InkstreamServer, params: Any) -> None:
        ids = _get(params, "ids")
        if not isinstance(ids, list | tuple):
            logger.debug("didDismissNextEdit without ids: %s", params)
            return
        for ident in ids:
            if isinstance(ident, str):
                ls.usage.dismissed(ident)

    @server.feature(DID_SHOW_INLINE_EDIT)
    def did_show(ls: InkstreamServer, params: Any) -> None:
        ident = _first_argument(_get(_get(params, "item"), "command"))
        if ident is None:
            logger.debug("didShowInlineEdit without an id: %s", params)
            return
        ls.usage.shown(ident)


async def suggest(
    ls: InkstreamServer, params: NextEditParams, command: str, title: str
) -> dict[str, Any]:
    """The edits for the document version the client sees; ``{edits: []}`` when there are
    none, the version is not the server's, or next edits are off for this language."""
    uri = params.text_document.uri
    doc = documents.open_document(ls.workspace, uri)
    line, column = _cursor(doc, params.position)
    version = doc.version if params.text_document.version is None else params.text_document.version
    settings = ls.settings
    language = documents.language_of(doc)
    path = documents.path_of(uri)
    root = next(iter(ls.workspace_roots()), None)
    rules = ls.exclusion_rules()
    if (
        version != doc.version
        or not settings.next_edit.enable
        or not settings.enabled_for(language)
        or rules.is_excluded(path, root)  # as for completions: inkstream leaves the file alone
    ):
        return {"edits": []}
    request = _request(ls, doc, uri, version, (line, column), rules, root)
    lines = request.lines
    key = unquote(uri)  # history and registry: as pygls keys documents
    sources: list[service.HunkSource] = [service.offline_hunks]
    edits: list[dict[str, Any]] = []
    started = time.monotonic()
    async with editor_request(
        ls,
        title="inkstream: next edit",
        document=next_edit_key(key),
        work_done_token=params.work_done_token,
        partial_token=params.partial_result_token,
        to_value=lambda _text: None,
    ) as listener:
        if model.model_choice(settings) is not None:  # after the offline hunks, debounced
            ask = functools.partial(model.model_hunks, ls, listener)
            sources.append(service.after_pause(ask, ls.debounce.delay))
        try:
            async with aclosing(service.predict(request, sources)) as hunks:
                async for number, hunk in hunks:
                    edit = _edit(doc, lines, hunk, uri, version, command, title)
                    edits.append(edit)
                    listener.send_value({"edits": [edit]})
                    origin = "offline" if number == 0 else "model"
                    _track(ls, request, edit, hunk, origin, time.monotonic() - started)
        except InkstreamError as error:  # the model failed: the edits found so far still count
            ls.report_problem(error)
    return {"edits": edits}


def _track(
    ls: InkstreamServer,
    request: service.NextEditRequest,
    edit: dict[str, Any],
    hunk: LineHunk,
    origin: str,
    seconds: float,
) -> None:
    """Follow the edit in the usage records: shown, accepted, dismissed, kept, by its id
    (where its new text starts, in characters: the kept rate looks there)."""
    change = narrow(hunk, list(request.lines))
    s = ls.settings
    offline = origin == "offline"
    ls.usage.new_suggestion(
        edit["command"]["arguments"][0],
        uri=request.uri,
        line=change.start[0],
        column=change.start[1],
        text=change.text,
        language=request.language_id,
        model="offline" if offline else (s.next_edit.model or s.model),
        endpoint="offline" if offline else (s.next_edit.base_url or s.endpoint),
        ttft_ms=round(seconds * 1000, 1),
        kind="nextEdit",
    )


def _request(
    ls: InkstreamServer,
    doc: TextDocument,
    uri: str,
    version: int | None,
    cursor: tuple[int, int],
    rules: ExclusionRules,
    root: str | None,
) -> service.NextEditRequest:
    """What the sources read: the document's lines, the cursor, its history."""
    key = unquote(uri)  # history: as pygls keys documents
    now = time.monotonic()
    return service.NextEditRequest(
        uri=uri,
        path=documents.path_of(uri),
        language_id=documents.language_of(doc),
        version=version,
        lines=tuple(text.removesuffix("\r") for text in doc.source.split("\n")),
        cursor=cursor,
        edits=ls.history.edits(key, now),
        opened=ls.history.opened(key),
        prompt_edits=ls.history.context(
            key,
            now,
            excluded=lambda u: rules.is_excluded(documents.path_of(u), root),
            redact=redact,
            budget_chars=PROMPT_HISTORY_BUDGET,
        ),
    )


def _cursor(doc: TextDocument, position: types.Position) -> tuple[int, int]:
    return position.line, documents.column_of(doc, position)


def _edit(
    doc: TextDocument,
    lines: tuple[str, ...],
    hunk: LineHunk,
    uri: str,
    version: int | None,
    command: str,
    title: str,
) -> dict[str, Any]:
    change = narrow(hunk, list(lines))
    ident = uuid.uuid4().hex
    return {
        "range": {
            "start": _client_position(doc, lines, change.start),
            "end": _client_position(doc, lines, change.end),
        },
        # the document's own line ends (sources think in lines without them)
        "text": change.text.replace("\n", "\r\n") if "\r\n" in doc.source else change.text,
        "textDocument": {"uri": uri, "version": version},
        "command": {"title": title, "command": command, "arguments": [ident]},
    }


def _client_position(
    doc: TextDocument, lines: tuple[str, ...], at: tuple[int, int]
) -> dict[str, int]:
    """(line, str column) in the client's position units (UTF-16 unless negotiated)."""
    line, column = at
    if line >= len(lines):
        return {"line": line, "character": 0}
    units = doc.position_codec.client_num_units(lines[line][:column])
    return {"line": line, "character": units}


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _first_argument(command: Any) -> str | None:
    arguments = _get(command, "arguments")
    if not isinstance(arguments, list | tuple) or not arguments:
        return None
    first = arguments[0]
    return first if isinstance(first, str) else None
