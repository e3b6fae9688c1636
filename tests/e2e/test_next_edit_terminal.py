"""``inkstream next-edit``, run as a user runs it on a file with uncommitted changes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import server_env
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

CODE = """\
def report(items, url):
    total = 0
    for item in items:
        total += fetch(url)
    print(fetch(item.url))
    return total
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inkstream", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=server_env(),
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "report.py").write_text(CODE)
    git(tmp_path, "add", "report.py")
    git(tmp_path, "commit", "-qm", "report")
    return tmp_path


def test_the_uncommitted_rename_brings_the_rest_as_a_diff(repo: Path) -> None:
    (repo / "report.py").write_text(CODE.replace("    total = 0", "    subtotal = 0"))
    done = run("next-edit", "report.py", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "--- a/report.py\n+++ b/report.py\n"
        "@@ -4,1 +4,1 @@\n-        total += fetch(url)\n+        subtotal += fetch(url)\n"
        "@@ -6,1 +6,1 @@\n-    return total\n+    return subtotal\n"
    )
    # the diff applies to the file as it is
    (repo / "edits.diff").write_text(done.stdout)
    git(repo, "apply", "--unidiff-zero", "edits.diff")
    assert (repo / "report.py").read_text() == CODE.replace("total", "subtotal")


def test_before_file_and_the_cursor_choose_the_last_edit(repo: Path) -> None:
    old = repo / "old.py"
    old.write_text(CODE)
    path = repo / "work.py"  # not in git: --before gives the history
    path.write_text(
        CODE.replace("    total = 0", "    subtotal = 0").replace(
            "total += fetch(url)", "total += fetch(url, timeout=t)"
        )
    )
    # at line 4 the call edit is the last one: its argument goes to the other call
    done = run("next-edit", f"{path}:4:1", "--before", str(old), "--json", cwd=repo)
    assert done.returncode == 0, done.stderr
    edits = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e["range"]["start"]["line"], e["text"]) for e in edits] == [(4, ", timeout=t")]
    assert edits[0]["textDocument"]["uri"] == path.resolve().as_uri()
    assert edits[0]["command"]["command"] == "inkstream.didAccept"
    # at line 2 the rename is: the rest of it comes
    done = run("next-edit", f"{path}:2:5", "--before", str(old), cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "+        subtotal += fetch(url, timeout=t)\n" in done.stdout
    assert "+    return subtotal\n" in done.stdout


def test_nothing_to_go_on(repo: Path) -> None:
    done = run("next-edit", "report.py", cwd=repo)
    assert done.returncode == 0 and done.stdout == ""
    assert "no changes" in done.stderr
    stray = repo / "stray.py"
    stray.write_text("x = 1\n")
    done = run("next-edit", str(stray), cwd=repo)
    assert done.returncode == 2
    assert "--before OLDFILE" in done.stderr and "Traceback" not in done.stderr
    done = run("next-edit", "report.py:99:1", cwd=repo)
    assert done.returncode == 2 and "line 99 does not exist" in done.stderr


def test_ctrl_c_stops_the_model(repo: Path, upstream: ScriptedUpstream) -> None:
    pytest.importorskip("inkstream.nextedit.model")  # the model path (nextedit/model.py)
    (repo / "report.py").write_text(CODE.replace("    total = 0", "    total = 0\n    count = 0"))
    # a next-edit model (its name shows Sweep's format) that writes one line, then holds on
    upstream.script(
        Reply(chunks=["def report(items, url):\n", "    total = 0\n"], fault="hang", fault_after=1)
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "inkstream", "next-edit", "report.py", "--base-url",
         upstream.base_url, "--model", "sweep-next-edit-1.5b", "--api-style", "fim"],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=server_env(),
    )  # fmt: skip
    try:
        upstream.wait_for_requests(1, timeout=60)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "stopped" in err
    assert upstream.wait_for_hangup(0).hung_up_at is not None
