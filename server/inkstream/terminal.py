"""Terminal commands (demo, complete, explain): placeholder until the terminal client lands."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    """Register the terminal subcommands on the ``inkstream`` parser."""
    del sub


__all__ = ["add_commands", "argparse"]
