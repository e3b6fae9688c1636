"""Choose and build the provider the settings ask for."""

from __future__ import annotations

import os

from inkstream.config import Settings
from inkstream.providers import Provider


def make_provider(settings: Settings, roots: list[str]) -> Provider:
    if settings.resolved_provider == "offline":
        from inkstream.providers.offline import OfflineProvider

        pace = float(os.environ.get("INKSTREAM_OFFLINE_PACE", "0.01"))
        offline = OfflineProvider(roots, pace=pace)
        offline.start()
        return offline
    from inkstream.providers.openai_compat import OpenAICompatProvider

    provider = OpenAICompatProvider(settings)
    provider.warm_up()
    return provider
