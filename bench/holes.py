"""Held-out code for the quality benchmarks: pip's own sources (installed everywhere, and not
something inkstream depends on or trains on), with deterministic "holes" (whole lines to fill).

``holes()`` draws from the first files (the server benchmark, ``quality.py``, on an empty
workspace). ``project_split()`` treats pip (or any other project) as the user's project: most
files are the project the offline model learns, a few held-out files are the ones being edited
(``offline_accuracy.py``).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pip

from inkstream.providers.offline.index import LANGUAGES


@dataclass(frozen=True)
class Hole:
    path: Path
    prefix: str  # the file up to the hole, ending with the line's indentation
    suffix: str  # from the end of the removed line
    expected: str  # the removed line, without its indentation


def project_root() -> Path:
    return Path(pip.__file__).parent / "_internal"


def held_out_files(limit: int = 40) -> list[Path]:
    files = sorted(p for p in project_root().rglob("*.py") if 2_000 < p.stat().st_size < 40_000)
    return files[:limit]


def project_split(
    root: Path | None = None, held_out: int = 20
) -> tuple[list[Path], list[Path], str]:
    """``(held out, training, language)`` for a project (pip's sources unless ``root`` is given;
    its language is that of most of its code files): ``held_out`` mid-sized files chosen by a
    hash of their path (the same on every run), and every other file of the project in that
    language. No file is in both, and no held-out file's text is in the training files
    (checked: pip has a few identical files)."""
    root = root or project_root()
    suffixes = Counter(p.suffix for p in root.rglob("*") if p.suffix in LANGUAGES and p.is_file())
    suffix = suffixes.most_common(1)[0][0] if suffixes else ".py"
    files = sorted(p for p in root.rglob(f"*{suffix}") if p.is_file())
    sized = [p for p in files if 2_000 < p.stat().st_size < 40_000]
    sized.sort(key=lambda p: hashlib.sha256(p.relative_to(root).as_posix().encode()).digest())
    held = sized[:held_out]
    training = [p for p in files if p not in held]
    texts = {p.read_bytes() for p in training}
    held = [p for p in held if p.read_bytes() not in texts]
    return sorted(held), training, LANGUAGES[suffix]


Kind = Literal["line", "typed", "next"]
_OPEN_ENDS = ("\\", ",", "(", "[", "{", ":", "#")


def holes(
    count: int = 60, seed: int = 7, files: list[Path] | None = None, *, kind: Kind = "line"
) -> list[Hole]:
    """Lines removed from ``files``. ``kind`` says where the cursor is:

    - ``line``: at the line's indentation; ``expected`` is the line without it;
    - ``typed``: at a random character of the line (the user typed that much of it, as at any
      keystroke); ``expected`` is the rest of the line;
    - ``next``: at the end of the line before, a finished statement (the user just wrote it);
      ``expected`` is the removed line with its indentation, to be written after a line break.
    """
    rng = random.Random(seed)
    files = files or held_out_files()
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
        if kind == "typed":
            cut = rng.randrange(1, len(stripped))
            prefix, stripped = prefix + stripped[:cut], stripped[cut:]
        elif kind == "next":
            before = lines[i - 1].strip()
            if not before or before.endswith(_OPEN_ENDS) or before.startswith(("#", "@")):
                continue  # not a finished statement (a block's header is another case)
            prefix, stripped = "\n".join(lines[:i]), line.rstrip()
        found.append(Hole(path, prefix, suffix, stripped))
    return found
