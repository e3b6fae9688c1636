"""Who is running: one registry of in-flight requests, so every way of saying "stop" finds its task.

Inline requests are keyed by document, so a newer one supersedes the older (the user typed on);
next-edit requests likewise, under a key of their own (``next_edit_key``).
Work-done tokens map to their request task, so ``window/workDoneProgress/cancel`` can cancel it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

from inkstream.relay import hang_up_cancelled, hang_up_task

logger = logging.getLogger(__name__)

SUPERSEDED = "superseded"
SHUTDOWN = "shutdown"
#: the document changed after the request's version (a next edit for it is worthless)
STALE = "stale"


def next_edit_key(uri: str) -> str:
    """Next-edit requests are one per document too, apart from the document's completion."""
    return f"\0nextEdit {uri}"


class RequestRegistry:
    def __init__(self) -> None:
        self._by_document: dict[str, asyncio.Task[object]] = {}
        self._by_token: dict[Hashable, asyncio.Task[object]] = {}
        self._running: set[asyncio.Task[object]] = set()
        self._reasons: dict[asyncio.Task[object], str] = {}

    @contextmanager
    def track(
        self, *, document: str | None = None, token: Hashable | None = None
    ) -> Iterator[None]:
        """Register the current task for the duration of a request."""
        task = asyncio.current_task()
        assert task is not None
        if document is not None:
            older = self._by_document.get(document)
            if older is not None and older is not task and not older.done():
                self._cancel(older, SUPERSEDED)
            self._by_document[document] = task
        if token is not None:
            self._by_token[token] = task
        self._running.add(task)
        try:
            yield
        finally:
            self._running.discard(task)
            self._reasons.pop(task, None)
            if document is not None and self._by_document.get(document) is task:
                del self._by_document[document]
            if token is not None and self._by_token.get(token) is task:
                del self._by_token[token]

    def cancel_token(self, token: Hashable) -> bool:
        task = self._by_token.get(token)
        if task is None or task.done():
            return False
        hang_up_cancelled(task)  # the socket first (relay.HangUp)
        task.cancel()
        return True

    def cancel_document(self, document: str, reason: str) -> bool:
        """Cancel the request running for ``document`` (answered -32802 with ``reason``)."""
        task = self._by_document.get(document)
        if task is None or task.done():
            return False
        self._cancel(task, reason)
        return True

    def cancel_all(self) -> int:
        running = [t for t in self._running if not t.done()]
        for task in running:
            self._cancel(task, SHUTDOWN)
        return len(running)

    def reason(self) -> str | None:
        """Why the current task was cancelled by the server, if it was."""
        task = asyncio.current_task()
        return self._reasons.get(task) if task is not None else None

    def _cancel(self, task: asyncio.Task[object], reason: str) -> None:
        logger.debug("cancelling request task (%s)", reason)
        self._reasons[task] = reason
        hang_up_task(task)
        task.cancel()
