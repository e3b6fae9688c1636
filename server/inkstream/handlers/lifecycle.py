"""Start-up, settings, shutdown, and the cancel notification for work-done progress."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lsprotocol import types

from inkstream.app import ClientFeatures
from inkstream.copilot.shapes import is_copilot_client, models, plugin_name, selected_model
from inkstream.protocol import INKSTREAM_STATUS

if TYPE_CHECKING:
    from inkstream.app import InkstreamServer

logger = logging.getLogger(__name__)


def register(server: InkstreamServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: InkstreamServer, params: types.InitializeParams) -> None:
        caps = params.capabilities
        ls.capabilities_of_client = ClientFeatures(
            work_done_progress=bool(caps.window and caps.window.work_done_progress),
            configuration=bool(caps.workspace and caps.workspace.configuration),
        )
        options = params.initialization_options
        ls.init_options = options if isinstance(options, dict) else {}
        ls.apply_settings()
        if is_copilot_client(options):  # docs/copilot-clients.md
            ls.copilot.active, ls.copilot.plugin = True, plugin_name(options)
            ls.copilot.configured_model = ls.settings.model
            logger.info("client: %s (Copilot's protocol)", ls.copilot.plugin)
        # the settings of initializationOptions are known now: the client's import (a second, more
        # under load) and the endpoint probe start before the editor has even sent `initialized`
        ls.warm_up()

    @server.feature(types.INITIALIZED)
    async def initialized(ls: InkstreamServer, _params: types.InitializedParams) -> None:
        ls.start_housekeeping()
        ls.watch_editor()
        await refresh_configuration(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: InkstreamServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if ls.copilot.active:
            choose_model(ls, selected_model(params.settings))
        pushed = params.settings.get("inkstream") if isinstance(params.settings, dict) else None
        if isinstance(pushed, dict):
            ls.apply_settings(pushed)
        else:
            await refresh_configuration(ls)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: InkstreamServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.history.open(unquote(params.text_document.uri), params.text_document.text)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: InkstreamServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.history.close(unquote(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: InkstreamServer, params: types.DidChangeTextDocumentParams) -> None:
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                ls.note_edit(params.text_document.uri, change.range.start.line)
        ls.document_changed(params.text_document.uri)

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def work_done_progress_cancel(
        ls: InkstreamServer, params: types.WorkDoneProgressCancelParams
    ) -> None:
        if not ls.registry.cancel_token(params.token):
            logger.debug("cancel for unknown or finished token %s", params.token)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: InkstreamServer, *_args: Any) -> None:
        await ls.close()

    @server.feature(INKSTREAM_STATUS)
    async def status(ls: InkstreamServer, *_args: Any) -> dict[str, Any]:
        return await ls.status()


async def refresh_configuration(ls: InkstreamServer) -> None:
    if not ls.capabilities_of_client.configuration:
        return
    try:
        values = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="inkstream")])
        )
    except Exception as exc:  # a client that cannot answer must not stop the server
        logger.warning("workspace/configuration failed: %s", exc)
        return
    section = values[0] if values else None
    ls.apply_settings(section if isinstance(section, dict) else None)


def choose_model(ls: InkstreamServer, chosen: str | None) -> None:
    """A Copilot plugin's model picker chose one of ``copilot/models``: it is the session's
    ``model`` (a model the list does not offer, such as a GitHub one left in the plugin's
    configuration, is ignored)."""
    offered = [m["id"] for m in models(ls.settings, ls.copilot.configured_model)]
    if chosen is None or chosen == ls.settings.model or chosen not in offered:
        if chosen is not None and chosen not in offered:
            logger.info("ignoring selectedCompletionModel %r: not one of %s", chosen, offered)
        return
    if ls.settings.resolved_provider != "openai":
        return
    ls.init_options = {**ls.init_options, "model": chosen}
    ls.apply_settings(ls.workspace_settings)
