"""The Neovim plugin (``editors/neovim``) in real Neovim, against the real server and the scripted
upstream: growing ghost text with no blink, accept / word / line, every way of dismissing
(the upstream sees the hang-up), type-through on the same stream, Explain streaming into a split
that Stop halts, one notification per upstream error, loading, help tags and ``:checkhealth``.

Needs ``nvim`` (0.7 or later; ``.ci/run`` installs Debian's; ``INKSTREAM_NVIM`` names another) and
``pynvim``. Frames of the growing ghost text are written to ``artifacts/neovim/`` (text and SVG).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nvim_editor import NVIM, PLUGIN, ROOT, SERVER, Editor, Sample, Screen, save_frames
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

if NVIM is None:
    pytest.skip("nvim is not installed (apt-get install neovim)", allow_module_level=True)

ARTIFACTS = Path(os.environ.get("INKSTREAM_ARTIFACTS", ROOT / "artifacts")) / "neovim"
KEY = "sk-test-secret-key-123"
DOC = "def report(rows):\n    \n"
BODY = " row in rows:\n        print(row)\n    return len(rows)"


def settings(base_url: str) -> dict[str, object]:
    return {
        "baseUrl": base_url,
        "model": "test-model",
        "apiStyle": "chat",
        "firstTokenTimeout": 5.0,
        "idleTimeout": 5.0,
    }


def start_editor(tmp_path: Path, base_url: str, **options: object) -> Editor:
    path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
    editor = Editor(tmp_path / "home", env={"INKSTREAM_API_KEY": KEY, "PATH": path})
    editor.setup(settings(base_url), **options)
    return editor


@pytest.fixture
def editor(tmp_path: Path, upstream: ScriptedUpstream) -> Iterator[Editor]:
    ed = start_editor(tmp_path, upstream.base_url)
    yield ed
    warnings = [n for n in ed.notes() if n["level"] >= 3]  # WARN, ERROR (deprecations too)
    errmsg = ed.nvim.eval("v:errmsg")  # errors Neovim shows without vim.notify
    ed.close()
    assert warnings == [] and errmsg == ""


def type_in_body(editor: Editor, tmp_path: Path, keys: str = "for", doc: str = DOC) -> None:
    """Open a Python file, go to the end of its second line in insert mode, and type."""
    editor.open(tmp_path / "report.py", doc)
    editor.nvim.input("2GA")
    editor.nvim.input(keys)


def stream_done(editor: Editor) -> bool:
    return bool(editor.lua("return next(require('inkstream.client').streams) == nil"))


def shown_texts(samples: list[Sample]) -> list[str]:
    """Distinct ghost texts in order of appearance."""
    texts: list[str] = []
    for s in samples:
        if s.text is not None and (not texts or texts[-1] != s.text):
            texts.append(s.text)
    return texts


# -- growing ghost text and accepting it ------------------------------------------------------


def test_ghost_text_grows_in_place_and_tab_inserts_it(
    editor: Editor, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(Reply.text(BODY, chunk_size=3, first_delay=0.2, delay=0.06))
    editor.sample(3)
    type_in_body(editor, tmp_path)
    req = upstream.wait_for_requests(1, timeout=10)[0]
    frames: list[Screen] = []
    while not req.ended.is_set():
        if editor.ghost():
            frames.append(editor.screen(5))
        time.sleep(0.1)
    editor.wait(lambda: stream_done(editor) and editor.ghost() == BODY)
    samples = editor.samples()
    frames.append(editor.screen(5))
    version = editor.lua(
        "local v = vim.version() return ('%d.%d.%d'):format(v.major, v.minor, v.patch)"
    )
    picked = [frames[0], frames[len(frames) // 2], frames[-1]]
    save_frames(
        [(f"{s.t - picked[0].t:+.2f} s", s) for s in picked],
        ARTIFACTS,
        f"inkstream: ghost text growing in Neovim {version} (tests/neovim)",
    )

    first = next(i for i, s in enumerate(samples) if s.text is not None)
    assert all(s.text is not None for s in samples[first:]), "the ghost text blinked"
    assert all(len(s.marks) == 1 for s in samples[first:])
    assert len({s.marks[0]["id"] for s in samples[first:]}) == 1, "one extmark, updated in place"
    texts = shown_texts(samples)
    assert all(b.startswith(a) for a, b in zip(texts, texts[1:], strict=False)), texts
    while_streaming = {s.text for s in samples if s.text and s.t < req.chunk_times[-1]}
    assert len(while_streaming) >= 3, texts
    assert texts[-1] == BODY
    inline = editor.nvim.funcs.has("nvim-0.10")
    assert {s.marks[0]["pos"] for s in samples[first:]} == {"inline" if inline else "overlay"}
    assert editor.notes() == []
    assert any(BODY.splitlines()[0] in line for frame in frames for line in frame.lines)
    first_line, *others = BODY.splitlines()
    shown = frames[-1]  # on screen: the first line after "    for", the others below
    assert shown.ghost == [(1, 7, 7 + len(first_line))] + [
        (2 + i, 0, len(line)) for i, line in enumerate(others)
    ]
    assert shown.lines[1:4] == ["    for" + first_line, *others]

    editor.nvim.input("<Tab>")
    expected = ["def report(rows):", "    for" + BODY.splitlines()[0], *BODY.splitlines()[1:]]
    editor.wait(lambda: editor.lines() == expected)
    last = BODY.splitlines()[-1]
    assert editor.cursor() == (1 + len(BODY.splitlines()), len(last))
    assert editor.ghost() is None
    editor.nvim.input("<Esc>u")
    editor.wait(lambda: editor.lines() == ["def report(rows):", "    for"])


def test_ghost_text_in_the_middle_of_a_line(
    editor: Editor, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(Reply.text("ws)", chunk_size=1, delay=0.05))
    editor.open(tmp_path / "report.py", "def report(rows):\n    total = sum()\n")
    editor.nvim.input("2G$i")
    editor.nvim.input("ro")
    editor.wait(lambda: stream_done(editor) and editor.ghost() == "ws", 20)
    # inline virtual text where Neovim has it (0.10+), else after the end of the line
    pos = "inline" if editor.nvim.funcs.has("nvim-0.10") else "eol"
    assert [m["pos"] for m in editor.marks()] == [pos]
    editor.nvim.input("<Tab>")
    editor.wait(lambda: editor.lines()[1] == "    total = sum(rows)")
    assert editor.cursor() == (2, len("    total = sum(rows"))


def test_keys_do_what_they_did_without_ghost_text(
    editor: Editor, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    editor.nvim.command("inoremap <M-Right> <C-r>='mine'<CR>")
    editor.setup(settings(upstream.base_url), auto_trigger=False)
    editor.open(tmp_path / "a.py", "x = 1\n")
    editor.nvim.input("A<M-Right>")
    editor.wait(lambda: editor.lines() == ["x = 1mine"])
    editor.nvim.input("<Tab>")
    editor.wait(lambda: editor.lines() == ["x = 1mine" + " " * 3])  # Python's softtabstop=4
    assert upstream.requests == [] and editor.ghost() is None


def test_accept_word_and_line(editor: Editor, upstream: ScriptedUpstream, tmp_path: Path) -> None:
    upstream.script(Reply.text("tal = width * height\n    return total", chunk_size=5))
    type_in_body(editor, tmp_path, "to", doc="def area(width, height):\n    \n")
    editor.wait(
        lambda: stream_done(editor) and editor.ghost() == "tal = width * height\n    return total"
    )

    editor.nvim.input("<M-Right>")
    editor.wait(lambda: editor.lines()[1] == "    total")
    assert editor.ghost() == " = width * height\n    return total"
    editor.nvim.input("<M-Right>")
    editor.wait(lambda: editor.lines()[1] == "    total =")
    editor.nvim.input("<M-Down>")
    editor.wait(lambda: editor.lines()[1:3] == ["    total = width * height", ""])
    assert editor.cursor() == (3, 0)
    assert editor.ghost() == "    return total"
    editor.nvim.input("<M-Down>")
    editor.wait(lambda: editor.lines()[2] == "    return total")
    assert editor.ghost() is None
    assert len(upstream.requests) == 1


# -- dismissing stops the model; type-through keeps it ----------------------------------------

SLOW = Reply.text("print('" + "abc " * 200 + "')", chunk_size=2, delay=0.05)


@pytest.mark.parametrize("key", ["<C-]>", "<Esc>", "z", "<Left>"])
def test_dismiss_hangs_up_upstream(
    editor: Editor, upstream: ScriptedUpstream, tmp_path: Path, key: str
) -> None:
    upstream.script(SLOW, Reply(fault="hang"))  # a new request after "z" shows nothing
    type_in_body(editor, tmp_path)
    editor.wait(lambda: editor.ghost(), 20)
    status = "return require('inkstream').status()"
    assert editor.wait(lambda: re.fullmatch(r"inkstream: \d+ tok, \d+ tok/s", editor.lua(status)))
    before = editor.lines()
    editor.nvim.input(key)
    req = upstream.wait_for_hangup(0, timeout=5)
    assert not req.completed
    editor.wait(lambda: editor.ghost() is None)
    if key == "<Esc>":
        assert editor.mode() == "n"
    elif key in ("<C-]>", "<Left>"):
        assert editor.lines() == before and editor.mode() == "i"
    else:
        assert editor.lines()[1] == "    forz"
        upstream.wait_for_requests(2, timeout=5)
        time.sleep(0.2)
        assert editor.ghost() is None


def test_typing_the_suggestion_keeps_the_stream(
    editor: Editor, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    text = " x in range(10):\n        total += x"
    upstream.script(Reply.text(text, chunk_size=2, first_delay=0.1, delay=0.08))
    type_in_body(editor, tmp_path)
    editor.wait(lambda: (editor.ghost() or "").startswith(" x"), 20)
    editor.nvim.input(" x")
    editor.wait(lambda: editor.lines()[1] == "    for x")
    editor.wait(lambda: stream_done(editor) and editor.ghost() == text[2:], 20)
    req = upstream.wait_for_end(0)
    assert req.completed and req.hung_up_at is None
    assert len(upstream.requests) == 1
    editor.nvim.input("<Tab>")
    editor.wait(lambda: editor.lines()[1:3] == ["    for x in range(10):", "        total += x"])


# -- explain -----------------------------------------------------------------------------------


def explained(prompt: str) -> str:
    """The code the upstream was asked to explain (the first fenced block of the prompt)."""
    return prompt.split("```python\n", 1)[1].split("\n```", 1)[0]


TWO = "def first(a):\n    return a + 1\n\n\ndef second(b):\n    c = b * 2\n    return c\n"


@pytest.mark.parametrize("stop", [":InkstreamStop<CR>", "q"])
def test_explain_streams_into_split_and_stop_hangs_up(
    editor: Editor, upstream: ScriptedUpstream, tmp_path: Path, stop: str
) -> None:
    words = "This function doubles its argument and returns the result. " * 40
    upstream.script(Reply.text(words, chunk_size=6, delay=0.04))
    editor.open(tmp_path / "two.py", TWO)
    editor.nvim.command("normal! 6G")
    editor.nvim.command("InkstreamExplain")
    split = editor.nvim.current.buffer
    assert split.options["filetype"] == "markdown" and split.options["buftype"] == "nofile"
    editor.sample_lines(split.number, 3)
    req = upstream.wait_for_requests(1)[0]
    editor.wait(lambda: len(upstream.requests[0].chunk_times) >= 15, 20)
    editor.nvim.input(stop)
    req = upstream.wait_for_hangup(0)
    assert not req.completed
    assert explained(req.prompt_text) == "def second(b):\n    c = b * 2\n    return c"
    samples = editor.line_samples()
    assert len({text for _, text in samples}) >= 4, "the explanation grew in several steps"
    if stop == "q":
        assert editor.nvim.current.buffer.name.endswith("two.py")
    else:
        last = editor.wait(lambda: split[-1] if "Stopped" in split[-1] else None)
        assert last.startswith("_Stopped at")
        assert "This function doubles" in "\n".join(split[:])


def test_explain_range_runs_to_the_end(
    editor: Editor, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(Reply.text("Adds one.\n\nReturns `a + 1`.", chunk_size=4))
    editor.open(tmp_path / "two.py", TWO)
    editor.nvim.command("1,2InkstreamExplain")
    split = editor.nvim.current.buffer
    editor.wait(lambda: "Done" in split[-1])
    assert "Adds one.\n\nReturns `a + 1`." in "\n".join(split[:])
    req = upstream.wait_for_end(0)
    assert explained(req.prompt_text) == "def first(a):\n    return a + 1"


# -- errors --------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_status_says_why_a_completion_is_empty(
    editor: Editor, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.default = Reply.text("")  # the model writes nothing, whatever is asked
    type_in_body(editor, tmp_path, "f")
    status = "return require('inkstream').status()"
    reason = "inkstream: no completion: the model wrote nothing"
    assert editor.wait(lambda: editor.lua(status) == reason, 20)


@pytest.mark.parametrize("fault", ["401", "refused"])
def test_upstream_error_notifies_once(
    tmp_path: Path, upstream: ScriptedUpstream, fault: str
) -> None:
    if fault == "401":
        upstream.script(*[Reply(status=401, error_message="Incorrect API key")] * 5)
        base_url = upstream.base_url
    else:
        base_url = f"http://127.0.0.1:{_closed_port()}/v1"
    editor = start_editor(tmp_path, base_url)
    try:
        type_in_body(editor, tmp_path, "f")
        for keys in ("o", "r"):
            editor.wait(lambda: "error" in editor.lua("return require('inkstream').status()"), 20)
            editor.wait(lambda: stream_done(editor))
            editor.nvim.input(keys)
            time.sleep(0.3)
        editor.wait(lambda: stream_done(editor), 20)
        if fault == "401":
            assert len(upstream.requests) == 3
        notes = [n for n in editor.notes() if n["level"] >= 3]
        assert len(notes) == 1, notes
        assert KEY not in notes[0]["msg"]
        assert editor.mode() == "i" and editor.lines()[1] == "    for"
        assert editor.ghost() is None
        assert editor.lua("return require('inkstream.client').get(0) ~= nil")
    finally:
        editor.close()


# -- loading, help, health -----------------------------------------------------------------------


def test_plugin_loads_help_and_health(
    editor: Editor, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    nvim = editor.nvim
    assert nvim.eval("exists(':InkstreamExplain') && exists(':InkstreamStop')")
    assert nvim.eval("exists(':InkstreamStatus')")
    assert nvim.eval("synIDattr(synIDtrans(hlID('InkstreamGhost')), 'name')") == "Comment"
    assert nvim.eval("v:errmsg") == ""

    docs = tmp_path / "rt"
    shutil.copytree(PLUGIN / "doc", docs / "doc")
    nvim.command(f"set rtp+={docs} | helptags {docs / 'doc'}")
    for tag in (
        "inkstream",
        "inkstream-setup",
        "inkstream-popup",
        ":InkstreamExplain",
        "InkstreamGhost",
    ):
        nvim.command(f"help {tag}")
        assert nvim.current.buffer.name.endswith("inkstream.txt")
        nvim.command("close")

    editor.open(tmp_path / "a.py", "x = 1\n")
    nvim.command("InkstreamStatus")
    status = editor.notes()[-1]["msg"]
    assert "model:    test-model" in status and upstream.base_url in status

    nvim.command("checkhealth inkstream")
    report = "\n".join(nvim.current.buffer[:])
    assert "ERROR" not in report, report
    assert "OK Neovim 0." in report.replace(":", "")
    assert "server starts and answers initialize: inkstream" in report
    assert f"provider openai, endpoint {upstream.base_url}, model test-model" in report


def test_setup_without_settings_uses_the_environment(tmp_path: Path) -> None:
    """No settings and no key in the environment: the server answers with its offline model."""
    editor = Editor(tmp_path / "home")
    try:
        editor.lua("require('inkstream').setup({ cmd = ... })", SERVER)
        editor.open(tmp_path / "a.py", "x = 1\n")
        editor.nvim.command("InkstreamStatus")
        status = editor.notes()[-1]["msg"]
        assert "provider: offline" in status and "endpoint: (none)" in status
    finally:
        editor.close()


# -- the insert-mode popup menu ------------------------------------------------------------------

WORDS = "def report(rows, format_row, formula):\n    \n"


def popup(editor: Editor) -> bool:
    return bool(editor.nvim.funcs.pumvisible())


@pytest.mark.parametrize(("close", "line"), [("<C-n><C-y>", "format_row"), ("<C-e>", "form")])
def test_popup_menu_hides_ghost_text_and_hangs_up(
    editor: Editor, upstream: ScriptedUpstream, tmp_path: Path, close: str, line: str
) -> None:
    after = "(rows[0])"
    upstream.script(SLOW, Reply.text(after, chunk_size=3))
    editor.nvim.command("set completeopt=menuone,noselect")  # as nvim-cmp's native menu
    editor.sample(3)
    type_in_body(editor, tmp_path, doc=WORDS)
    editor.wait(lambda: len(editor.ghost() or "") > 4, 20)  # growing
    editor.nvim.input("<C-n>")
    editor.wait(lambda: popup(editor))
    req = upstream.wait_for_hangup(0)
    assert not req.completed
    editor.wait(lambda: editor.ghost() is None)

    editor.nvim.input("m")  # typing under the menu narrows it; still no ghost text, no request
    editor.wait(lambda: editor.lines()[1] == "    form")
    time.sleep(0.3)
    assert popup(editor) and editor.ghost() is None
    assert len(upstream.requests) == 1

    editor.nvim.input(close)  # the menu closes: a fresh suggestion at the cursor
    editor.wait(lambda: not popup(editor))
    assert editor.lines()[1] == "    " + line
    editor.wait(lambda: stream_done(editor) and editor.ghost() == after, 20)
    assert [(m["row"], m["col"]) for m in editor.marks()] == [(1, len("    " + line))]
    assert len(upstream.requests) == 2 and upstream.wait_for_end(1).completed
    samples = editor.samples()
    assert any(s.pum for s in samples) and any(s.text for s in samples)
    assert not any(s.pum and s.marks for s in samples), "ghost text under the menu"
    editor.nvim.input("<Tab>")
    editor.wait(lambda: editor.lines()[1] == "    " + line + after)


def test_tab_belongs_to_the_popup_menu(
    editor: Editor, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    editor.nvim.command('inoremap <expr> <Tab> pumvisible() ? "\\<C-n>" : "\\<Tab>"')
    editor.setup(settings(upstream.base_url))
    upstream.script(SLOW, Reply.text("(rows)", chunk_size=3))
    editor.nvim.command("set completeopt=menuone,noselect")
    type_in_body(editor, tmp_path, doc=WORDS)
    editor.wait(lambda: editor.ghost(), 20)
    editor.nvim.input("<C-n>")
    editor.wait(lambda: popup(editor))
    upstream.wait_for_hangup(0)
    editor.nvim.input("<Tab>")  # the user's map: next item, never the ghost text
    editor.wait(lambda: editor.lines()[1] == "    format_row")
    editor.nvim.input("<Tab>")
    editor.wait(lambda: editor.lines()[1] == "    formula")
    assert popup(editor) and editor.ghost() is None
    editor.nvim.input("<C-y>")
    editor.wait(lambda: stream_done(editor) and editor.ghost() == "(rows)", 20)
    editor.nvim.input("<Tab>")  # no menu: Tab accepts
    editor.wait(lambda: editor.lines()[1] == "    formula(rows)")
    assert len(upstream.requests) == 2
