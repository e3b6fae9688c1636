"""The shapes Copilot's editor plugins expect, built from inkstream's own (pure, no I/O).

copilot.lua, copilot.vim, copilot.el, copilot-lsp and sidekick.nvim were written for GitHub's
Copilot language server. They read items whose text starts at the beginning of the cursor's line
(what the user typed there included), run ``github.copilot.didAcceptCompletionItem`` on accept,
and ask who is signed in before showing anything. Everything here turns one inkstream
completion into those shapes; docs/copilot-clients.md says which plugin reads what.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from inkstream.config import Settings
from inkstream.protocol import COPILOT_ACCEPT_COMMAND as ACCEPT_COMMAND

OFFLINE_MODEL = "offline"


def is_copilot_client(init_options: Any) -> bool:
    """Copilot's plugins name themselves in ``initializationOptions`` (the Copilot language
    server requires it); inkstream's own clients send settings there and never these keys."""
    if not isinstance(init_options, Mapping):
        return False
    return isinstance(init_options.get("editorPluginInfo"), Mapping) or isinstance(
        init_options.get("editorInfo"), Mapping
    )


def plugin_name(init_options: Any) -> str:
    info = init_options.get("editorPluginInfo") if isinstance(init_options, Mapping) else None
    name = info.get("name") if isinstance(info, Mapping) else None
    return name if isinstance(name, str) else "unknown"


def model_id(settings: Settings) -> str:
    return settings.model if settings.resolved_provider == "openai" else OFFLINE_MODEL


def user(settings: Settings) -> str:
    """Who is "signed in": the model and where it runs, as a person would recognise them."""
    if settings.resolved_provider != "openai":
        return "inkstream (offline model)"
    host = urlparse(settings.endpoint).hostname or settings.endpoint
    return f"inkstream ({settings.model} @ {host})"


def status(settings: Settings) -> dict[str, Any]:
    """``checkStatus`` and ``signInConfirm``: always signed in (there is no account)."""
    return {"status": "OK", "user": user(settings)}


def already_signed_in(settings: Settings) -> dict[str, Any]:
    """``signIn`` / ``signInInitiate``: no device flow ever starts."""
    return {"status": "AlreadySignedIn", "user": user(settings)}


def signed_out(settings: Settings) -> dict[str, Any]:
    """``signOut``: there is nothing to sign out of; say so, and what stays in use."""
    return {
        "status": "OK",
        "user": user(settings),
        "message": f"{user(settings)} has no sign-in; it keeps answering. To stop it, "
        "disable the plugin or change its server command.",
    }


def models(settings: Settings, configured: str) -> list[dict[str, Any]]:
    """``copilot/models``: the model in use and the one configured (if the session chose
    another), as the plugins' model pickers read them."""
    ids = [model_id(settings)]
    if settings.resolved_provider == "openai" and configured not in ids:
        ids.append(configured)
    return [
        {
            "id": ident,
            "modelName": ident,
            "scopes": ["completion"],
            "default": ident == configured or settings.resolved_provider != "openai",
            "preview": False,
        }
        for ident in ids
    ]


def selected_model(settings: Any) -> str | None:
    """``settings.github.copilot.selectedCompletionModel`` of a ``didChangeConfiguration``."""
    node: Any = settings
    for key in ("github", "copilot", "selectedCompletionModel"):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, str) and node else None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Where:
    """Where a completion goes: the cursor, and the text before it on its line."""

    line: int
    character: int  # the cursor, in UTF-16 units (as the plugins count)
    line_prefix: str

    def range(self) -> dict[str, Any]:
        """From the start of the line to the cursor: the plugins replace the typed prefix."""
        return {
            "start": {"line": self.line, "character": 0},
            "end": {"line": self.line, "character": self.character},
        }

    def position(self) -> dict[str, int]:
        return {"line": self.line, "character": self.character}


def command(ident: str, title: str = "Accept completion") -> dict[str, Any]:
    return {"title": title, "command": ACCEPT_COMMAND, "arguments": [ident]}


def inline_item(where: Where, text: str, ident: str) -> dict[str, Any]:
    """A ``textDocument/inlineCompletion`` (and panel) item: ``insertText`` from the start of
    the line, so ``line[:range.start] + insertText`` starts with what was typed."""
    return {
        "insertText": where.line_prefix + text,
        "range": where.range(),
        "command": command(ident),
    }


def legacy_completion(where: Where, text: str, ident: str, version: Any) -> dict[str, Any]:
    """A ``getCompletions`` entry: ``text`` from the start of the line, ``displayText`` what
    is new (copilot.lua draws lines after the first from it)."""
    return {
        "uuid": ident,
        "text": where.line_prefix + text,
        "displayText": text,
        "range": where.range(),
        "position": where.position(),
        "docVersion": version,
    }


def panel_solution(
    where: Where, text: str, ident: str, panel_id: Any, score: float
) -> dict[str, Any]:
    """A ``PanelSolution``: ``completionText`` goes in at the cursor (an empty range there):
    copilot.lua and copilot.vim apply it on ``range``, copilot.el inserts it at point."""
    at = where.position()
    return {
        "panelId": panel_id,
        "solutionId": ident,
        "completionText": text,
        "displayText": where.line_prefix + text,
        "range": {"start": at, "end": dict(at)},
        "score": score,
    }


def status_notification(message: str) -> dict[str, Any]:
    """``didChangeStatus`` (copilot.vim, copilot.el, sidekick) and ``statusNotification``
    (copilot.lua) in one: an empty message is back to normal. The text never says "not
    signed into" (copilot-lsp starts a GitHub sign-in on that)."""
    kind = "Error" if message else "Normal"
    return {"kind": kind, "status": kind, "busy": False, "message": message}
