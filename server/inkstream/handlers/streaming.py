"""One editor request around one relay: registration, progress, partial results, errors, cancel.

Every streaming handler runs its relay inside ``editor_request``, so all of them share the same
cancellation semantics (docs/protocol.md): a client cancel answers -32800, a server-side cancel
(superseded, shutdown) answers -32802, and nothing is sent for the request after its answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from inkstream.errors import InkstreamError, ServerCancelled
from inkstream.relay import REPORT_INTERVAL, Coalescer, Listener, StreamStats

if TYPE_CHECKING:
    from inkstream.app import InkstreamServer

logger = logging.getLogger(__name__)


class EditorListener(Listener):
    """Sends what the relay produces to the editor: partial results and work-done reports."""

    def __init__(
        self,
        ls: InkstreamServer,
        *,
        partial_token: types.ProgressToken | None,
        work_done_token: types.ProgressToken | None,
        to_value: Callable[[str], Any],
        accumulate: bool,
    ) -> None:
        self._ls = ls
        self._partial_token = partial_token
        self._work_done_token = work_done_token
        self._to_value = to_value
        self._last_report = 0.0
        self._answered = False
        #: the work-done ``end`` message when the request succeeded (``"done"`` if None)
        self.end_message: str | None = None
        #: when the editor first got text (a partial result): time to first ghost text
        self.first_text_at: float | None = None
        self._coalescer = (
            Coalescer(self._send_partial, accumulate=accumulate)
            if partial_token is not None
            else None
        )

    def _send_partial(self, text: str) -> None:
        assert self._partial_token is not None
        value = self._ls.protocol._converter.unstructure(self._to_value(text))
        self._ls.progress(types.ProgressParams(token=self._partial_token, value=value))

    def on_text(self, text: str, *, line_completed: bool) -> None:
        if self._coalescer is not None:
            if self.first_text_at is None:
                self.first_text_at = time.monotonic()
            self._coalescer.offer(text, line_completed=line_completed)

    def on_stats(self, stats: StreamStats) -> None:
        now = time.monotonic()
        if self._work_done_token is not None and now - self._last_report >= REPORT_INTERVAL:
            self._last_report = now
            self._ls.work_done_progress.report(
                self._work_done_token, types.WorkDoneProgressReport(message=stats.summary())
            )

    def send_value(self, value: Any) -> None:
        """A partial result that is a delta of its own (new next edits): sent at once, never
        coalesced or replaced, and never after the request is answered."""
        if self._partial_token is None or self._answered:
            return
        if self.first_text_at is None:
            self.first_text_at = time.monotonic()
        value = self._ls.protocol._converter.unstructure(value)
        self._ls.progress(types.ProgressParams(token=self._partial_token, value=value))

    def note(self, message: str) -> None:
        """Tell the user what the request waits for (a work-done report; no partial result)."""
        if self._work_done_token is not None:
            self._ls.work_done_progress.report(
                self._work_done_token, types.WorkDoneProgressReport(message=message)
            )

    def finish(self) -> None:
        """The stream ended normally: send what is pending, then nothing more."""
        if self._coalescer is not None:
            self._coalescer.flush()
            self._coalescer.close()
        self._answered = True

    def abandon(self) -> None:
        if self._coalescer is not None:
            self._coalescer.close()
        self._answered = True


def warm_first_answer(ls: InkstreamServer) -> None:
    """Build, at start-up, what the converter builds the first time it meets each message shape.

    cattrs generates (and compiles) an unstructure function per type on first use: left to the
    first answer, that is several ms between the model's first chunk and the first ghost text,
    tens of ms on a busy machine. Nothing is sent.
    """
    here = types.Position(0, 0)
    item = types.InlineCompletionItem(
        insert_text="x",
        range=types.Range(here, here),
        command=types.Command(title="warm", command="warm", arguments=["warm"]),
    )
    value = ls.protocol._converter.unstructure(types.InlineCompletionList(items=[item]))
    for message in (
        types.ProgressNotification(params=types.ProgressParams(token="warm", value=value)),
        types.ProgressNotification(
            params=types.ProgressParams(token="warm", value=types.WorkDoneProgressBegin("warm"))
        ),
        types.ProgressNotification(
            params=types.ProgressParams(token="warm", value=types.WorkDoneProgressReport())
        ),
    ):
        ls.protocol._converter.unstructure(message)


async def _server_created_token(ls: InkstreamServer) -> types.ProgressToken | None:
    """A work-done token of our own, for clients that support progress but sent none."""
    if not ls.capabilities_of_client.work_done_progress:
        return None
    token = f"inkstream-{uuid.uuid4().hex[:12]}"
    # shield: if this request is cancelled meanwhile, the client's late answer must still find
    # a live future, or pygls shows the user an error popup
    await asyncio.shield(ls.work_done_progress.create_async(token))
    return token


@asynccontextmanager
async def editor_request(
    ls: InkstreamServer,
    *,
    title: str,
    document: str | None,
    work_done_token: types.ProgressToken | None,
    partial_token: types.ProgressToken | None,
    to_value: Callable[[str], Any],
    accumulate: bool = False,
    create_token: bool = False,
) -> AsyncIterator[EditorListener]:
    if work_done_token is None and create_token:
        work_done_token = await _server_created_token(ls)
    listener = EditorListener(
        ls,
        partial_token=partial_token,
        work_done_token=work_done_token,
        to_value=to_value,
        accumulate=accumulate,
    )
    progress = ls.work_done_progress
    if work_done_token is not None:
        progress.begin(work_done_token, types.WorkDoneProgressBegin(title=title, cancellable=True))
    outcome = "cancelled"
    try:
        with ls.registry.track(document=document, token=work_done_token):
            try:
                yield listener
            except asyncio.CancelledError:
                if reason := ls.registry.reason():
                    raise ServerCancelled(f"Request cancelled by the server ({reason}).") from None
                raise
            except InkstreamError as error:
                outcome = "failed"
                ls.report_problem(error)
                raise
        listener.finish()
        outcome = "done"
        ls.notifier.succeeded()
    finally:
        listener.abandon()
        if work_done_token is not None:
            message = (listener.end_message or outcome) if outcome == "done" else outcome
            progress.end(work_done_token, types.WorkDoneProgressEnd(message=message))
            progress.tokens.pop(work_done_token, None)
