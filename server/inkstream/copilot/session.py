"""What the server remembers about a Copilot plugin between its requests."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

MAX_TRACKED = 500


@dataclass
class CopilotSession:
    #: the client is one of Copilot's plugins (``initializationOptions.editorPluginInfo``)
    active: bool = False
    plugin: str = ""
    #: the model the user configured, before a model picker chose another for the session
    configured_model: str = ""
    #: a problem is on the plugin's status line (cleared by the next success)
    status_error: bool = False
    #: per item id, the UTF-16 length of the line's text before the item (its ``text`` and
    #: ``insertText`` start there; usage counts from the cursor)
    _prefix_units: OrderedDict[str, int] = field(default_factory=OrderedDict)

    def remember_prefix(self, ident: str, units: int) -> None:
        self._prefix_units[ident] = units
        while len(self._prefix_units) > MAX_TRACKED:
            self._prefix_units.popitem(last=False)

    def from_cursor(self, ident: str, accepted_length: int) -> int:
        """An ``acceptedLength`` counted from the start of the line, counted from the cursor."""
        return accepted_length - self._prefix_units.get(ident, 0)
