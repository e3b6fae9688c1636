"""Usage: acceptance reports from editors, and the figures they show.

Accepted items run the ``inkstream.didAccept`` command their completion item carries; clients
built for Copilot's language server report through its two notifications, whose ``item`` is that
same completion item (the id is ``item.command.arguments[0]``).
"""

from __future__ import annotations

import logging
from typing import Any

# a real import: pygls reads the command handler's annotations at run time
from inkstream.app import InkstreamServer
from inkstream.errors import InvalidParams
from inkstream.protocol import (
    COPILOT_ACCEPT_COMMAND,
    DID_ACCEPT_COMMAND,
    DID_PARTIALLY_ACCEPT_COMPLETION,
    DID_SHOW_COMPLETION,
    INKSTREAM_USAGE,
)

logger = logging.getLogger(__name__)

MAX_DAYS = 366


def _get(obj: Any, name: str) -> Any:
    """A field of a JSON object, whether pygls gave us a dict or a namedtuple."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def item_id(params: Any) -> str | None:
    """``params.item.command.arguments[0]``, if it is one of ours."""
    command = _get(_get(params, "item"), "command")
    arguments = _get(command, "arguments")
    if (
        _get(command, "command") not in (DID_ACCEPT_COMMAND, COPILOT_ACCEPT_COMMAND)
        or not arguments
    ):
        return None
    first = arguments[0]
    return first if isinstance(first, str) else None


def _accept(ls: InkstreamServer, command: str, args: tuple[Any, ...]) -> None:
    if len(args) != 1 or not isinstance(args[0], str):
        raise InvalidParams(f"{command} takes one argument, the item id from the item's command.")
    ls.usage.accepted(args[0])


def register(server: InkstreamServer) -> None:
    @server.command(DID_ACCEPT_COMMAND)
    def did_accept(ls: InkstreamServer, *args: Any) -> None:
        _accept(ls, DID_ACCEPT_COMMAND, args)

    @server.command(COPILOT_ACCEPT_COMMAND)
    def did_accept_copilot(ls: InkstreamServer, *args: Any) -> None:
        # Copilot clients accept next edits (and completion items) with its command; the README
        # says only the first argument is required
        _accept(ls, COPILOT_ACCEPT_COMMAND, args[:1])

    @server.feature(DID_SHOW_COMPLETION)
    def did_show(ls: InkstreamServer, params: Any) -> None:
        ident = item_id(params)
        if ident is None:
            logger.debug("didShowCompletion for an item that is not ours")
            return
        ls.usage.shown(ident)

    @server.feature(DID_PARTIALLY_ACCEPT_COMPLETION)
    def did_partially_accept(ls: InkstreamServer, params: Any) -> None:
        ident = item_id(params)
        length = _get(params, "acceptedLength")
        if ident is None or isinstance(length, bool) or not isinstance(length, int):
            logger.debug("ignoring didPartiallyAcceptCompletion: %s", params)
            return
        # a Copilot plugin's item starts at the line's start: count from the cursor
        if (length := ls.copilot.from_cursor(ident, length)) > 0:
            ls.usage.accepted(ident, length)

    @server.feature(INKSTREAM_USAGE)
    async def usage(ls: InkstreamServer, params: Any) -> dict[str, Any]:
        days = _get(params, "days") if params is not None else None
        if days is None:
            days = 30
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise InvalidParams(f"{INKSTREAM_USAGE}: days must be an integer from 1 to {MAX_DAYS}.")
        return await ls.usage.report(days)
