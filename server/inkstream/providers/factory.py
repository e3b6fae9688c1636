"""Choose and build the provider the settings ask for."""

from __future__ import annotations

from typing import Literal

from inkstream.config import Settings
from inkstream.providers import Provider

_FIM_FAMILIES = (
    "starcoder",
    "codellama",
    "code-llama",
    "deepseek-coder",
    "qwen2.5-coder",
    "qwen2-5-coder",
    "codestral",
    "codegemma",
    "granite",
    "stable-code",
)


def guess_style(settings: Settings) -> Literal["fim", "chat"]:
    """Without probing: code models take FIM, everything else gets the chat hole-filler."""
    if settings.api_style != "auto":
        return settings.api_style
    model = settings.model.lower()
    return "fim" if any(family in model for family in _FIM_FAMILIES) else "chat"


def make_provider(settings: Settings, roots: list[str]) -> Provider:
    if settings.resolved_provider == "offline":
        from inkstream.providers.offline import OfflineProvider

        offline = OfflineProvider(roots)
        offline.start()
        return offline
    from inkstream.providers.openai_compat import OpenAICompatProvider

    provider = OpenAICompatProvider(settings, guess_style(settings))
    provider.warm_up()
    return provider
