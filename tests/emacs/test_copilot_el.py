"""copilot.el, unmodified, in real Emacs (28.2), with inkstream as its server.

Skipped unless checkouts are named (CI cannot fetch plugins; nothing of theirs is copied here):

- ``INKSTREAM_COPILOT_EL``: github.com/copilot-emacs/copilot.el (0.9)
- ``INKSTREAM_EMACS_COMPAT``: github.com/emacs-compat/compat (30 or later)
- ``INKSTREAM_EMACS_TRACK_CHANGES``: github.com/emacs-straight/track-changes (1.4 or later)

and editorconfig 0.8.2 is found (Debian's ``elpa-editorconfig``, or
``INKSTREAM_EMACS_EDITORCONFIG``).
Emacs starts the server through ``copilot-server-executable`` (a script running
``python -m inkstream`` with the environment pointing at the scripted upstream), with the
``--debug`` that copilot.el's README suggests in ``copilot-server-args``.
"""

from __future__ import annotations

import glob
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import server_env  # noqa: E402
from upstream import Reply, ScriptedUpstream  # noqa: E402

EMACS = shutil.which(os.environ.get("INKSTREAM_EMACS", "emacs"))
COPILOT_EL = os.environ.get("INKSTREAM_COPILOT_EL")
COMPAT = os.environ.get("INKSTREAM_EMACS_COMPAT")
TRACK_CHANGES = os.environ.get("INKSTREAM_EMACS_TRACK_CHANGES")
EDITORCONFIG = os.environ.get("INKSTREAM_EMACS_EDITORCONFIG") or next(
    iter(sorted(glob.glob("/usr/share/emacs/site-lisp/elpa/editorconfig-*"))), None
)
HOW_TO_RUN = (
    "set INKSTREAM_COPILOT_EL, INKSTREAM_EMACS_COMPAT and INKSTREAM_EMACS_TRACK_CHANGES to "
    "checkouts of copilot-emacs/copilot.el, emacs-compat/compat and "
    "emacs-straight/track-changes, and install editorconfig 0.8.2 (apt-get install "
    "elpa-editorconfig, or INKSTREAM_EMACS_EDITORCONFIG=dir)"
)
_READY = EMACS and all((COPILOT_EL, COMPAT, TRACK_CHANGES, EDITORCONFIG))

pytestmark = pytest.mark.skipif(not _READY, reason=HOW_TO_RUN)

DRIVER = r"""
(require 'copilot)
(setq copilot-server-executable (getenv "TEST_SERVER"))
(setq copilot-server-args '("--stdio" "--debug"))
(setq copilot-idle-delay nil)   ; completions on request only: the test asks
(defun test-wait (pred what)
  (let ((deadline (+ (float-time) 30)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.02))
    (unless (funcall pred) (princ (format "TIMEOUT:%s\n" what)) (kill-emacs 3))))
(find-file (getenv "TEST_FILE"))
(python-mode)
(copilot-mode 1)
(goto-char (point-min))
(forward-line 1)
(end-of-line)
(execute-kbd-macro (kbd "r e"))   ; typed: copilot.el's track-changes sends didChange
(accept-process-output nil 0.2)
(copilot-complete)
(test-wait #'copilot--overlay-visible "ghost text")
(princ (format "GHOST:%S\n" (overlay-get copilot--overlay 'completion)))
(copilot-accept-completion)
(princ (format "LINE:%S\n" (buffer-substring-no-properties
                            (line-beginning-position) (line-end-position))))
(test-wait (lambda ()
             (let ((usage (jsonrpc-request copilot--connection 'inkstream/usage '(:days 1))))
               (equal 1 (plist-get (plist-get usage :totals) :accepted))))
           "the accept command to reach the usage records")
(princ "ACCEPTED\n")
(princ (format "STATUS:%S\n" (jsonrpc-request copilot--connection 'checkStatus nil)))
(copilot--shutdown-server)
"""


def _server_script(directory: Path, upstream: ScriptedUpstream) -> Path:
    env = server_env(
        INKSTREAM_BASE_URL=upstream.base_url,
        INKSTREAM_API_KEY="sk-test",
        INKSTREAM_MODEL="test-model",
        INKSTREAM_API_STYLE="chat",
        INKSTREAM_DATA_DIR=str(directory / "usage"),
    )
    exports = "".join(f"export {k}='{v}'\n" for k, v in env.items() if k.startswith("INKSTREAM_"))
    script = directory / "inkstream-server"
    log = directory / "server.log"
    script.write_text(
        f"#!/bin/sh\n{exports}exec '{sys.executable}' -m inkstream \"$@\" 2>>'{log}'\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _emacs(directory: Path, upstream: ScriptedUpstream, *load: str) -> str:
    assert EMACS and COPILOT_EL and COMPAT and TRACK_CHANGES and EDITORCONFIG
    path = directory / "demo.py"
    path.write_text("def add(a, b):\n    \n\nprint(add(1, 2))\n")
    env = {
        **os.environ,
        "HOME": str(directory),
        "TEST_SERVER": str(_server_script(directory, upstream)),
        "TEST_FILE": str(path),
    }
    dirs = [COPILOT_EL, COMPAT, TRACK_CHANGES, EDITORCONFIG]
    args = [EMACS, "--batch", "-Q", *[a for d in dirs for a in ("-L", d)], *load]
    done = subprocess.run(
        args, env=env, cwd=COPILOT_EL, capture_output=True, text=True, timeout=120, check=False
    )
    log = directory / "server.log"
    server_log = log.read_text()[-3000:] if log.exists() else ""
    return f"{done.stdout}\n{done.stderr}\nrc={done.returncode}\n{server_log}"


def test_ghost_text_then_accept(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    upstream.default = Reply.text("return a + b", chunk_size=3)
    driver = tmp_path / "driver.el"
    driver.write_text(DRIVER)
    output = _emacs(tmp_path, upstream, "-l", str(driver))
    assert 'GHOST:"turn a + b"' in output, output
    assert 'LINE:"    return a + b"' in output, output
    assert "ACCEPTED" in output, output
    assert '"inkstream (test-model @ 127.0.0.1)"' in output, output


def test_integration_smoke_of_copilot_el(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    """copilot.el's own ``dev/integration-smoke.el``, as its header says to run it."""
    upstream.default = Reply.text("if n < 2:\n        return n", chunk_size=3)
    setup = tmp_path / "setup.el"
    setup.write_text(
        '(require \'copilot)\n(setq copilot-server-executable (getenv "TEST_SERVER"))\n'
    )
    output = _emacs(tmp_path, upstream, "-l", str(setup), "-l", "dev/integration-smoke.el")
    assert "status: OK, user: inkstream (test-model @ 127.0.0.1)" in output, output
    assert "=== PASS - Got 1 completion item(s) ===" in output, output
    assert ':command "github.copilot.didAcceptCompletionItem"' in output, output
