"""Emacs package benchmark: how fast ghost text shows, grows and stops (not part of the test run).

Real batch Emacs runs editors/emacs/inkstream.el against the real server it starts itself and the
scripted upstream (tests/upstream.py) on 127.0.0.1. Per run:

  - first ghost text: from `inkstream-complete` to the first drawn overlay, minus the upstream's
    own time to first token (so what remains is the editor + server + HTTP overhead);
  - growth: distinct ghost texts drawn per second while streaming, next to the upstream's chunks
    per second (a ratio of 1 means every chunk became a visible step);
  - dismiss -> upstream hang-up: from `inkstream-dismiss` until the upstream sees the connection
    close (Emacs's and Python's wall clocks, same machine).

    python bench/emacs.py [--runs 10] [--first-token-ms 300] [--chunk-ms 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "emacs"))
from emacs_harness import EMACS, emacs_env, run_emacs  # noqa: E402

from upstream import Reply, ScriptedUpstream  # noqa: E402

BODY = "total = 0\n    for item in items:\n        total += item.price\n    return total"
SLOW = Reply.text("x = 1\n    " * 400, chunk_size=4, delay=0.05)

BENCH_EL = r"""
(require 'cl-lib)
(require 'json)
(require 'python)
(require 'inkstream)
(setq inkstream-server-command
      (list (getenv "INKSTREAM_TEST_PYTHON") "-m" "inkstream" "serve")
      inkstream-base-url (getenv "INKSTREAM_TEST_BASE_URL") inkstream-model "test-model"
      inkstream-api-style "fim" inkstream-fim-template "server"
      python-indent-guess-indent-offset nil)
(defvar bench-draws nil)
(advice-add 'inkstream--show :after
            (lambda (&rest _)
              (let ((ov (and inkstream--ghost (inkstream--ghost-overlay inkstream--ghost))))
                (when ov
                  (let ((text (overlay-get ov 'inkstream-text)))
                    (unless (equal text (cdar bench-draws))
                      (push (cons (float-time) text) bench-draws)))))))
(defun bench-wait (pred &optional seconds)
  (let ((deadline (+ (float-time) (or seconds 20))))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.005))
    (funcall pred)))
(let* ((dir (getenv "INKSTREAM_TEST_DIR"))
       (runs (string-to-number (getenv "BENCH_RUNS"))))
  (switch-to-buffer (find-file-noselect (expand-file-name "bench.py" dir)))
  (python-mode)
  (inkstream-mode 1)
  (bench-wait (lambda () inkstream--opened))
  (dotimes (i runs)
    (erase-buffer)
    (insert (format "# run %d\ndef total_price(items):\n    " i))
    (save-excursion (insert "\n\nprint(total_price([]))\n"))
    (setq bench-draws nil)
    (let ((t0 (float-time)))
      (inkstream-complete)
      (bench-wait (lambda () (and inkstream--ghost (inkstream--ghost-done inkstream--ghost))))
      (let ((draws (reverse bench-draws)))
        (inkstream-dismiss)
        (setq bench-draws nil)
        (save-excursion (goto-char (point-min)) (insert "# not cached\n"))
        (inkstream-complete)
        (bench-wait (lambda () bench-draws))
        (let ((td (float-time)))
          (inkstream-dismiss)
          (bench-wait (lambda () nil) 0.3)
          (princ (format "BENCH %s\n"
                         (json-encode
                          (list (cons 'trigger t0)
                                (cons 'first (car (car draws)))
                                (cons 'last (car (car (last draws))))
                                (cons 'steps (length draws))
                                (cons 'final (cdr (car (last draws))))
                                (cons 'dismiss td))))))))))
(kill-emacs 0)
"""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--first-token-ms", type=float, default=300.0)
    parser.add_argument("--chunk-ms", type=float, default=40.0)
    parser.add_argument("--chunk-size", type=int, default=3)
    args = parser.parse_args()
    if EMACS is None:
        sys.exit("emacs is not installed (apt-get install emacs-nox)")
    grow = Reply.text(
        BODY,
        chunk_size=args.chunk_size,
        delay=args.chunk_ms / 1000,
        first_delay=args.first_token_ms / 1000,
    )
    with ScriptedUpstream() as upstream, tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs + 1):  # the first run warms up (imports, HTTP connection)
            upstream.script(grow, SLOW)
        workdir = Path(tmp)
        script = workdir / "bench.el"
        script.write_text(BENCH_EL, encoding="utf-8")
        env = emacs_env(
            workdir, upstream.base_url, BENCH_RUNS=str(args.runs + 1), INKSTREAM_LOG="INFO"
        )
        run = run_emacs(["-l", str(script)], env, workdir, timeout=90 + 15 * args.runs)
        offset = time.time() - time.monotonic()  # wall = monotonic + offset
        results = [
            json.loads(line.split(" ", 1)[1])
            for line in run.output.splitlines()
            if line.startswith("BENCH ")
        ]
        if run.returncode != 0 or len(results) != args.runs + 1:
            sys.exit(f"emacs failed (rc={run.returncode}):\n{run.output[-4000:]}")
        requests = upstream.requests

    overhead, step_rates, chunk_rates, hangups, complete = [], [], [], [], 0
    for i, result in list(enumerate(results))[1:]:
        grown, dismissed = requests[2 * i], requests[2 * i + 1]
        ttft = grown.chunk_times[0] - grown.received_at
        overhead.append((result["first"] - result["trigger"] - ttft) * 1000)
        streaming = result["last"] - result["first"]
        if streaming > 0:
            step_rates.append((result["steps"] - 1) / streaming)
        chunks = grown.chunk_times
        chunk_rates.append((len(chunks) - 1) / (chunks[-1] - chunks[0]))
        complete += result["final"] == BODY
        if dismissed.hung_up_at is not None:
            hangups.append((dismissed.hung_up_at + offset - result["dismiss"]) * 1000)

    print(f"Emacs {EMACS}: {args.runs} runs, {len(BODY)}-char body in {len(grow.chunks)} chunks")
    first, every = args.first_token_ms, args.chunk_ms
    print(f"  upstream: first token after {first:.0f} ms, a chunk every {every:.0f} ms")
    print(
        f"  first ghost text after trigger, minus upstream TTFT: median {median(overhead):.1f} ms"
        f" (max {max(overhead):.1f} ms)"
    )
    steps, chunks = median(step_rates), median(chunk_rates)
    print(
        f"  growth: {steps:.1f} visible steps/s vs {chunks:.1f} upstream chunks/s"
        f" (ratio {steps / chunks:.2f})"
    )
    print(f"  final ghost text equal to the model's text: {complete}/{args.runs}")
    print(
        f"  dismiss -> upstream hang-up: median {median(hangups):.1f} ms"
        f" (max {max(hangups, default=float('nan')):.1f} ms, {len(hangups)}/{args.runs} hung up)"
    )


if __name__ == "__main__":
    main()
