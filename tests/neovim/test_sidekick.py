"""sidekick.nvim, unmodified, in real Neovim (0.11+), takes inkstream's next edits.

sidekick uses any LSP client whose name contains "copilot"; the user enables one with
``vim.lsp.config`` (docs/copilot-clients.md). Skipped unless ``INKSTREAM_SIDEKICK`` names a
checkout of github.com/folke/sidekick.nvim; with Neovim 0.12.0-dev builds (whose LSP handlers get
no ``ctx.request_id``) it must be a commit from before 2026-03-20, e.g. 6b69c42. The edits come
from the offline next-edit predictor (no model), after the user renames a variable's first use.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pynvim
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from copilot_lua import NVIM, server_script  # noqa: E402

from conftest import server_env  # noqa: E402

SIDEKICK = os.environ.get("INKSTREAM_SIDEKICK")
HOW_TO_RUN = (
    "set INKSTREAM_SIDEKICK to a checkout of github.com/folke/sidekick.nvim (6b69c42 for "
    "Neovim 0.12.0-dev) and INKSTREAM_NVIM to Neovim 0.11 or later"
)

pytestmark = pytest.mark.skipif(
    not SIDEKICK or not NVIM or not (Path(SIDEKICK) / "lua" / "sidekick").is_dir(),
    reason=HOW_TO_RUN,
)

DOC = """\
def report(items):
    total = 0
    for item in items:
        total += item.price
    return total
"""

SETUP = r"""
local plugin, server = ...
vim.opt.rtp:prepend(plugin)
vim.o.swapfile = false
_G.notes = {}
vim.notify = function(msg, level) table.insert(_G.notes, { msg = msg, level = level or 2 }) end
vim.lsp.config('copilot', {
  cmd = { server, '--stdio' },
  filetypes = { 'python' },
  init_options = {
    editorInfo = { name = 'Neovim', version = '0.12' },
    editorPluginInfo = { name = 'sidekick-test', version = '0' },
  },
})
vim.lsp.enable('copilot')
require('sidekick').setup({ nes = { enabled = true } })
"""


def _wait(nvim: pynvim.Nvim, lua: str, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not nvim.exec_lua(lua):
        if time.monotonic() > deadline:
            notes = nvim.exec_lua("return _G.notes")
            raise TimeoutError(f"waited {timeout} s for {what}; notifications: {notes}")
        time.sleep(0.05)


def test_next_edits_are_shown_and_applied(tmp_path: Path) -> None:
    assert SIDEKICK and NVIM
    env = server_env(INKSTREAM_PROVIDER="offline", INKSTREAM_DATA_DIR=str(tmp_path / "usage"))
    exported = {k: v for k, v in env.items() if k.startswith("INKSTREAM_")}
    server = server_script(tmp_path, exported)
    nvim = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", "--clean"])
    try:
        nvim.exec_lua(SETUP, SIDEKICK, str(server))
        path = tmp_path / "demo.py"
        path.write_text(DOC)
        nvim.command(f"edit {path}")
        _wait(nvim, "return #vim.lsp.get_clients({ name = 'copilot' }) > 0", "the client")
        _wait(
            nvim,
            "return vim.lsp.get_clients({ name = 'copilot' })[1].initialized == true",
            "the client to start",
        )
        nvim.input("2G5|isub<Esc>")  # "total" becomes "subtotal" on line 2, key by key
        _wait(nvim, "return vim.fn.getline(2) == '    subtotal = 0'", "the typing")
        nvim.exec_lua("require('sidekick.nes').update()")
        _wait(nvim, "return require('sidekick.nes').have()", "sidekick's next edits", 60)
        nvim.exec_lua("require('sidekick.nes').apply()")
        _wait(nvim, "return vim.fn.getline(5) == '    return subtotal'", "the applied edits")
        assert nvim.exec_lua("return vim.fn.getline(4)") == "        subtotal += item.price"
        notes = nvim.exec_lua("return _G.notes")
        assert not [n for n in notes if "does not support command" in n["msg"]], notes
        assert not [n for n in notes if n["level"] >= 3], notes
    finally:
        try:
            nvim.command("qa!")
        except Exception:  # Neovim exits before it answers
            pass
        nvim.close()
