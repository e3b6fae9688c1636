"""The language server object: state that outlives a request, and the feature registration."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal
from urllib.parse import unquote

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from inkstream import __version__, config
from inkstream.completion.cache import CompletionCache
from inkstream.completion.debounce import AdaptiveDebounce
from inkstream.completion.generation import Generation
from inkstream.completion.privacy import ExclusionRules
from inkstream.copilot.session import CopilotSession
from inkstream.errors import BudgetReached, InkstreamError, Notifier
from inkstream.nextedit.history import EditHistory
from inkstream.protocol import InkstreamProtocol
from inkstream.providers import Provider
from inkstream.relay import Timeouts, hang_up_all
from inkstream.session import STALE, RequestRegistry, next_edit_key
from inkstream.usage.service import UsageService

logger = logging.getLogger(__name__)

EDITOR_CHECK = 1.0  # seconds between checks that the editor process is still there


@dataclass(frozen=True)
class ClientFeatures:
    """What the client supports, computed once at initialize (pygls checks none of it)."""

    work_done_progress: bool = False
    configuration: bool = False


class InkstreamServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "inkstream",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=InkstreamProtocol,
        )
        self.registry = RequestRegistry()
        self.notifier = Notifier(self._popup, on_clear=self._problems_cleared)
        self.copilot = CopilotSession()
        #: the workspace settings last applied (re-applied when the session's model changes)
        self.workspace_settings: Mapping[str, Any] | None = None
        self.capabilities_of_client = ClientFeatures()
        self.init_options: Mapping[str, Any] = {}
        self.settings = config.merge(os.environ)
        self.usage = UsageService(self._document_text)
        self.completions = CompletionCache()
        #: the running completion stream per document, for type-through
        self.generations: dict[str, Generation] = {}
        self.debounce = AdaptiveDebounce()
        #: (uri, line) of the latest edits, newest last
        self.recent_edits: list[tuple[str, int]] = []
        #: every open document's recent edits, for next edits
        self.history = EditHistory()
        #: why the last completion was empty (None: it was not): ``inkstream/status``
        self.empty_reason: str | None = None
        self._exclusions: tuple[tuple[str, ...], ExclusionRules] | None = None
        self._provider: Provider | None = None
        #: after ``initialized``, a provider is built (and warms up) as soon as settings name it
        self._eager_provider = False
        self._housekeeping: asyncio.Task[None] | None = None
        self._settling: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None

    # -- transport -------------------------------------------------------------------------

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve on stdio, stdin read on the event loop where it can be (``inkstream.stdio``)."""
        from pygls.io_ import StdinAsyncReader, run_async

        from inkstream import stdio

        stdin = stdin or sys.stdin.buffer
        stdout = stdout or sys.stdout.buffer

        async def serve() -> None:
            assert self._stop_event is not None
            if stdio.loop_can_read(stdin, stdout):
                reader: Any = await stdio.open_pipe_reader(stdin)
            else:
                reader = StdinAsyncReader(stdin, self.thread_pool)
            await run_async(
                stop_event=self._stop_event,
                reader=reader,
                protocol=self.protocol,
                logger=logging.getLogger("pygls.server"),
                error_handler=self.report_server_error,
            )
            hang_up_all()  # stdin closed: the editor is gone

        self._stop_event = threading.Event()
        self.protocol.set_writer(ClosingWriter(stdout))
        try:
            asyncio.run(serve())
        except BrokenPipeError:
            logger.error("the client closed the connection; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    # -- settings and provider -------------------------------------------------------------

    def apply_settings(self, workspace: Mapping[str, Any] | None = None) -> None:
        """Re-merge settings from every source; a new provider is built on next use if needed."""
        self.workspace_settings = workspace
        try:
            settings = config.merge(os.environ, self.init_options, workspace)
        except config.SettingsError as exc:
            self._popup(f"inkstream: ignoring invalid settings: {exc}")
            return
        self.usage.configure(settings)
        self.debounce.min_delay = settings.debounce_min
        self.debounce.max_delay = max(settings.debounce_min, settings.debounce_max)
        if settings != self.settings:
            logger.info("settings: %s", settings.public_view())
            self.settings = settings
            self.completions = CompletionCache()
            self._replace_provider()

    def _replace_provider(self) -> None:
        old, self._provider = self._provider, None
        if old is not None:
            asyncio.get_running_loop().create_task(old.aclose())
        if self._eager_provider:
            self.provider  # noqa: B018  (warm the new one up now, not on the first request)

    def warm_up(self) -> None:
        """Build the provider now; it gets ready in the background (client, endpoint probe)."""
        self._eager_provider = True
        provider = self.provider
        self._settling = asyncio.get_running_loop().create_task(self._freeze_when_ready(provider))

    async def _freeze_when_ready(self, provider: Provider) -> None:
        """Once start-up's imports are done, keep their objects out of every later collection.

        A young process full of just-imported modules runs full collections that stop the event
        loop for tens of milliseconds, cancels included; ``gc.freeze`` moves what exists now to
        a generation the collector never scans again.
        """
        with contextlib.suppress(Exception):
            await provider.ready()
        from inkstream.handlers.streaming import warm_first_answer

        warm_first_answer(self)  # the first ghost text must not wait for the converter
        gc.freeze()

    @property
    def provider(self) -> Provider:
        if self._provider is None:
            from inkstream.providers.factory import make_provider

            self._provider = make_provider(self.settings, self.workspace_roots())
        return self._provider

    async def completion_style(self) -> Literal["fim", "chat"]:
        """Chat replies need more clean-up than FIM ones; the offline model writes like FIM."""
        resolve = getattr(self.provider, "resolve_route", None)
        route = await resolve() if resolve is not None else "template"
        return "chat" if route == "chat" else "fim"

    @property
    def timeouts(self) -> Timeouts:
        return Timeouts(self.settings.first_token_timeout, self.settings.idle_timeout)

    def workspace_roots(self) -> list[str]:
        from inkstream.completion.documents import path_of

        folders = self.workspace.folders.values()
        roots = [path_of(f.uri) for f in folders]
        if not roots and self.workspace.root_uri:
            roots = [path_of(self.workspace.root_uri)]
        return roots

    def exclusion_rules(self) -> ExclusionRules:
        """Exclude globs from settings plus the workspace's top-level .gitignore (read once)."""
        globs = self.settings.exclude
        if self._exclusions is None or self._exclusions[0] != globs:
            lines: list[str] = []
            for root in self.workspace_roots():
                try:
                    with open(os.path.join(root, ".gitignore"), encoding="utf-8") as f:
                        lines += f.read().splitlines()
                except OSError:
                    pass
            self._exclusions = (globs, ExclusionRules(globs, lines))
        return self._exclusions[1]

    def note_edit(self, uri: str, line: int) -> None:
        self.recent_edits = [e for e in self.recent_edits if e != (uri, line)][-19:]
        self.recent_edits.append((uri, line))

    def document_changed(self, uri: str) -> None:
        """After a ``didChange``: record the edit; a next edit computed for the version before
        is worthless now, so the request still running for it stops (-32802, model hung up)."""
        key = unquote(uri)  # as pygls keys documents, whatever the client's spelling
        document = self.workspace.text_documents.get(key)
        if document is not None:
            self.history.change(key, document.source, time.monotonic())
        self.registry.cancel_document(next_edit_key(key), STALE)

    def _document_text(self, uri: str) -> str | None:
        document = self.workspace.text_documents.get(uri)
        return None if document is None else str(document.source)

    async def status(self) -> dict[str, Any]:
        usage = await self.usage.status(self.settings)
        return {
            **self.settings.public_view(),
            "lastError": self.notifier.last_error,
            "emptyReason": self.empty_reason,
            **usage,
        }

    # -- problems --------------------------------------------------------------------------

    def report_problem(self, error: InkstreamError) -> None:
        if isinstance(error, BudgetReached) and not self.usage.first_budget_notice():
            return  # one message a day about the budget, however many requests hit it
        logger.warning("%s", error.message)
        self.window_log_message(
            types.LogMessageParams(type=types.MessageType.Warning, message=error.message)
        )
        self.notifier.report(error, self.settings.base_url or self.settings.resolved_provider)

    def _popup(self, message: str) -> None:
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=message)
        )
        if self.copilot.active:  # Copilot's plugins show it on their status line too
            self.copilot.status_error = True
            self._copilot_status(message)

    def _problems_cleared(self) -> None:
        if self.copilot.active and self.copilot.status_error:
            self.copilot.status_error = False
            self._copilot_status("")

    def _copilot_status(self, message: str) -> None:
        from inkstream.copilot.shapes import status_notification

        params = status_notification(message)
        self.protocol.notify("didChangeStatus", params)
        self.protocol.notify("statusNotification", params)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # A late client answer to a request we stopped waiting for is not the user's problem.
        if isinstance(error, asyncio.InvalidStateError) or "InvalidStateError" in str(error):
            logger.debug("ignored late response: %s", error)
            return
        super().report_server_error(error, source)

    # -- housekeeping ----------------------------------------------------------------------

    def start_housekeeping(self) -> None:
        if self._housekeeping is None:
            self._housekeeping = asyncio.get_running_loop().create_task(self._prune_forever())

    async def _prune_forever(self) -> None:
        """pygls keeps a future per notification forever; drop the finished ones."""
        futures = self.protocol._request_futures
        while True:
            await asyncio.sleep(30)
            for key in [k for k, f in futures.items() if f.done()]:
                futures.pop(key, None)

    def watch_editor(self) -> None:
        """LSP: the server exits when the editor that started it (``processId``) is gone, even
        if its stdin stays open (inherited by some other process the editor started)."""
        pid = self.process_id
        if pid and pid != os.getpid() and _alive(pid) and self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().create_task(self._watch_editor(pid))
        # a pid not alive now is not ours to watch (another pid namespace: a container)

    async def _watch_editor(self, pid: int) -> None:
        while _alive(pid):
            await asyncio.sleep(EDITOR_CHECK)
        logger.info("the editor (pid %d) is gone: exiting", pid)
        await self.close()
        logging.shutdown()
        os._exit(0)

    def finish(self) -> None:
        """The last thing before the process exits, on every way out that runs code (``exit``,
        stdin closing, SIGTERM): index builds not handed off yet are, so no work is lost."""
        hand_off = getattr(self._provider, "hand_off", None)
        if hand_off is not None:
            hand_off()

    async def close(self) -> None:
        hang_up_all()  # the sockets first: the tasks' unwinding only tidies up
        self.registry.cancel_all()
        for task in (self._housekeeping, self._watchdog):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        if self._provider is not None:
            await self._provider.aclose()
        await self.usage.close()


class ClosingWriter(StdoutWriter):
    """pygls's stdout writer, silent once closed.

    On ``exit`` pygls closes stdout while requests still unwind (an explanation answers, ends
    its progress). Their late messages have nowhere to go: each failed send logged a chained
    traceback and reported an error that was itself sent, ever longer, until a stderr the
    editor does not read filled up and the server blocked instead of exiting.
    """

    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()  # type: ignore[no-untyped-call]

    def write(self, data: bytes) -> None:
        if not self.closed:
            super().write(data)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def create_server() -> InkstreamServer:
    from inkstream import handlers

    server = InkstreamServer()
    handlers.register(server)
    return server
