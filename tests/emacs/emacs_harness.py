"""Runs one ERT test (or any elisp) in real batch Emacs against the scripted upstream.

Emacs starts the real server itself (``python -m inkstream serve`` with this interpreter), exactly
as a user's Emacs would; the upstream is ``tests/upstream.py`` on 127.0.0.1. While the test runs,
Emacs may print ``CHECKPOINT <name> <arg>`` and wait: the matching handler here looks at what the
upstream recorded (a hang-up, the number of requests) and its answer is written to
``<dir>/<name>.reply`` for the ERT test to read. Used by ``test_emacs.py`` and ``bench/emacs.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "editors" / "emacs"
PACKAGE = PACKAGE_DIR / "inkstream.el"
ERT_FILE = Path(__file__).resolve().parent / "inkstream-test.el"
EMACS = shutil.which(os.environ.get("INKSTREAM_EMACS", "emacs"))

_SCRUBBED = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INKSTREAM_API_KEY", "INKSTREAM_BASE_URL")
_CACHE_DIR = Path(os.environ.get("INKSTREAM_TEST_CACHE", "/tmp/inkstream-test-cache"))

Handler = Callable[[str], str]


@dataclass
class EmacsRun:
    returncode: int
    output: str
    answers: list[tuple[str, str, str]] = field(default_factory=list)  # (name, arg, answer)


def emacs_env(workdir: Path, base_url: str, **extra: str) -> dict[str, str]:
    """Emacs's environment; the server it starts inherits it (the key comes only from here)."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        INKSTREAM_API_KEY="sk-emacs-test-key",
        INKSTREAM_CACHE_DIR=str(_CACHE_DIR),
        INKSTREAM_DATA_DIR=str(home / "inkstream-data"),
        INKSTREAM_LOG=env.get("INKSTREAM_LOG", "DEBUG"),
        INKSTREAM_TEST_PYTHON=sys.executable,
        INKSTREAM_TEST_BASE_URL=base_url,
        INKSTREAM_TEST_DIR=str(workdir),
    )
    env.update(extra)
    return env


def run_emacs(
    args: list[str],
    env: dict[str, str],
    workdir: Path,
    handlers: dict[str, Handler] | None = None,
    timeout: float = 120.0,
) -> EmacsRun:
    """Run ``emacs --batch -Q -L editors/emacs ARGS``, answering its checkpoints."""
    assert EMACS is not None
    handlers = handlers or {}
    cmd = [EMACS, "--batch", "-Q", "-L", str(PACKAGE_DIR), *args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=workdir,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    lines: list[str] = []
    run = EmacsRun(returncode=-1, output="")
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("CHECKPOINT "):
                _, name, *rest = line.rstrip("\n").split(" ", 2)
                arg = rest[0].strip() if rest else ""
                handler = handlers.get(name)
                answer = handler(arg) if handler else f"no handler for {name}"
                run.answers.append((name, arg, answer))
                (workdir / f"{name}.reply.tmp").write_text(answer, encoding="utf-8")
                (workdir / f"{name}.reply.tmp").rename(workdir / f"{name}.reply")
        proc.wait()
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    run.returncode = proc.returncode
    run.output = "".join(lines)
    return run


def ert_args(test_name: str) -> list[str]:
    return ["-l", str(ERT_FILE), "--eval", f'(ert-run-tests-batch-and-exit "^{test_name}$")']


def render_svg(frames: list[tuple[str, dict[str, str]]]) -> str:
    """Draw captured ghost-text states as terminal frames: the buffer, grey ghost text, mode line.

    Each frame is ``(caption, capture)``, a capture being what ``inkstream-test-write-capture``
    saved from the real overlay: the text before point, the ghost text, the text after, the lighter.
    """
    return render_nes_svg(
        [
            {
                "caption": caption,
                "file": cap["file"],
                "lighter": cap["lighter"],
                "runs": [
                    [cap["before"], "normal"],
                    ["", "cursor"],
                    [cap["ghost"], "hint"],
                    [cap["after"], "normal"],
                ],
            }
            for caption, cap in frames
        ]
    )


def render_nes_svg(frames: list[dict[str, object]]) -> str:
    """Draw captured next-edit states as terminal frames, as Emacs shows them.

    Each frame is what ``inkstream-nes-test-capture`` saved from the real overlays: a caption and
    the buffer as runs of ``[text, kind]``, kind being normal, delete (the text an edit removes),
    insert (its ``after-string``), hint (the hint at point, or grey ghost text) or cursor; and
    the mode line's lighter (default `` ink``).
    """
    from html import escape

    char_w, line_h, pad = 8.4, 18, 10
    styles = {
        "normal": ("#dcdccc", None, False),
        "delete": ("#dcdccc", "#5f2f2f", True),
        "insert": ("#dcdccc", "#2f5f2f", False),
        "hint": ("#7a7a7a", None, False),
    }
    rows: list[list[tuple[str, str]]] = []
    for frame in frames:
        rows.append([(f";; {frame['caption']}", "caption")])
        lines: list[list[tuple[str, str]]] = [[]]
        for text, kind in frame["runs"]:  # type: ignore[attr-defined]
            if kind == "cursor":
                lines[-1].append(("", "cursor"))
                continue
            for i, part in enumerate(str(text).split("\n")):
                if i:
                    lines.append([])
                if part and lines[-1] and lines[-1][-1][1] == kind:  # one run per kind
                    lines[-1][-1] = (lines[-1][-1][0] + part, str(kind))
                elif part:
                    lines[-1].append((part, str(kind)))
        rows.extend(lines[:-1] if not lines[-1] else lines)
        mode = f"-UUU:**-  {frame['file']}    Top   (Python{frame.get('lighter', ' ink')})"
        rows.append([(mode.ljust(64, "-"), "mode")])
        rows.append([])
    width = int(66 * char_w + 2 * pad)
    height = int(len(rows) * line_h + 2 * pad)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="DejaVu Sans Mono, monospace" font-size="14">',
        f'<rect width="{width}" height="{height}" fill="#3f3f3f"/>',
    ]
    for n, runs in enumerate(rows):
        y = pad + n * line_h
        x = pad
        for text, kind in runs:
            if kind == "cursor":
                out.append(
                    f'<rect x="{x}" y="{y + 2}" width="{char_w}" height="{line_h - 2}" '
                    'fill="#dcdccc" opacity="0.6"/>'
                )
                continue
            if kind == "mode":
                out.append(
                    f'<rect x="0" y="{y + 2}" width="{width}" height="{line_h}" fill="#2b2b2b"/>'
                )
                colour, background, strike = "#f0dfaf", None, False
            elif kind == "caption":
                colour, background, strike = "#7f9f7f", None, False
            else:
                colour, background, strike = styles[kind]
            w = round(len(text) * char_w, 1)
            if background:
                out.append(
                    f'<rect x="{x}" y="{y + 2}" width="{w}" height="{line_h - 2}" '
                    f'fill="{background}"/>'
                )
            decoration = ' text-decoration="line-through"' if strike else ""
            out.append(
                f'<text x="{x}" y="{y + 15}" fill="{colour}"{decoration} xml:space="preserve">'
                f"{escape(text)}</text>"
            )
            x = round(x + w, 1)
    out.append("</svg>")
    return "\n".join(out) + "\n"
