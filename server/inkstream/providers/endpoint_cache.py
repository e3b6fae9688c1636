"""What we learned about an endpoint (does it take FIM?), remembered on disk across restarts."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from inkstream.completion.prompts import ROUTES, Route

logger = logging.getLogger(__name__)


def cache_dir() -> Path:
    override = os.environ.get("INKSTREAM_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("inkstream"))


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write(path: Path, data: Any) -> None:
    """Atomically (write, then rename): two servers never see half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        tmp.replace(path)
    except OSError as exc:
        logger.warning("cannot write %s: %s", path, exc)


class EndpointStyles:
    """``(base_url, model) -> prompts.Route``, in one small JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path or cache_dir() / "endpoints.json"

    def _load(self) -> dict[str, Route]:
        data = _read(self._path)
        return {k: v for k, v in data.items() if v in ROUTES} if isinstance(data, dict) else {}

    def get(self, base_url: str, model: str) -> Route | None:
        return self._load().get(f"{base_url}|{model}")

    def put(self, base_url: str, model: str, route: Route) -> None:
        data = self._load()
        data[f"{base_url}|{model}"] = route
        _write(self._path, data)


class UsageOptionRefusals:
    """Endpoints that answered 400 to ``stream_options`` (older vLLM, some proxies), on disk.

    They are asked without it from then on, and their token counts come from the stream.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = path or cache_dir() / "no-stream-options.json"

    def _load(self) -> list[str]:
        data = _read(self._path)
        return [u for u in data if isinstance(u, str)] if isinstance(data, list) else []

    def refuses(self, base_url: str) -> bool:
        return base_url in self._load()

    def remember(self, base_url: str) -> None:
        _write(self._path, sorted({*self._load(), base_url}))
