"""Next edits in the Emacs package, in real batch Emacs against the real server.

Each test runs one ERT test of ``inkstream-nes-test.el`` in its own ``emacs --batch -Q``: a rename
at one place shows the other places (offline), TAB jumps then applies, typing elsewhere and C-g
hide them, and with a next-edit model the hunks are drawn as the upstream streams them and C-g
hangs it up. The rendering goes to ``artifacts/emacs/emacs-next-edit.svg`` for the README.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from emacs_harness import EMACS, EmacsRun, emacs_env, render_nes_svg, run_emacs

from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.emacs

if EMACS is None:
    pytest.skip(
        "emacs is not installed (apt-get install emacs-nox; .ci/run installs it)",
        allow_module_level=True,
    )

TESTS = Path(__file__).resolve().parent
ERT_FILE = TESTS / "inkstream-nes-test.el"
ARTIFACTS = TESTS.parents[1] / "artifacts" / "emacs"
MODEL_PATH = importlib.util.find_spec("inkstream.nextedit.model") is not None
NEEDS_MODEL = pytest.mark.skipif(
    not MODEL_PATH,
    reason="needs the server's next-edit model path (inkstream.nextedit.model: a next-edit "
    "model asked through the scripted upstream); the offline predictor alone cannot stream slowly",
)
LONG = (
    "def area(width, height):\n    size = width * height\n    print(size)\n"
    "    a = 1\n    b = 2\n    c = 3\n    d = 4\n    return size\n"
)


@pytest.fixture
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as server:
        yield server


def ert(name: str, upstream: ScriptedUpstream, tmp_path: Path, **handlers: object) -> EmacsRun:
    env = emacs_env(tmp_path, upstream.base_url)
    args = ["-L", str(TESTS), "-l", str(ERT_FILE)]
    args += ["--eval", f'(ert-run-tests-batch-and-exit "^{name}$")']
    run = run_emacs(args, env, tmp_path, handlers)  # type: ignore[arg-type]
    skipped = re.search(r"^SKIP: (.*)$", run.output, re.MULTILINE)
    if skipped and run.returncode == 0:
        pytest.skip(skipped.group(1))
    if "Ran 1 test" not in run.output or run.returncode != 0:
        pytest.fail(f"ERT {name} failed (rc={run.returncode}):\n{run.output[-6000:]}")
    return run


def test_rename_shows_the_rest_and_tab_jumps_then_applies(
    upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    ert("inkstream-nes-test-tab-jumps-then-applies", upstream, tmp_path)
    assert upstream.requests == []  # offline: no model was asked
    frames = [
        json.loads((tmp_path / f"nes-{i}.json").read_text(encoding="utf-8")) for i in (1, 2, 3)
    ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    svg = render_nes_svg(frames)
    (ARTIFACTS / "emacs-next-edit.svg").write_text(svg, encoding="utf-8")


def test_tab_is_the_ghost_texts_first(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    upstream.default = Reply.text("_sum")
    ert("inkstream-nes-test-ghost-text-first", upstream, tmp_path)
    assert upstream.requests  # the ghost text came from the upstream, the next edits offline


@pytest.mark.parametrize("encodings", ["utf-32,utf-16", "utf-16"])
def test_non_ascii_positions(encodings: str, upstream: ScriptedUpstream, tmp_path: Path) -> None:
    env = emacs_env(tmp_path, upstream.base_url, INKSTREAM_TEST_ENCODINGS=encodings)
    args = ["-L", str(TESTS), "-l", str(ERT_FILE)]
    args += ["--eval", '(ert-run-tests-batch-and-exit "^inkstream-nes-test-non-ascii$")']
    run = run_emacs(args, env, tmp_path)
    assert "Ran 1 test" in run.output and run.returncode == 0, run.output[-6000:]


def test_typing_elsewhere_hides_the_next_edits(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    ert("inkstream-nes-test-typing-elsewhere-hides", upstream, tmp_path)


def test_c_g_dismisses(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    ert("inkstream-nes-test-dismiss", upstream, tmp_path)


def test_next_edit_off(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    ert("inkstream-nes-test-off", upstream, tmp_path)


def zeta_answer(region: str) -> list[str]:
    """Zeta's answer, one line per chunk: the rewritten region between its markers (the region
    ends with the document's last, empty line, as the prompt shows it)."""
    lines = [f"{line}\n" for line in region.split("\n")]
    return ["<|editable_region_start|>\n", *lines, "<|editable_region_end|>"]


# The user adds a factor on line 2; the model carries it to lines 3 and 8 (two hunks).
PREDICTED = (
    LONG.replace("width * height", "width * height * depth")
    .replace("print(size)", "print(size * depth)")
    .replace("return size", "return size * depth")
)


@NEEDS_MODEL
def test_model_hunks_are_drawn_as_they_stream(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    chunks = zeta_answer(PREDICTED)
    second = next(i for i, c in enumerate(chunks) if "return size * depth" in c)
    upstream.script(Reply(chunks=chunks, first_delay=0.1, delay=0.4))

    def second_hunk_sent(_: str) -> str:
        return "yes" if upstream.requests[-1].chunks_sent > second else "no"

    ert(
        "inkstream-nes-test-model-streams",
        upstream,
        tmp_path,
        **{"second-hunk-sent": second_hunk_sent},
    )
    [req] = upstream.requests
    assert req.body["model"] == "zeta"


@NEEDS_MODEL
def test_model_lines_removed_and_added(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    edited = LONG.replace("width * height", "width * height * depth")
    rewritten = edited.replace("    a = 1\n", "").replace("    d = 4\n", "    d = 4\n    e = 5\n")
    upstream.script(Reply(chunks=zeta_answer(rewritten)))
    ert("inkstream-nes-test-model-lines", upstream, tmp_path)


@NEEDS_MODEL
def test_model_dismiss_hangs_up(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    chunks = zeta_answer(PREDICTED)
    # the first hunk and the two lines that make it final, then the model goes on slowly
    upstream.script(Reply(chunks=chunks[:7] + [" "] * 400, first_delay=0.1, delay=0.05))

    def hangup(arg: str) -> str:
        try:
            req = upstream.wait_for_hangup(int(arg), timeout=10)
        except TimeoutError as exc:
            return f"no hang-up: {exc}"
        return "hung-up" if not req.completed else "completed"

    ert("inkstream-nes-test-model-dismiss", upstream, tmp_path, hangup=hangup)
