"""Which stdin the event loop reads itself (``inkstream.stdio.loop_can_read``)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from inkstream.stdio import loop_can_read


@contextmanager
def opened(fd: int) -> Iterator[BinaryIO]:
    with os.fdopen(fd, "rb", buffering=0, closefd=False) as stream:
        yield stream


def test_a_pipe_is_read_on_the_loop() -> None:
    read, write = os.pipe()
    try:
        with opened(read) as stdin, opened(write) as stdout:
            assert loop_can_read(stdin, stdout)
    finally:
        os.close(read)
        os.close(write)


def test_a_socket_of_its_own_is_read_on_the_loop() -> None:
    """libuv (VS Code, Neovim) gives the server one socketpair for stdin, another for stdout."""
    stdin_pair, stdout_pair = socket.socketpair(), socket.socketpair()
    try:
        with opened(stdin_pair[1].fileno()) as stdin, opened(stdout_pair[1].fileno()) as stdout:
            assert loop_can_read(stdin, stdout)
    finally:
        for sock in (*stdin_pair, *stdout_pair):
            sock.close()


def test_one_socket_for_both_keeps_pygls_reader() -> None:
    """Non-blocking reads would make its writes non-blocking too."""
    ours, theirs = socket.socketpair()
    try:
        with opened(theirs.fileno()) as stdin, opened(theirs.fileno()) as stdout:
            assert not loop_can_read(stdin, stdout)
    finally:
        ours.close()
        theirs.close()


def test_a_file_keeps_pygls_reader(tmp_path: Path) -> None:
    path = tmp_path / "messages"
    path.write_bytes(b"")
    with path.open("rb") as stdin, path.open("rb") as stdout:
        assert not loop_can_read(stdin, stdout)
