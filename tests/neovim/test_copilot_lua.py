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


def _env(upstream: ScriptedUpstream, tmp_path: Path) -> dict[str, str]:
    env = server_env(
        INKSTREAM_BASE_URL=upstream.base_url,
        INKSTREAM_API_KEY="sk-test",
        INKSTREAM_MODEL="test-model",
        INKSTREAM_API_STYLE="chat",
        INKSTREAM_DATA_DIR=str(tmp_path / "usage"),
    )
    return {k: v for k, v in env.items() if k.startswith("INKSTREAM_")}


@pytest.fixture
def editor(upstream: ScriptedUpstream, tmp_path: Path) -> Iterator[CopilotLua]:
    text = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
    nvim = CopilotLua(tmp_path, _env(upstream, tmp_path), text)
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


def test_panel_shows_solutions_as_they_come_then_accepts_one(
    editor: CopilotLua, upstream: ScriptedUpstream
) -> None:
    slow = {"chunk_size": 2, "delay": 0.2}
    upstream.script(
        Reply.text("return a + b"),
        Reply.text("return b + a", **slow),
        Reply.text("return sum((a, b))", **slow),
    )
    editor.nvim.command("normal! 2G$")
    editor.nvim.exec_lua("require('copilot.panel').open({})")

    def first_solution() -> list[bool] | None:
        if any(
            "return" in line for line in editor.nvim.exec_lua("return copilot_test.panel_lines()")
        ):
            return [r.ended.is_set() for r in upstream.requests]
        return None

    ended_when_shown = editor.wait_for(first_solution, what="the first solution in the panel")
    assert len(ended_when_shown) == 3 and not all(ended_when_shown)  # others still writing

    def all_shown() -> bool:
        lines = editor.nvim.exec_lua("return copilot_test.panel_lines()")
        return all(
            f"    {text}" in lines or text in lines
            for text in ("return a + b", "return b + a", "return sum((a, b))")
        )

    editor.wait_for(all_shown, what="the three solutions in the panel")
    lines = editor.nvim.exec_lua("return copilot_test.panel_lines()")
    shown = next(line for line in lines if "sum((a, b))" in line)
    assert editor.nvim.exec_lua("return copilot_test.panel_accept(...)", shown)
    editor.wait_for(
        lambda: editor.line(2) == "    return sum((a, b))", what="the accepted solution"
    )

    def accepted() -> bool:
        usage = editor.request("inkstream/usage", {"days": 1})
        return bool(usage) and usage["totals"]["accepted"] == 1

    editor.wait_for(accepted, what="notifyAccepted to reach the usage records")


def test_settings_from_server_opts_overrides(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    """inkstream's settings through copilot.lua's ``server_opts_overrides.settings`` (Neovim
    pushes a client's settings after start-up), as docs/copilot-clients.md says."""
    upstream.default = Reply.text("return a + b")
    settings = {"inkstream": {"model": "m9"}}
    nvim = CopilotLua(tmp_path, _env(upstream, tmp_path), "x = 1\n", settings=settings)
    try:
        status = nvim.wait_for(
            lambda: "m9" in nvim.request("checkStatus", {})["user"], what="the pushed settings"
        )
        assert status
    finally:
        nvim.close()
