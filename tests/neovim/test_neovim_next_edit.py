"""Next-edit suggestions in real Neovim (``editors/neovim/lua/inkstream/nes.lua``) against the real
server: a rename at one place shows the other places as next edits, Tab jumps then applies, edits
stream in hunk by hunk while the model writes, dismissing hangs up the upstream, and typing
elsewhere hides them. Frames of the rendering go to ``artifacts/neovim/next-edit.svg``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nvim_editor import NVIM, PLUGIN, ROOT, Editor, save_nes_frames
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

if NVIM is None:
    pytest.skip("nvim is not installed (apt-get install neovim)", allow_module_level=True)

ARTIFACTS = Path(os.environ.get("INKSTREAM_ARTIFACTS", ROOT / "artifacts")) / "neovim"
# the model path: next-edit formats and the server asking a model (issue 17, section 3)
MODEL_PATH = importlib.util.find_spec("inkstream.nextedit.model") is not None
NEEDS_MODEL = pytest.mark.skipif(
    not MODEL_PATH,
    reason="needs the server's next-edit model path (inkstream.nextedit.model: a next-edit "
    "model asked through the scripted upstream); the offline predictor alone cannot stream slowly",
)

DOC = "def area(width, height):\n    size = width * height\n    print(size)\n    return size\n"
RENAMED = DOC.replace("size", "total")


def start(tmp_path: Path, settings: dict[str, Any], **env: str) -> Editor:
    path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
    editor = Editor(tmp_path / "home", env={"PATH": path, **env})
    editor.setup(settings)
    return editor


def require_next_edit(editor: Editor) -> None:
    caps = editor.lua(
        "local c = require('inkstream.client').get(0)"
        " return c and c.server_capabilities.experimental or vim.empty_dict()"
    )
    if not (caps.get("inkstream") or {}).get("nextEdit"):
        pytest.skip("the server does not answer inkstream/nextEdit yet (issue 17)")


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[Editor]:
    editor = start(tmp_path, {"provider": "offline"})
    yield editor
    warnings = [n for n in editor.notes() if n["level"] >= 3]
    errmsg = editor.nvim.eval("v:errmsg")
    editor.close()
    assert warnings == [] and errmsg == ""


def nes_done(editor: Editor) -> bool:
    return bool(editor.lua("return require('inkstream.nes').running() == false"))


def nes_requests(editor: Editor) -> int:
    return int(editor.lua("return require('inkstream.nes').requests"))


def deletions(editor: Editor) -> list[tuple[int, int, int]]:
    """Where text is marked for deletion: (row, col, end col), 0-based."""
    return sorted(
        (m["row"], m["col"], m["end_col"]) for m in editor.nes() if m["hl"] == "InkstreamNesDelete"
    )


def hint(editor: Editor) -> list[tuple[int, str]]:
    return [(m["row"], m["text"]) for m in editor.nes() if m["text_hl"] == "InkstreamNesHint"]


def additions(editor: Editor) -> list[tuple[int, str, str]]:
    return sorted(
        (m["row"], m["text"], m["pos"]) for m in editor.nes() if m["text_hl"] == "InkstreamNesAdd"
    )


def rename_in_line_two(editor: Editor, tmp_path: Path) -> None:
    editor.open(tmp_path / "area.py", DOC)
    require_next_edit(editor)
    editor.nvim.input("2Gwciwtotal<Esc>")
    editor.wait(lambda: editor.lines()[1] == "    total = width * height")


# -- (1) offline: a rename at one place, Tab jumps, Tab applies --------------------------------


def test_rename_shows_the_other_places_and_tab_jumps_then_applies(
    offline: Editor, tmp_path: Path
) -> None:
    editor = offline
    rename_in_line_two(editor, tmp_path)
    print_size, return_size = (2, 10, 14), (3, 11, 15)
    editor.wait(lambda: deletions(editor) == [print_size, return_size])
    inline = editor.nvim.funcs.has("nvim-0.10")
    if inline:  # 0.10+: the new name right after the old one
        assert additions(editor) == [(2, "total", "inline"), (3, "total", "inline")]
    else:  # 0.7-0.9: the changed line as it will read, at its end
        assert additions(editor) == [(2, "  print(total)", "eol"), (3, "  return total", "eol")]
    assert hint(editor) == [(1, "  Tab: next edit at line 3")]
    frames = [("rename size -> total on line 2: the rest shows", editor.nes_screen(6))]
    assert editor.lines() == DOC.replace("size =", "total =").splitlines()

    editor.nvim.input("<Tab>")  # jump
    editor.wait(lambda: editor.cursor() == (3, 10))
    assert editor.lines()[2] == "    print(size)" and hint(editor) == []
    frames.append(("Tab: the cursor jumps to it", editor.nes_screen(6)))
    editor.nvim.input("<Tab>")  # apply
    editor.wait(lambda: editor.lines()[2] == "    print(total)")
    assert editor.cursor() == (3, 14)
    assert deletions(editor) == [return_size]  # the other one stays where it was
    assert hint(editor) == [(2, "  Tab: next edit at line 4")]
    frames.append(("Tab again: applied; the next one waits", editor.nes_screen(6)))
    editor.nvim.input("<Tab>")
    editor.wait(lambda: editor.cursor() == (4, 11))
    editor.nvim.input("<Tab>")
    editor.wait(lambda: editor.lines() == RENAMED.splitlines())
    assert editor.mode() == "n"
    editor.wait(lambda: nes_done(editor))
    assert editor.nes() == []

    version = editor.lua(
        "local v = vim.version() return ('%d.%d.%d'):format(v.major, v.minor, v.patch)"
    )
    save_nes_frames(frames, ARTIFACTS, f"inkstream: next edits in Neovim {version} (tests/neovim)")

    editor.nvim.input("u")  # each applied edit is one undo step
    editor.wait(lambda: editor.lines()[3] == "    return size")
    assert editor.lines()[2] == "    print(total)"


def test_columns_after_non_ascii_text(offline: Editor, tmp_path: Path) -> None:
    """Positions come in UTF-16 (or whatever was negotiated); the buffer counts bytes."""
    editor = offline
    doc = 'def area(width, height):\n    size = width * height\n    print("😋 é", size)\n'
    editor.open(tmp_path / "area.py", doc)
    require_next_edit(editor)
    editor.nvim.input("2Gwciwtotal<Esc>")
    start = len('    print("😋 é", '.encode())
    editor.wait(lambda: deletions(editor) == [(2, start, start + 4)])
    editor.nvim.input("<Tab><Tab>")
    editor.wait(lambda: editor.lines()[2] == '    print("😋 é", total)')


def test_tab_does_what_it_did_without_a_next_edit(offline: Editor, tmp_path: Path) -> None:
    editor = offline
    editor.open(tmp_path / "area.py", DOC)
    editor.nvim.input("3G1G<C-o>")
    editor.wait(lambda: editor.cursor()[0] == 3)
    editor.nvim.input("<Tab>")  # Normal mode <Tab> is CTRL-I: forward in the jump list
    editor.wait(lambda: editor.cursor()[0] == 1)
    editor.nvim.input("<Esc>")
    assert editor.lines() == DOC.splitlines() and editor.nes() == []


def test_next_edit_false_turns_it_off(tmp_path: Path) -> None:
    editor = start(tmp_path, {"provider": "offline"})
    try:
        editor.setup({"provider": "offline"}, next_edit=False)
        rename_in_line_two(editor, tmp_path)
        assert editor.lua("return #vim.api.nvim_get_autocmds({ group = 'inkstream_nes' })") == 0
        assert nes_requests(editor) == 0 and editor.nes() == []
        assert editor.nvim.funcs.maparg("<Tab>", "n") == ""
    finally:
        editor.close()


@pytest.mark.parametrize("ghost", ["", "_sum"])
def test_insert_mode_tab_is_the_ghost_texts_first(
    upstream: ScriptedUpstream, tmp_path: Path, ghost: str
) -> None:
    """In Insert mode Tab accepts ghost text while it shows; with none, it is the next edit's."""
    upstream.default = Reply.text(ghost)
    editor = start(tmp_path, model_settings(upstream.base_url, None), INKSTREAM_API_KEY="sk-t")
    try:
        editor.open(tmp_path / "area.py", DOC)
        require_next_edit(editor)
        editor.nvim.input("2Gwciwtotal")
        if ghost:
            editor.wait(lambda: editor.ghost() == ghost, 20)
        editor.nvim.input("<Cmd>lua require('inkstream').nes_trigger()<CR>")
        editor.wait(lambda: len(deletions(editor)) == 2)
        editor.nvim.input("<Tab>")
        if ghost:  # the completion's; the change hides the next edits
            editor.wait(lambda: editor.lines()[1] == "    total_sum = width * height")
            editor.wait(lambda: editor.nes() == [])
        else:  # jump, then apply, staying in Insert mode
            editor.wait(lambda: editor.cursor() == (3, 10))
            editor.nvim.input("<Tab>")
            editor.wait(lambda: editor.lines()[2] == "    print(total)")
            assert editor.cursor() == (3, 15) and editor.mode() == "i"
    finally:
        editor.close()


# -- (4) typing elsewhere hides the suggestion -------------------------------------------------


@pytest.mark.parametrize("keys", ["1GA  # note", "ggx"])
def test_typing_elsewhere_hides_the_next_edits(offline: Editor, tmp_path: Path, keys: str) -> None:
    editor = offline
    rename_in_line_two(editor, tmp_path)
    editor.wait(lambda: len(deletions(editor)) == 2)
    asked = nes_requests(editor)
    editor.nvim.input(keys)
    editor.wait(lambda: editor.nes() == [])
    editor.nvim.input("<Esc>")
    # asked again after the change; it was typing, not a substitution to repeat: nothing comes
    editor.wait(lambda: nes_requests(editor) > asked and nes_done(editor))
    assert editor.nes() == []
    assert editor.lines()[2:] == ["    print(size)", "    return size"]


def test_esc_dismisses_in_normal_mode(offline: Editor, tmp_path: Path) -> None:
    editor = offline
    rename_in_line_two(editor, tmp_path)
    editor.wait(lambda: len(deletions(editor)) == 2)
    editor.nvim.input("<Esc>")
    editor.wait(lambda: editor.nes() == [])
    assert editor.lines() == DOC.replace("size =", "total =").splitlines()
    assert not editor.lua("return require('inkstream.nes').visible()")


def test_help_and_highlight_groups(offline: Editor, tmp_path: Path) -> None:
    nvim = offline.nvim
    for group, base in (("InkstreamNesDelete", "DiffDelete"), ("InkstreamNesAdd", "DiffAdd")):
        assert nvim.eval(f"synIDattr(synIDtrans(hlID('{group}')), 'name')") == base
    docs = tmp_path / "rt"
    shutil.copytree(PLUGIN / "doc", docs / "doc")
    nvim.command(f"set rtp+={docs} | helptags {docs / 'doc'}")
    for tag in ("inkstream-next-edit", "inkstream.nes_accept()", "InkstreamNesDelete"):
        nvim.command(f"help {tag}")
        assert nvim.current.buffer.name.endswith("inkstream.txt")
        nvim.command("close")


# -- (2), (3) a next-edit model streaming hunks ------------------------------------------------

LONG = (
    "def area(width, height):\n"
    "    size = width * height\n"
    "    print(size)\n"
    "    a = 1\n"
    "    b = 2\n"
    "    c = 3\n"
    "    d = 4\n"
    "    return size\n"
)


def model_settings(base_url: str, next_edit_model: str | None = "zeta") -> dict[str, Any]:
    """Completions from the scripted upstream; next edits from `next_edit_model` (None: offline)."""
    settings: dict[str, Any] = {
        "baseUrl": base_url,
        "model": "test-model",
        "apiStyle": "chat",
        "firstTokenTimeout": 30.0,  # the first model request imports the HTTP client
        "idleTimeout": 10.0,
    }
    if next_edit_model:
        settings["nextEdit"] = {"model": next_edit_model, "format": "zeta"}
    return settings


def zeta_answer(region: str) -> list[str]:
    """Zeta's answer, one line per chunk: the rewritten region between its markers (the region
    ends with the document's last, empty line, as the prompt shows it)."""
    lines = [f"{line}\n" for line in region.split("\n")]
    return ["<|editable_region_start|>\n", *lines, "<|editable_region_end|>"]


# The user's edit adds a factor on line 2 (nothing the offline predictor repeats); the model
# carries it to lines 3 and 8: two hunks, five lines apart.
EDITED = LONG.replace("width * height", "width * height * depth")
PREDICTED = EDITED.replace("print(size)", "print(size * depth)").replace(
    "return size", "return size * depth"
)


def added_rows(marks: list[dict[str, Any]]) -> list[int]:
    """Rows where a next edit's new text is drawn."""
    return sorted(m["row"] for m in marks if m["text_hl"] == "InkstreamNesAdd")


def add_a_factor(editor: Editor, tmp_path: Path) -> None:
    editor.open(tmp_path / "area.py", LONG)
    require_next_edit(editor)
    editor.nvim.input(":2s/height$/height * depth/<CR>")  # Normal mode: no completion asked
    editor.wait(lambda: editor.lines() == EDITED.splitlines())


@NEEDS_MODEL
def test_model_hunks_are_drawn_as_they_stream(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    chunks = zeta_answer(PREDICTED)
    second = next(i for i, c in enumerate(chunks) if "return size * depth" in c)
    upstream.script(Reply(chunks=chunks, first_delay=0.1, delay=0.4))
    editor = start(tmp_path, model_settings(upstream.base_url), INKSTREAM_API_KEY="sk-test")
    try:
        editor.sample_nes(3)
        add_a_factor(editor, tmp_path)
        req = upstream.wait_for_end(0, timeout=60)  # the server may close it at the region's end
        editor.wait(lambda: nes_done(editor) and added_rows(editor.nes()) == [2, 7], 60)
        samples = editor.nes_samples()
        first_drawn = next(t for t, marks in samples if 2 in added_rows(marks))
        # drawn before the upstream had even sent the line of the second hunk
        assert first_drawn < req.chunk_times[second], "the first hunk waited for the second"
        after = [marks for t, marks in samples if t >= first_drawn]
        assert any(added_rows(marks) == [2] for marks in after), "no moment with one hunk"
        assert all(2 in added_rows(marks) for marks in after), "the first hunk blinked"
        ids = {m["id"] for m in after[0] if m["row"] == 2}
        assert all(ids <= {m["id"] for m in marks} for marks in after), "redrawn, not kept"
        editor.nvim.input("<Tab>")  # jump, apply, jump, apply
        editor.wait(lambda: editor.cursor()[0] == 3)
        editor.nvim.input("<Tab><Tab><Tab>")
        editor.wait(lambda: editor.lines() == PREDICTED.splitlines())
    finally:
        editor.close()


@NEEDS_MODEL
def test_dismiss_hangs_up_the_upstream(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    chunks = zeta_answer(PREDICTED)
    # the first hunk and the two lines that make it final, then the model goes on slowly
    upstream.script(Reply(chunks=chunks[:7] + [" "] * 400, first_delay=0.1, delay=0.05))
    editor = start(tmp_path, model_settings(upstream.base_url), INKSTREAM_API_KEY="sk-test")
    try:
        add_a_factor(editor, tmp_path)
        editor.wait(lambda: added_rows(editor.nes()) == [2], 60)
        editor.nvim.input("<Esc>")
        req = upstream.wait_for_hangup(0, timeout=15)
        assert not req.completed
        editor.wait(lambda: editor.nes() == [])
    finally:
        editor.close()


@NEEDS_MODEL
def test_lines_removed_and_added(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    """A line the model removes is highlighted whole; lines it adds are virtual lines where they
    will go (every Neovim version draws these)."""
    rewritten = EDITED.replace("    a = 1\n", "").replace("    d = 4\n", "    d = 4\n    e = 5\n")
    upstream.script(Reply(chunks=zeta_answer(rewritten)))
    editor = start(tmp_path, model_settings(upstream.base_url), INKSTREAM_API_KEY="sk-test")
    try:
        add_a_factor(editor, tmp_path)
        editor.wait(lambda: nes_done(editor) and len(editor.nes()) >= 3, 60)
        marks = editor.nes()
        removed = [(m["row"], m["col"], m["end_row"], m["end_col"]) for m in marks if m["hl"]]
        assert removed == [(3, 0, 4, 0)]  # "    a = 1" and its line break
        assert [(m["row"], m["lines"]) for m in marks if m["lines"]] == [(7, ["    e = 5"])]
        editor.nvim.input("<Tab><Tab><Tab><Tab>")
        editor.wait(lambda: editor.lines() == rewritten.splitlines())
    finally:
        editor.close()
