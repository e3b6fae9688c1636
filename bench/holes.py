"""Held-out code for the quality benchmarks: pip's own sources (installed everywhere, and not
something inkstream depends on or trains on), with deterministic "holes" (whole lines to fill)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pip


@dataclass(frozen=True)
class Hole:
    path: Path
    prefix: str  # the file up to the hole, ending with the line's indentation
    suffix: str  # from the end of the removed line
    expected: str  # the removed line, without its indentation


def held_out_files(limit: int = 40) -> list[Path]:
    root = Path(pip.__file__).parent / "_internal"
    files = sorted(p for p in root.rglob("*.py") if 2_000 < p.stat().st_size < 40_000)
    return files[:limit]


def holes(count: int = 60, seed: int = 7) -> list[Hole]:
    rng = random.Random(seed)
    files = held_out_files()
    found: list[Hole] = []
    while len(found) < count:
        path = rng.choice(files)
        lines = path.read_text(encoding="utf-8").split("\n")
        i = rng.randrange(10, len(lines) - 1)
        line = lines[i]
        stripped = line.strip()
        if len(stripped) < 8 or stripped.startswith(("#", '"', "'")):
            continue
        indent = line[: len(line) - len(line.lstrip())]
        prefix = "\n".join(lines[:i]) + "\n" + indent
        suffix = "\n" + "\n".join(lines[i + 1 :])
        found.append(Hole(path, prefix, suffix, stripped))
    return found
