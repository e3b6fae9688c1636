"""inkstream's custom methods and their typed messages (see docs/protocol.md).

The protocol subclass also answers malformed requests itself: pygls 2.1 drops them silently and
shows the user a popup, but every request deserves an error response to its id.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
from collections.abc import Callable, Generator
from typing import Any

import attrs
import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol, lsp_method

logger = logging.getLogger(__name__)

INKSTREAM_INLINE_COMPLETION = "inkstream/inlineCompletion"
INKSTREAM_EXPLAIN = "inkstream/explain"
INKSTREAM_STATUS = "inkstream/status"
EXPLAIN_COMMAND = "inkstream.explain"
DID_ACCEPT_COMMAND = "inkstream.didAccept"
INKSTREAM_USAGE = "inkstream/usage"
#: Copilot language server's notifications, accepted as they are (docs/protocol.md)
DID_SHOW_COMPLETION = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT_COMPLETION = "textDocument/didPartiallyAcceptCompletion"
INKSTREAM_NEXT_EDIT = "inkstream/nextEdit"
DID_DISMISS_NEXT_EDIT = "inkstream/didDismissNextEdit"
#: Copilot language server's next edits, its "shown" notification and its accept command
COPILOT_INLINE_EDIT = "textDocument/copilotInlineEdit"
DID_SHOW_INLINE_EDIT = "textDocument/didShowInlineEdit"
COPILOT_ACCEPT_COMMAND = "github.copilot.didAcceptCompletionItem"
#: methods whose params stay plain JSON (Copilot's plugins add fields of their own: ``_: true``)
raw_methods: set[str] = set()


@attrs.define
class StreamingInlineCompletionParams(types.InlineCompletionParams):
    """``textDocument/inlineCompletion`` params plus the token that partial snapshots go to."""

    partial_result_token: types.ProgressToken | None = attrs.field(default=None)


@attrs.define
class ExplainParams:
    text_document: types.TextDocumentIdentifier
    range: types.Range
    work_done_token: types.ProgressToken | None = attrs.field(default=None)
    partial_result_token: types.ProgressToken | None = attrs.field(default=None)


@attrs.define
class NextEditDocument:
    """``{uri, version?}``; Copilot clients add ``languageId`` and such, which are ignored."""

    uri: str
    version: int | None = attrs.field(default=None)


@attrs.define
class NextEditParams:
    text_document: NextEditDocument
    position: types.Position
    work_done_token: types.ProgressToken | None = attrs.field(default=None)
    partial_result_token: types.ProgressToken | None = attrs.field(default=None)


@attrs.define
class NextEditRequestMessage:
    id: int | str
    params: NextEditParams
    method: str = INKSTREAM_NEXT_EDIT
    jsonrpc: str = "2.0"


@attrs.define
class CopilotInlineEditRequestMessage:
    id: int | str
    params: NextEditParams
    method: str = COPILOT_INLINE_EDIT
    jsonrpc: str = "2.0"


@attrs.define
class StreamingInlineCompletionRequest:
    id: int | str
    params: StreamingInlineCompletionParams
    method: str = INKSTREAM_INLINE_COMPLETION
    jsonrpc: str = "2.0"


@attrs.define
class ExplainRequestMessage:
    id: int | str
    params: ExplainParams
    method: str = INKSTREAM_EXPLAIN
    jsonrpc: str = "2.0"


@attrs.define
class ExecuteCommandNotification:
    """``workspace/executeCommand`` sent as a notification: clients may run an accepted item's
    command so (pygls only knows the request, and would drop it as malformed)."""

    params: types.ExecuteCommandParams
    method: str = types.WORKSPACE_EXECUTE_COMMAND
    jsonrpc: str = "2.0"


@attrs.define
class MalformedRequest:
    """Stands in for a request whose params did not parse, so it can still be answered."""

    id: int | str
    method: str
    detail: str
    jsonrpc: str = "2.0"


@attrs.define
class RawRequest:
    """A request whose params are kept as JSON (dicts, lists), parsed by its handler."""

    id: int | str
    method: str
    params: Any = None
    jsonrpc: str = "2.0"


@attrs.define
class RawNotification:
    method: str
    params: Any = None
    jsonrpc: str = "2.0"


#: The params of the ``workspace/executeCommand`` being handled; pygls passes commands only their
#: arguments, but the work-done token is on the params.
execute_command_params: contextvars.ContextVar[types.ExecuteCommandParams | None] = (
    contextvars.ContextVar("execute_command_params", default=None)
)

_CUSTOM_TYPES: dict[str, type] = {
    INKSTREAM_INLINE_COMPLETION: StreamingInlineCompletionRequest,
    INKSTREAM_EXPLAIN: ExplainRequestMessage,
    INKSTREAM_NEXT_EDIT: NextEditRequestMessage,
    COPILOT_INLINE_EDIT: CopilotInlineEditRequestMessage,
}


def _wire_names(message: str) -> str:
    """cattrs names attributes (``$.params.text_document``); say it as on the wire."""
    text, _, where = message.partition(" @ $.")
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), where)
    return f"{text} at {camel}" if where else text


_GOING_AWAY = frozenset((types.SHUTDOWN, types.EXIT))


class InkstreamProtocol(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: how to stop work that outlives its request's answer (the Copilot panel's solutions)
        self.late_cancels: dict[Any, Callable[[], object]] = {}

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        if (late := self.late_cancels.pop(msg_id, None)) is not None:
            late()
        # the request's stream drops its socket first, here: the one it consumes (an
        # explanation) or the one it alone waits for (a completion's ``Generation``)
        from inkstream.relay import hang_up_cancelled

        task = self._request_futures.get(msg_id)
        if isinstance(task, asyncio.Task):
            hang_up_cancelled(task)
        super()._handle_cancel_notification(msg_id)

    def get_message_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        return _CUSTOM_TYPES.get(method) or super().get_message_type(method)

    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" in data and data.get("method") in _GOING_AWAY:
            # The models hear it now: before cattrs first builds this type's hooks (some ms in
            # a young server) and before pygls schedules the handlers (shutdown's is a task).
            from inkstream.relay import hang_up_all

            hang_up_all()
        method = data.get("method")
        if "jsonrpc" in data and method in raw_methods:
            params = data.get("params")
            if "id" in data:
                return RawRequest(id=data["id"], method=method, params=params)
            return RawNotification(method=method, params=params)
        if "id" not in data and method == types.WORKSPACE_EXECUTE_COMMAND:
            # copilot.el runs an accepted next edit's command as a notification
            try:
                return self._converter.structure(data, ExecuteCommandNotification)
            except cattrs.ClassValidationError:
                logger.warning("ignoring a malformed workspace/executeCommand notification")
                return None
        try:
            return super().structure_message(data)
        except JsonRpcInvalidParams as exc:
            if "id" not in data or "method" not in data:
                raise
            cause = exc.__cause__
            if isinstance(cause, cattrs.ClassValidationError):
                detail = "; ".join(_wire_names(m) for m in cattrs.transform_error(cause))
            else:
                detail = str(cause or exc)
            return MalformedRequest(id=data["id"], method=str(data["method"]), detail=detail)

    def handle_message(self, message: Any) -> None:
        if message is None:  # a malformed notification, already logged
            return
        if isinstance(message, MalformedRequest):
            logger.warning(
                "Malformed %s request %s: %s", message.method, message.id, message.detail
            )
            error = types.ResponseError(
                code=JsonRpcInvalidParams.CODE,
                message=f"Invalid params for {message.method}: {message.detail}",
                data={
                    "kind": "invalid_params",
                    "hint": "See docs/protocol.md for the shapes.",
                },
            )
            self._send_response(message.id, error=error)
            return
        super().handle_message(message)

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: types.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        execute_command_params.set(params)
        return (yield from super().lsp_workspace__execute_command(params))

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, Any]:
        from inkstream.copilot.shapes import is_copilot_client

        general = params.capabilities.general
        if is_copilot_client(params.initialization_options) and general is not None:
            general.position_encodings = None  # Copilot's plugins count in UTF-16, always
        result = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {
            "inkstream": {
                "inlineCompletion": True,
                "explain": True,
                "partialResults": True,
                "nextEdit": True,
            }
        }
        return result
