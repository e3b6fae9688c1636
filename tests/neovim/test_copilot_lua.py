"""copilot.lua in real Neovim shows inkstream's completion as ghost text and accepts it.

Skipped unless ``INKSTREAM_COPILOT_LUA`` names a copilot.lua checkout (see ``copilot_lua.py``):
CI cannot fetch plugins. Run with, for example::

    git clone https://github.com/zbirenbaum/copilot.lua /tmp/copilot.lua
    INKSTREAM_COPILOT_LUA=/tmp/copilot.lua INKSTREAM_NVIM=.venv/bin/nvim \\
        pytest tests/neovim/test_copilot_lua.py
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from copilot_lua import CopilotLua, usable  # noqa: E402

from conftest import server_env  # noqa: E402
from upstream import Reply, ScriptedUpstream  # noqa: E402

pytestmark = pytest.mark.skipif(usable() is not None, reason=str(usable()))


@pytest.fixture
def editor(upstream: ScriptedUpstream, tmp_path: Path) -> Iterator[CopilotLua]:
    env = server_env(
        INKSTREAM_BASE_URL=upstream.base_url,
        INKSTREAM_API_KEY="sk-test",
        INKSTREAM_MODEL="test-model",
        INKSTREAM_API_STYLE="chat",
        INKSTREAM_DATA_DIR=str(tmp_path / "usage"),
    )
    exported = {k: v for k, v in env.items() if k.startswith("INKSTREAM_")}
    nvim = CopilotLua(tmp_path, exported, "def add(a, b):\n    \n\nprint(add(1, 2))\n")
    try:
        yield nvim
    finally:
        nvim.close()


def test_ghost_text_then_accept(editor: CopilotLua, upstream: ScriptedUpstream) -> None:
    upstream.default = Reply.text("return a + b", chunk_size=3)
    status = editor.request("checkStatus", {})
    assert status["user"] == "inkstream (test-model @ 127.0.0.1)"
    editor.nvim.input("2GA")
    editor.nvim.input("ret")
    ghost = editor.wait_for(editor.ghost, what="copilot.lua's ghost text")
    assert ghost == "urn a + b"  # drawn after what was typed
    editor.nvim.input("<M-l>")  # copilot.lua's default accept key
    editor.wait_for(lambda: editor.line(2) == "    return a + b", what="the accepted text")
    assert editor.ghost() == ""

    def accepted() -> bool:
        usage = editor.request("inkstream/usage", {"days": 1})
        return bool(usage) and usage["totals"]["accepted"] == 1

    editor.wait_for(accepted, what="notifyAccepted to reach the usage records")
    assert not [n for n in editor.nvim.exec_lua("return copilot_test.notes") if n["level"] >= 3]
