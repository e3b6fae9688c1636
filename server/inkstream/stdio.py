"""stdin read by the event loop itself, so a message is handled the moment it arrives.

pygls 2.1 reads stdin in a worker thread, one ``readline``/``read`` per hand-off: every message
costs four round trips between that thread and the event loop (``Content-Length``,
``Content-Type``, the blank line, the body), and each round trip is a chance to wait for the
scheduler on a busy machine. A ``$/cancelRequest`` waited there for most of its time. Here the
loop reads the pipe directly: when the bytes arrive, the whole message is parsed in one step.

Only for a pipe or a socket of its own: a terminal, or one socket serving as both stdin and
stdout, shares its file description with stdout, which non-blocking reads would make
non-blocking too; those keep pygls's reader.
"""

from __future__ import annotations

import asyncio
import os
import stat
from typing import BinaryIO

#: the longest header line accepted; bodies are read by length and have no limit
LINE_LIMIT = 1 << 20


def loop_can_read(stdin: BinaryIO, stdout: BinaryIO) -> bool:
    """A pipe (Python, Emacs, Vim start servers so), or a socket that is not also stdout (libuv
    gives VS Code's and Neovim's servers a ``socketpair`` per stream)."""
    try:
        given = os.fstat(stdin.fileno())
        if stat.S_ISFIFO(given.st_mode):
            return True
        out = os.fstat(stdout.fileno())
    except (OSError, ValueError):
        return False
    return stat.S_ISSOCK(given.st_mode) and (given.st_dev, given.st_ino) != (
        out.st_dev,
        out.st_ino,
    )


class PipeReader:
    """pygls's reader interface (``readline``, ``readexactly``) over an asyncio pipe."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self._between_messages = True

    async def readline(self) -> bytes:
        # Messages already buffered are read without suspending: yield once per message, so the
        # previous message's async handler runs its first step before the next message is
        # handled (as with pygls's reader; a pushed setting is applied before the next request).
        # Only once: each yield is a turn of the loop (a chunk's snapshot may run in it) before
        # a cancel that has arrived whole is handled.
        if self._between_messages:
            self._between_messages = False
            await asyncio.sleep(0)
        try:
            return await self._reader.readline()
        except ValueError:  # a header line longer than LINE_LIMIT: not a client we can talk to
            return b""

    async def readexactly(self, n: int) -> bytes:
        self._between_messages = True
        try:
            return await self._reader.readexactly(n)
        except asyncio.IncompleteReadError:  # the client went away mid-message
            return b""


async def open_pipe_reader(stdin: BinaryIO) -> PipeReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    return PipeReader(reader)
