"""Real Neovim driven as a user would: pynvim over ``nvim --embed --headless --clean``.

The plugin in ``editors/neovim`` is on the runtimepath, ``setup()`` starts the real server
(``python -m inkstream serve``) through Neovim's LSP client, and keys go through Neovim's input
queue (``nvim.input``), so mappings and autocommands fire as they do for a person typing.
A Lua timer inside Neovim samples the ``inkstream`` namespace every few milliseconds; the samples
are read back afterwards, so the sampling does not depend on RPC round trips.
Times are ``vim.loop.hrtime()`` in seconds: the same clock as Python's ``time.monotonic()``.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pynvim

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "neovim"
NVIM = os.environ.get("INKSTREAM_NVIM") or shutil.which("nvim")
SERVER = [sys.executable, "-m", "inkstream", "serve"]
_SCRUBBED = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INKSTREAM_API_KEY", "INKSTREAM_BASE_URL")

# Ghost text as the user sees it: the first line at the cursor, the virtual lines below it.
_LUA = r"""
local ns = vim.api.nvim_create_namespace('inkstream')
local E = {}
_G.inkstream_test = E
function E.ghost(buf)
  local marks = vim.api.nvim_buf_get_extmarks(buf or 0, ns, 0, -1, { details = true })
  local out = {}
  for _, m in ipairs(marks) do
    local d = m[4]
    local parts = {}
    for _, chunk in ipairs(d.virt_text or {}) do parts[#parts + 1] = chunk[1] end
    local text = table.concat(parts)
    for _, l in ipairs(d.virt_lines or {}) do
      local p = {}
      for _, chunk in ipairs(l) do p[#p + 1] = chunk[1] end
      text = text .. '\n' .. table.concat(p)
    end
    out[#out + 1] = { id = m[1], row = m[2], col = m[3], text = text, pos = d.virt_text_pos or '' }
  end
  return out
end
E.samples = {}
E.notes = {}
vim.notify = function(msg, level) table.insert(E.notes, { msg = msg, level = level or 2 }) end
function E.sample(every_ms, buf)
  E.samples = {}
  if E.timer then E.timer:stop() end
  E.timer = vim.loop.new_timer()
  local b = buf or vim.api.nvim_get_current_buf()
  E.timer:start(0, every_ms, vim.schedule_wrap(function()
    local pum = vim.fn.pumvisible() == 1
    table.insert(E.samples, { t = vim.loop.hrtime() / 1e9, marks = E.ghost(b), pum = pum })
  end))
end
function E.sample_lines(every_ms, buf)
  E.samples = {}
  if E.timer then E.timer:stop() end
  E.timer = vim.loop.new_timer()
  E.timer:start(0, every_ms, vim.schedule_wrap(function()
    if vim.api.nvim_buf_is_valid(buf) then
      local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, true), '\n')
      table.insert(E.samples, { t = vim.loop.hrtime() / 1e9, text = text })
    end
  end))
end
-- Next edits as drawn in the `inkstream_nes` namespace: each mark's range, highlight and text.
local nes_ns = vim.api.nvim_create_namespace('inkstream_nes')
local function chunks(list)
  local parts = {}
  for _, chunk in ipairs(list or {}) do parts[#parts + 1] = chunk[1] end
  return table.concat(parts)
end
function E.nes(buf)
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf or 0, nes_ns, 0, -1, { details = true })) do
    local d = m[4]
    local lines = {}
    for _, l in ipairs(d.virt_lines or {}) do lines[#lines + 1] = chunks(l) end
    out[#out + 1] = {
      id = m[1], row = m[2], col = m[3], end_row = d.end_row or m[2], end_col = d.end_col or m[3],
      hl = d.hl_group or '', text = chunks(d.virt_text), lines = lines,
      text_hl = (d.virt_text and d.virt_text[#d.virt_text][2]) or '',
      pos = d.virt_text_pos or '', chunks = d.virt_text or {},
    }
  end
  return out
end
function E.sample_nes(every_ms)
  E.samples = {}
  if E.timer then E.timer:stop() end
  E.timer = vim.loop.new_timer()
  local b = vim.api.nvim_get_current_buf()
  E.timer:start(0, every_ms, vim.schedule_wrap(function()
    table.insert(E.samples, { t = vim.loop.hrtime() / 1e9, marks = E.nes(b) })
  end))
end
-- Screen rows and the cells next edits colour: {line, from, to, hl} (0-based, end exclusive),
-- for an unscrolled window with no virtual lines (the tests' one-line edits).
function E.nes_screen(rows)
  local lines, spans = {}, {}
  for r = 1, rows do
    local s = {}
    for c = 1, vim.o.columns do s[#s + 1] = vim.fn.screenstring(r, c) end
    lines[#lines + 1] = (table.concat(s):gsub('%s+$', ''))
  end
  for _, m in ipairs(E.nes(0)) do
    local line = vim.api.nvim_buf_get_lines(0, m.row, m.row + 1, true)[1]
    if m.hl ~= '' and m.end_row == m.row then
      local from = vim.fn.strdisplaywidth(line:sub(1, m.col))
      spans[#spans + 1] = { m.row, from, vim.fn.strdisplaywidth(line:sub(1, m.end_col)), m.hl }
    end
    local from = m.pos == 'eol' and vim.fn.strdisplaywidth(line) + 1
      or vim.fn.strdisplaywidth(line:sub(1, m.col))
    for _, chunk in ipairs(m.chunks) do
      local to = from + vim.fn.strdisplaywidth(chunk[1])
      if chunk[2] then spans[#spans + 1] = { m.row, from, to, chunk[2] } end
      from = to
    end
  end
  return { lines = lines, spans = spans }
end
function E.stop_sampling()
  if E.timer then E.timer:stop() end
  return E.samples
end
-- Screen rows, and where the ghost text is on them: {line, from, to} (0-based, end exclusive),
-- assuming an unscrolled window at the top (the tests' small files).
function E.screen(rows)
  local lines, ghost = {}, {}
  for r = 1, rows do
    local s = {}
    for c = 1, vim.o.columns do s[#s + 1] = vim.fn.screenstring(r, c) end
    lines[#lines + 1] = (table.concat(s):gsub('%s+$', ''))
  end
  for _, m in ipairs(E.ghost(0)) do
    local parts = vim.split(m.text, '\n', true)
    -- where the character before the mark ends (virtcol of the mark would count inline text)
    local col = m.col == 0 and 0 or vim.fn.virtcol({ m.row + 1, m.col })
    ghost[#ghost + 1] = { m.row, col, col + vim.fn.strdisplaywidth(parts[1]) }
    for i = 2, #parts do
      ghost[#ghost + 1] = { m.row + i - 1, 0, vim.fn.strdisplaywidth(parts[i]) }
    end
  end
  return { lines = lines, ghost = ghost }
end
"""


@dataclass
class Sample:
    t: float
    marks: list[dict[str, Any]]
    pum: bool = False  # the insert-mode popup menu was open

    @property
    def text(self) -> str | None:
        """The ghost text, or None when no extmark is shown."""
        return self.marks[0]["text"] if self.marks else None


@dataclass
class Screen:
    """The top rows of Neovim's screen, with the cells that show ghost text."""

    t: float
    lines: list[str]
    ghost: list[tuple[int, int, int]]

    def text(self) -> str:
        return "\n".join(self.lines)


def save_frames(frames: list[tuple[str, Screen]], directory: Path, title: str) -> None:
    """Write frames as text and as an SVG terminal capture (ghost text grey and italic)."""
    from rich.console import Console
    from rich.text import Text

    directory.mkdir(parents=True, exist_ok=True)
    plain = "\n\n".join(f"-- {caption}\n{screen.text()}" for caption, screen in frames)
    (directory / "ghost-frames.txt").write_text(plain + "\n")
    console = Console(record=True, width=64, file=open(os.devnull, "w"), color_system="truecolor")
    for i, (caption, screen) in enumerate(frames):
        console.print(Text(("\n" if i else "") + caption, style="bold cyan"))
        for row, line in enumerate(screen.lines):
            text = Text(line.ljust(60))
            for g_row, start, end in screen.ghost:
                if g_row == row:
                    text.stylize("grey50 italic", start, end)
            if line.startswith("~"):
                text.stylize("blue")
            console.print(text)
    console.save_svg(str(directory / "ghost.svg"), title=title)


@dataclass
class NesScreen:
    """The top rows of Neovim's screen, with the cells next edits colour: (row, from, to, group)."""

    lines: list[str]
    spans: list[tuple[int, int, int, str]]

    def text(self) -> str:
        return "\n".join(self.lines)


_NES_STYLES = {
    "InkstreamNesDelete": "white on #7f2f2f strike",
    "InkstreamNesAdd": "black on #8fcf8f",
    "InkstreamNesHint": "grey50 italic",
}


def save_nes_frames(frames: list[tuple[str, NesScreen]], directory: Path, title: str) -> None:
    """Write next-edit frames as text and as an SVG terminal capture."""
    from rich.console import Console
    from rich.text import Text

    directory.mkdir(parents=True, exist_ok=True)
    plain = "\n\n".join(f"-- {caption}\n{screen.text()}" for caption, screen in frames)
    (directory / "next-edit-frames.txt").write_text(plain + "\n")
    console = Console(record=True, width=64, file=open(os.devnull, "w"), color_system="truecolor")
    for i, (caption, screen) in enumerate(frames):
        console.print(Text(("\n" if i else "") + caption, style="bold cyan"))
        for row, line in enumerate(screen.lines):
            text = Text(line.ljust(60))
            for s_row, start, end, group in screen.spans:
                if s_row == row:
                    text.stylize(_NES_STYLES.get(group, ""), start, end)
            if line.startswith("~"):
                text.stylize("blue")
            console.print(text)
    console.save_svg(str(directory / "next-edit.svg"), title=title)


class Editor:
    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        extra = {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_STATE_HOME": str(home / ".local/state"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "INKSTREAM_CACHE_DIR": str(home / "inkstream-cache"),
            "INKSTREAM_LOG": "DEBUG",
            **(env or {}),
        }
        argv = ["env", *(a for k in _SCRUBBED for a in ("-u", k))]
        argv += [f"{k}={v}" for k, v in extra.items()]
        argv += [NVIM or "nvim", "--embed", "--headless", "--clean"]
        argv += ["--cmd", f"set rtp^={PLUGIN}", "--cmd", "set columns=80 lines=20"]
        self.nvim = pynvim.attach("child", argv=argv)
        self.lua(_LUA)

    def close(self) -> None:
        try:
            self.nvim.command("qa!")
        except Exception:  # Neovim may exit before it answers
            pass
        self.nvim.close()

    # -- plumbing ------------------------------------------------------------------------------

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def setup(self, settings: dict[str, Any], **options: Any) -> None:
        self.lua(
            "require('inkstream').setup(...)",
            {"cmd": SERVER, "settings": settings, **options},
        )

    def open(self, path: Path, text: str) -> None:
        """Write the file and open it: filetype detection attaches the server."""
        path.write_text(text)
        self.nvim.command(f"edit {path}")
        self.wait(lambda: self.lua("return require('inkstream.client').get(0) ~= nil"), 15)

    def wait(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met")
            time.sleep(0.01)

    # -- what the user sees ---------------------------------------------------------------------

    def marks(self) -> list[dict[str, Any]]:
        return list(self.lua("return _G.inkstream_test.ghost(0)"))

    def ghost(self) -> str | None:
        marks = self.marks()
        return marks[0]["text"] if marks else None

    def lines(self) -> list[str]:
        return list(self.nvim.current.buffer[:])

    def cursor(self) -> tuple[int, int]:
        row, col = self.nvim.current.window.cursor
        return row, col

    def mode(self) -> str:
        return str(self.nvim.api.get_mode()["mode"])

    def notes(self) -> list[dict[str, Any]]:
        return list(self.lua("return _G.inkstream_test.notes"))

    def screen(self, rows: int) -> Screen:
        self.nvim.command("redraw")
        raw = self.lua("return _G.inkstream_test.screen(...)", rows)
        return Screen(time.monotonic(), list(raw["lines"]), [tuple(g) for g in raw["ghost"]])

    def nes(self) -> list[dict[str, Any]]:
        """The next edits' extmarks in the current buffer (namespace ``inkstream_nes``)."""
        return list(self.lua("return _G.inkstream_test.nes(0)"))

    def sample_nes(self, every_ms: int = 3) -> None:
        self.lua("_G.inkstream_test.sample_nes(...)", every_ms)

    def nes_samples(self) -> list[tuple[float, list[dict[str, Any]]]]:
        raw = self.lua("return _G.inkstream_test.stop_sampling()")
        return [(s["t"], list(s["marks"])) for s in raw]

    def nes_screen(self, rows: int) -> NesScreen:
        self.nvim.command("redraw")
        raw = self.lua("return _G.inkstream_test.nes_screen(...)", rows)
        return NesScreen(list(raw["lines"]), [tuple(s) for s in raw["spans"]])

    def sample(self, every_ms: int = 3) -> None:
        self.lua("_G.inkstream_test.sample(...)", every_ms)

    def samples(self) -> list[Sample]:
        raw = self.lua("return _G.inkstream_test.stop_sampling()")
        return [Sample(s["t"], list(s["marks"]), bool(s.get("pum"))) for s in raw]

    def sample_lines(self, buf: int, every_ms: int = 3) -> None:
        self.lua("_G.inkstream_test.sample_lines(...)", every_ms, buf)

    def line_samples(self) -> list[tuple[float, str]]:
        raw = self.lua("return _G.inkstream_test.stop_sampling()")
        return [(s["t"], s["text"]) for s in raw]
