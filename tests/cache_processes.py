"""The processes one inkstream run started, found by the cache directory it was given.

Every process a run starts (server, index builder, pool workers) inherits its environment, so
its ``INKSTREAM_CACHE_DIR`` names the run: the e2e tests and ``bench/processes.py`` both use it
to see what outlived a command.
"""

from __future__ import annotations

from pathlib import Path

import psutil


def processes_using(cache: Path) -> list[psutil.Process]:
    """The live processes whose ``INKSTREAM_CACHE_DIR`` is ``cache``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("INKSTREAM_CACHE_DIR") == str(cache):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found
