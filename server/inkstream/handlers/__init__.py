"""Thin LSP handlers: parse, delegate, answer. The one list of feature modules is here."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inkstream.app import InkstreamServer


def register(server: InkstreamServer) -> None:
    from inkstream.handlers import copilot, explain, inline, lifecycle, nextedit, usage

    for module in (lifecycle, inline, explain, nextedit, usage, copilot):
        module.register(server)
