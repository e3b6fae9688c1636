"""Copilot language server methods, for Copilot's editor plugins used unmodified.

Thin adapters: every completion is the inline pipeline's (``inline.complete`` and
``inline.samples``: generation, cache, relay, usage), reshaped by ``copilot/shapes.py``. Params
stay plain JSON (``protocol.raw_methods``): the plugins add fields of their own (``_: true``),
leave some out, and send notifications and requests for the same method.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
import uuid
from collections.abc import AsyncGenerator, Mapping
from typing import Any, TypeGuard

from lsprotocol import types

from inkstream import __version__
from inkstream.app import InkstreamServer
from inkstream.completion import documents
from inkstream.completion.context import CompletionContext
from inkstream.copilot import shapes
from inkstream.errors import InkstreamError, InvalidParams, ServerCancelled
from inkstream.handlers import inline
from inkstream.handlers.streaming import editor_request
from inkstream.protocol import InkstreamProtocol, raw_methods

logger = logging.getLogger(__name__)

#: different completions the panel asks for at once (the offline model is deterministic: one)
PANEL_SOLUTIONS = 3

CHECK_STATUS = "checkStatus"
SIGN_IN = "signIn"
SIGN_IN_INITIATE = "signInInitiate"
SIGN_IN_CONFIRM = "signInConfirm"
SIGN_OUT = "signOut"
GET_VERSION = "getVersion"
MODELS = "copilot/models"
NOTIFY_SHOWN = "notifyShown"
NOTIFY_ACCEPTED = "notifyAccepted"
NOTIFY_REJECTED = "notifyRejected"
GET_COMPLETIONS = "getCompletions"
GET_COMPLETIONS_CYCLING = "getCompletionsCycling"
GET_PANEL_COMPLETIONS = "getPanelCompletions"
PANEL_COMPLETION = "textDocument/copilotPanelCompletion"
DID_FOCUS = "textDocument/didFocus"
PANEL_SOLUTION = "PanelSolution"
PANEL_SOLUTIONS_DONE = "PanelSolutionsDone"


def register(server: InkstreamServer) -> None:
    raw_methods.update(
        {
            CHECK_STATUS,
            SIGN_IN,
            SIGN_IN_INITIATE,
            SIGN_IN_CONFIRM,
            SIGN_OUT,
            GET_VERSION,
            MODELS,
            NOTIFY_SHOWN,
            NOTIFY_ACCEPTED,
            NOTIFY_REJECTED,
            GET_COMPLETIONS,
            GET_COMPLETIONS_CYCLING,
            GET_PANEL_COMPLETIONS,
            PANEL_COMPLETION,
            DID_FOCUS,
        }
    )

    # -- signed in, always ---------------------------------------------------------------------

    @server.feature(CHECK_STATUS)
    def check_status(ls: InkstreamServer, _params: Any) -> dict[str, Any]:
        return shapes.status(ls.settings)

    @server.feature(SIGN_IN)
    def sign_in(ls: InkstreamServer, _params: Any) -> dict[str, Any]:
        return shapes.already_signed_in(ls.settings)

    @server.feature(SIGN_IN_INITIATE)
    def sign_in_initiate(ls: InkstreamServer, _params: Any) -> dict[str, Any]:
        return shapes.already_signed_in(ls.settings)

    @server.feature(SIGN_IN_CONFIRM)
    def sign_in_confirm(ls: InkstreamServer, _params: Any) -> dict[str, Any]:
        return shapes.status(ls.settings)

    @server.feature(SIGN_OUT)
    def sign_out(ls: InkstreamServer, _params: Any) -> dict[str, Any]:
        return shapes.signed_out(ls.settings)

    @server.feature(GET_VERSION)
    def get_version(_ls: InkstreamServer, _params: Any) -> dict[str, Any]:
        return {
            "version": __version__,
            "buildType": "inkstream",
            "runtimeVersion": f"python/{platform.python_version()}",
        }

    @server.feature(MODELS)
    def models(ls: InkstreamServer, _params: Any) -> list[dict[str, Any]]:
        return shapes.models(ls.settings, ls.copilot.configured_model or ls.settings.model)

    @server.feature(DID_FOCUS)
    def did_focus(_ls: InkstreamServer, _params: Any) -> None:
        """Taken quietly: inkstream ranks other open documents without knowing focus."""

    # -- usage ---------------------------------------------------------------------------------

    # accepting (github.copilot.didAcceptCompletionItem): handlers/usage.py, shared with next edits

    @server.feature(NOTIFY_SHOWN)
    def notify_shown(ls: InkstreamServer, params: Any) -> str:
        ls.usage.shown(_string(params, "uuid"))
        return "OK"

    @server.feature(NOTIFY_ACCEPTED)
    def notify_accepted(ls: InkstreamServer, params: Any) -> str:
        ident = _string(params, "uuid")
        length = params.get("acceptedLength")
        if isinstance(length, int) and not isinstance(length, bool):
            ls.usage.accepted(ident, max(0, ls.copilot.from_cursor(ident, length)))
        else:
            ls.usage.accepted(ident)
        return "OK"

    @server.feature(NOTIFY_REJECTED)
    def notify_rejected(_ls: InkstreamServer, params: Any) -> str:
        uuids = params.get("uuids") if isinstance(params, Mapping) else None
        if not isinstance(uuids, list):
            raise InvalidParams(f"{NOTIFY_REJECTED} takes {{uuids: string[]}}.")
        return "OK"  # shown and not accepted is what the usage records say already

    # -- completions ---------------------------------------------------------------------------

    @server.feature(GET_COMPLETIONS)
    async def get_completions(ls: InkstreamServer, params: Any) -> dict[str, Any]:
        return {"completions": await _legacy_completions(ls, params)}

    @server.feature(GET_COMPLETIONS_CYCLING)
    async def get_completions_cycling(ls: InkstreamServer, params: Any) -> dict[str, Any]:
        """The suggestion and its alternatives (copilot.lua merges them, dropping repeats)."""
        uri, position, version = _legacy_target(params)
        ctx, where = _context(ls, uri, position)
        found = []
        async with editor_request(
            ls,
            title="inkstream: alternatives",
            document=f"cycling:{uri}",
            work_done_token=None,
            partial_token=None,
            to_value=lambda _text: None,
        ):
            async for _index, text in _samples(ls, ctx):
                ident = _track(ls, ctx, where, text)
                found.append(shapes.legacy_completion(where, text, ident, version))
        return {"completions": found}

    @server.feature(GET_PANEL_COMPLETIONS)
    def get_panel_completions(ls: InkstreamServer, params: Any) -> dict[str, Any]:
        """Answers how many solutions to expect, then streams them as notifications."""
        uri, position, _version = _legacy_target(params)
        ctx, where = _context(ls, uri, position)
        panel_id = params.get("panelId")
        count = _solution_count(ls)
        task = asyncio.get_running_loop().create_task(_panel(ls, ctx, where, panel_id, count))
        protocol = ls.protocol
        msg_id = protocol._ctx_msg_id.get()
        if msg_id is not None and isinstance(protocol, InkstreamProtocol):
            # answered at once, so a later $/cancelRequest (copilot.lua's refresh) stops these
            protocol.late_cancels[msg_id] = task.cancel
            task.add_done_callback(lambda _: protocol.late_cancels.pop(msg_id, None))
        return {"solutionCountTarget": count}

    @server.feature(PANEL_COMPLETION)
    async def panel_completion(ls: InkstreamServer, params: Any) -> dict[str, Any]:
        """Each solution goes out on the partial-result token the moment it is complete; the
        answer then holds none (copilot.vim appends it to the partial results)."""
        document = params.get("textDocument") if isinstance(params, Mapping) else None
        uri = document.get("uri") if isinstance(document, Mapping) else None
        if not isinstance(uri, str):
            raise InvalidParams(f"{PANEL_COMPLETION} needs textDocument.uri.")
        ctx, where = _context(ls, uri, _position(params.get("position")))
        token = params.get("partialResultToken")
        items: list[dict[str, Any]] = []
        async with editor_request(
            ls,
            title="inkstream: solutions",
            document=f"panel:{uri}",
            work_done_token=params.get("workDoneToken"),
            partial_token=None,
            to_value=lambda _text: None,
        ):
            async for _index, text in _samples(ls, ctx):
                item = shapes.inline_item(where, text, _track(ls, ctx, where, text))
                if token is None:
                    items.append(item)
                else:
                    ls.progress(types.ProgressParams(token=token, value={"items": [item]}))
        return {"items": items}


async def inline_for_copilot(
    ls: InkstreamServer, params: types.InlineCompletionParams
) -> dict[str, Any] | types.InlineCompletionList:
    """``textDocument/inlineCompletion`` as Copilot's language server answers it."""
    try:
        result = await inline.complete(ls, params, partial_token=None)
    except ServerCancelled:
        # superseded: the model stopped already; an empty answer, not an error message in
        # the plugin (copilot.el and copilot.lua show every error but -32800)
        return {"items": []}
    if params.context.selected_completion_info is not None:
        return result
    where = _where(ls, params.text_document.uri, params.position)
    items = []
    for item in result.items:
        text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
        ident = str(item.command.arguments[0]) if item.command and item.command.arguments else ""
        ls.copilot.remember_prefix(ident, shapes.utf16_len(where.line_prefix))
        items.append(shapes.inline_item(where, text, ident))
    return {"items": items}


async def _legacy_completions(ls: InkstreamServer, params: Any) -> list[dict[str, Any]]:
    uri, position, version = _legacy_target(params)
    request = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=position,
        # the plugins debounce typing themselves (copilot.lua: 75 ms)
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
    )
    try:
        result = await inline.complete(ls, request, partial_token=None)
    except ServerCancelled:
        return []
    where = _where(ls, uri, position)
    found = []
    for item in result.items:
        text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
        ident = str(item.command.arguments[0]) if item.command and item.command.arguments else ""
        ls.copilot.remember_prefix(ident, shapes.utf16_len(where.line_prefix))
        found.append(shapes.legacy_completion(where, text, ident, version))
    return found


async def _panel(
    ls: InkstreamServer,
    ctx: CompletionContext,
    where: shapes.Where,
    panel_id: Any,
    count: int,
) -> None:
    """``PanelSolution`` per solution as soon as it is complete, then ``PanelSolutionsDone``.
    A newer panel for the document, or a ``$/cancelRequest``, stops it (and its streams)."""
    done: dict[str, Any] = {"panelId": panel_id, "status": "OK"}
    try:
        with ls.registry.track(document=f"panel:{ctx.uri}"):
            async for index, text in _samples(ls, ctx, count):
                ident = _track(ls, ctx, where, text)
                score = round(1.0 - index / (count + 1), 3)
                ls.protocol.notify(
                    PANEL_SOLUTION, shapes.panel_solution(where, text, ident, panel_id, score)
                )
        ls.notifier.succeeded()
    except asyncio.CancelledError:
        logger.debug("panel %s stopped", panel_id)
        return  # the plugin moved on (a newer panel, or closed)
    except InkstreamError as error:
        ls.report_problem(error)
        done.update(status="Error", message=error.message)
    ls.protocol.notify(PANEL_SOLUTIONS_DONE, done)


async def _samples(
    ls: InkstreamServer, ctx: CompletionContext, count: int | None = None
) -> AsyncGenerator[tuple[int, str], None]:
    root = next(iter(ls.workspace_roots()), None)
    rules = ls.exclusion_rules()
    if not ls.settings.enabled_for(ctx.language_id) or rules.is_excluded(ctx.path, root):
        return
    async with contextlib.aclosing(
        inline.samples(ls, ctx, count or _solution_count(ls), rules, root)
    ) as found:
        async for index, text in found:
            yield index, text


def _solution_count(ls: InkstreamServer) -> int:
    return PANEL_SOLUTIONS if ls.settings.resolved_provider == "openai" else 1


def _track(ls: InkstreamServer, ctx: CompletionContext, where: shapes.Where, text: str) -> str:
    """A new solution's id, followed by usage like any suggestion."""
    ident = uuid.uuid4().hex
    column = len(where.line_prefix)
    inline.track(ls, text, ident, ctx, (where.line, column), None)
    ls.copilot.remember_prefix(ident, shapes.utf16_len(where.line_prefix))
    return ident


# -- params ------------------------------------------------------------------------------------


def _string(params: Any, key: str) -> str:
    value = params.get(key) if isinstance(params, Mapping) else None
    if not isinstance(value, str):
        raise InvalidParams(f"Expected a string {key!r} in the params.")
    return value


def _integer(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _position(value: Any) -> types.Position:
    if isinstance(value, Mapping):
        line, character = value.get("line"), value.get("character")
        if _integer(line) and _integer(character):
            return types.Position(line=line, character=character)
    raise InvalidParams("Expected a position {line, character} of integers.")


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _legacy_target(params: Any) -> tuple[str, types.Position, Any]:
    """``getCompletions`` and the panel: ``doc`` holds uri, position and version; copilot.lua
    repeats them in ``textDocument`` and ``position``, copilot.el sends ``doc`` alone."""
    if not isinstance(params, Mapping):
        raise InvalidParams("Expected params {doc: {uri, position, version}}.")
    doc = _object(params.get("doc"))
    text_document = _object(params.get("textDocument"))
    uri = text_document.get("uri") or doc.get("uri")
    if not isinstance(uri, str):
        raise InvalidParams("Expected doc.uri (or textDocument.uri).")
    position = _position(params.get("position") or doc.get("position"))
    version = doc.get("version", text_document.get("version"))
    return uri, position, version


def _where(ls: InkstreamServer, uri: str, position: types.Position) -> shapes.Where:
    doc = documents.open_document(ls.workspace, uri)
    column = documents.column_of(doc, position)
    line = doc.lines[position.line] if position.line < len(doc.lines) else ""
    return shapes.Where(position.line, position.character, line[:column])


def _context(
    ls: InkstreamServer, uri: str, position: types.Position
) -> tuple[CompletionContext, shapes.Where]:
    return documents.completion_context(ls.workspace, uri, position), _where(ls, uri, position)
