"""The Emacs package (editors/emacs/inkstream.el) in real batch Emacs, end to end.

Each test runs one ERT test of ``inkstream-test.el`` in its own ``emacs --batch -Q``; Emacs starts
the real server over stdio, which streams from the scripted upstream on 127.0.0.1. The ERT test
checks what the user sees (ghost overlays sampled by a timer, the buffer, *inkstream-explain*,
*Messages*); this side checks what only the upstream sees (hang-ups, one stream kept).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from emacs_harness import EMACS, PACKAGE, EmacsRun, emacs_env, ert_args, render_svg, run_emacs

from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.emacs

if EMACS is None:
    pytest.skip(
        "emacs is not installed (apt-get install emacs-nox; .ci/run installs it)",
        allow_module_level=True,
    )

BODY = "otal = a + b\n    return total"
SLOW = Reply.text("otal = 0\n" + "    total += 1\n" * 300, chunk_size=4, delay=0.05)
EXPLANATION = (
    "`add` returns the sum of its two arguments. It works for any values that support `+`, "
    "such as numbers, strings and lists, and the last line prints 3."
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "emacs"


@pytest.fixture
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as server:
        yield server


def hangup(upstream: ScriptedUpstream) -> dict[str, object]:
    def answer(arg: str) -> str:
        try:
            req = upstream.wait_for_hangup(int(arg), timeout=10)
        except TimeoutError as exc:
            return f"no hang-up: {exc}"
        return "hung-up" if not req.completed else "completed"

    return {"hangup": answer}


def ert(name: str, upstream: ScriptedUpstream, tmp_path: Path, **handlers: object) -> EmacsRun:
    env = emacs_env(tmp_path, upstream.base_url)
    run = run_emacs(ert_args(name), env, tmp_path, handlers)  # type: ignore[arg-type]
    if "Ran 1 test" not in run.output or run.returncode != 0:
        pytest.fail(f"ERT {name} failed (rc={run.returncode}):\n{run.output[-6000:]}")
    return run


def test_ghost_text_grows_while_the_upstream_streams(
    upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(Reply.text(BODY, chunk_size=2, delay=0.06, first_delay=0.1))
    ert("inkstream-test-ghost-grows", upstream, tmp_path)
    [req] = upstream.requests
    assert req.completed and req.hung_up_at is None
    # the defcustoms reached the server; the key came from Emacs's environment only
    assert req.path == "/v1/completions" and req.body["model"] == "test-model"
    assert req.headers["authorization"] == "Bearer sk-emacs-test-key"
    assert req.body["prompt"].endswith("def add(a, b):\n    t")
    captures = {}
    for name in ("ghost-midway", "ghost-final"):
        captures[name] = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        assert BODY.startswith(captures[name]["ghost"])
    assert (
        len(captures["ghost-midway"]["ghost"]) < len(BODY) == len(captures["ghost-final"]["ghost"])
    )
    # the README's picture (docs/img/emacs-ghost.svg) is this file
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    svg = render_svg(
        [
            ("while the model writes", captures["ghost-midway"]),
            ("when it is done: TAB inserts it", captures["ghost-final"]),
        ]
    )
    (ARTIFACTS / "emacs-ghost.svg").write_text(svg, encoding="utf-8")


def test_accept_inserts_the_final_ghost_text_as_one_undo_step(
    upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(Reply.text(BODY, chunk_size=3, delay=0.02))
    ert("inkstream-test-accept", upstream, tmp_path)


def test_accept_word_and_line(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    upstream.script(Reply.text(BODY, chunk_size=3, delay=0.02))
    ert(
        "inkstream-test-accept-word-and-line",
        upstream,
        tmp_path,
        requests=lambda _arg: str(len(upstream.requests)),
    )
    assert len(upstream.requests) == 1


@pytest.mark.parametrize(
    "ert_test",
    [
        "inkstream-test-dismiss",
        "inkstream-test-move-point",
        "inkstream-test-mismatch",
        "inkstream-test-switch-buffer",
    ],
)
def test_dismiss_move_mismatch_and_switching_buffers_make_the_upstream_hang_up(
    ert_test: str, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(SLOW)
    run = ert(ert_test, upstream, tmp_path, **hangup(upstream))
    assert run.answers == [("hangup", "0", "hung-up")]
    first = upstream.requests[0]
    assert first.hung_up_at is not None and not first.completed


def test_typing_what_the_suggestion_starts_with_keeps_the_stream(
    upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(Reply.text(BODY, chunk_size=2, delay=0.06))

    def stream(_arg: str) -> str:
        req = upstream.wait_for_end(0, timeout=10)
        state = "completed" if req.completed and req.hung_up_at is None else "hung up"
        return f"{len(upstream.requests)} {state}"

    ert("inkstream-test-type-through", upstream, tmp_path, stream=stream)
    [req] = upstream.requests
    assert req.completed and req.hung_up_at is None


def test_explain_streams_into_its_buffer(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    upstream.script(Reply.text(EXPLANATION, chunk_size=6, delay=0.04))
    ert("inkstream-test-explain-streams", upstream, tmp_path)
    [req] = upstream.requests
    assert req.completed
    assert "def add(a, b):" in req.prompt_text


def test_explain_stop_and_killing_its_buffer_stop_the_model(
    upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    slow = Reply.text("This function adds. " * 300, chunk_size=5, delay=0.05)
    upstream.script(slow, slow)
    run = ert("inkstream-test-explain-stop", upstream, tmp_path, **hangup(upstream))
    assert run.answers == [("hangup", "0", "hung-up"), ("hangup", "1", "hung-up")]


def test_upstream_error_shows_one_message_and_signals_nothing(
    upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    error = Reply(status=500, error_message="model overloaded")
    upstream.script(error, error)
    ert(
        "inkstream-test-upstream-error",
        upstream,
        tmp_path,
        requests=lambda _arg: str(len(upstream.wait_for_requests(2, timeout=10))),
    )


def test_an_empty_completion_shows_why_in_the_lighter(
    upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.default = Reply.text("")  # the model writes nothing, whatever is asked
    ert("inkstream-test-empty-completion", upstream, tmp_path)


@pytest.mark.parametrize("encodings", ["utf-32,utf-16", "utf-16"])
def test_non_ascii_positions(encodings: str, upstream: ScriptedUpstream, tmp_path: Path) -> None:
    upstream.default = Reply.text(' "ü"', chunk_size=2)

    def prompt(_arg: str) -> str:
        req = upstream.requests[-1]
        return f"{req.body['prompt']}|{req.body['suffix']}"

    env = emacs_env(tmp_path, upstream.base_url, INKSTREAM_TEST_ENCODINGS=encodings)
    run = run_emacs(ert_args("inkstream-test-positions"), env, tmp_path, {"prompt": prompt})
    assert run.returncode == 0, run.output[-6000:]
    assert upstream.requests[-1].body["prompt"].endswith('greeting = "😋 café" +')


def test_global_mode_follows_enabled_modes(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    ert("inkstream-test-global-mode", upstream, tmp_path)


def test_settings_become_initialization_options(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    ert("inkstream-test-settings", upstream, tmp_path)


def test_restart_reopens_buffers(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    upstream.script(Reply.text(BODY, chunk_size=3))
    ert("inkstream-test-restart", upstream, tmp_path)


def test_package_byte_compiles_without_warnings_and_checkdoc_is_clean(tmp_path: Path) -> None:
    compile_el = f"""
      (progn
        (setq byte-compile-error-on-warn t)
        (setq byte-compile-dest-file-function (lambda (_f) "{tmp_path}/inkstream.elc"))
        (kill-emacs (if (byte-compile-file "{PACKAGE}") 0 1)))"""
    run = run_emacs(["--eval", compile_el], emacs_env(tmp_path, ""), tmp_path)
    assert run.returncode == 0, run.output
    assert "Warning" not in run.output and "Error" not in run.output, run.output
    checkdoc_el = f"""
      (progn
        (require 'checkdoc)
        (let ((problems nil))
          (setq checkdoc-create-error-function
                (lambda (text start _end &optional _unfix)
                  (push (format "%d: %s" (line-number-at-pos start) text) problems)
                  nil))
          (with-current-buffer (find-file-noselect "{PACKAGE}")
            (checkdoc-current-buffer t))
          (dolist (p (reverse problems)) (message "checkdoc: %s" p))
          (kill-emacs (if problems 1 0))))"""
    run = run_emacs(["--eval", checkdoc_el], emacs_env(tmp_path, ""), tmp_path)
    assert run.returncode == 0, run.output
