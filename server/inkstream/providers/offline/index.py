"""What the offline model learns from, and its cache on disk.

Two models: the Python standard library (every machine has it; cached per Python version) and the
user's project (respecting .gitignore; skipping binaries, big, generated and vendored files;
cached under a key made of every file's path, size and modification time, so any change rebuilds).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import pathspec

from inkstream.providers.offline.ngram import NgramModel
from inkstream.providers.offline.tokens import tokenize_code

logger = logging.getLogger(__name__)

LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".jsx": "javascript", ".ts": "typescript", ".tsx": "typescript", ".go": "go", ".rs": "rust",
    ".java": "java", ".kt": "kotlin", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp",
    ".hpp": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php", ".lua": "lua", ".sh": "bash",
    ".swift": "swift", ".scala": "scala", ".sql": "sql",
}  # fmt: skip
SKIP_DIRS = {
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "env", "__pycache__", "dist",
    "build", "target", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".tox", "vendor",
    "site-packages", ".e2e", ".next", "out",
}  # fmt: skip
MAX_FILE_BYTES = 200_000
MAX_PROJECT_LINES = 150_000
STDLIB_LINES = 40_000
CACHE_VERSION = 2


def project_files(root: Path) -> Iterator[Path]:
    spec = _gitignore(root)
    budget = MAX_PROJECT_LINES
    for directory, dirs, files in os.walk(root):
        rel_dir = Path(directory).relative_to(root)
        dirs[:] = sorted(
            d for d in dirs if d not in SKIP_DIRS and not spec.match_file(f"{rel_dir / d}/")
        )
        for name in sorted(files):
            path = Path(directory, name)
            if path.suffix not in LANGUAGES or spec.match_file(str(rel_dir / name)):
                continue
            if _looks_generated(name) or not _small_text(path):
                continue
            yield path
            budget -= 1 + path.stat().st_size // 40
            if budget <= 0:
                return


def _gitignore(root: Path) -> pathspec.GitIgnoreSpec:
    try:
        lines = (root / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _looks_generated(name: str) -> bool:
    return any(m in name for m in (".min.", "_pb2.", ".generated.", ".bundle.", "-lock."))


def _small_text(path: Path) -> bool:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return False
        with path.open("rb") as f:
            return b"\0" not in f.read(4096)
    except OSError:
        return False


def stdlib_files() -> list[Path]:
    """A fixed, sorted subset of the standard library's own Python sources."""
    root = Path(sysconfig.get_paths()["stdlib"])
    chosen: list[Path] = []
    lines = 0
    for path in sorted(root.glob("*.py")):
        if path.name.startswith(("_", "test")) or not _small_text(path):
            continue
        chosen.append(path)
        lines += path.stat().st_size // 35
        if lines > STDLIB_LINES:
            break
    return chosen


def train(paths: list[Path], min_count: int = 2) -> NgramModel:
    model = NgramModel()
    model.train(
        (
            tokenize_code(p.read_text(encoding="utf-8", errors="replace"), LANGUAGES[p.suffix])
            for p in paths
        ),
        min_count=min_count,
    )
    return model


def cache_file(paths: list[Path], cache_dir: Path, name: str) -> Path:
    """Where the model for exactly these files (paths, sizes, mtimes) is cached."""
    digest = hashlib.sha256(f"{CACHE_VERSION}|{sys.version_info[:2]}".encode())
    for p in paths:
        st = p.stat()
        digest.update(f"{p}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return cache_dir / f"{name}-{digest.hexdigest()[:16]}.pickle"


def load_or_build(
    paths: list[Path], cache_dir: Path, name: str, *, min_count: int = 2, isolated: bool = False
) -> NgramModel:
    """The model for ``paths``, from the cache when no file changed since it was built.

    ``isolated`` trains in a child process: tokenizing a big project holds the GIL for seconds,
    which would stall the server's event loop (and with it, cancellation).
    """
    cache = cache_file(paths, cache_dir, name)
    model = _load(cache)
    if model is not None:
        logger.info("offline model %s: loaded from %s", name, cache)
        return model
    if isolated and _build_in_child(paths, cache, min_count):
        model = _load(cache)
        if model is not None:
            return model
    return build_and_save(paths, cache, min_count)


def _load(cache: Path) -> NgramModel | None:
    try:
        with cache.open("rb") as f:
            model: NgramModel = pickle.load(f)
        return model
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return None


def build_and_save(paths: list[Path], cache: Path, min_count: int) -> NgramModel:
    started = time.monotonic()
    model = train(paths, min_count)
    logger.info(
        "offline model %s: %d files, %d tokens, built in %.2f s",
        cache.stem, len(paths), model.tokens_seen, time.monotonic() - started,
    )  # fmt: skip
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        for old in cache.parent.glob(f"{cache.stem.rsplit('-', 1)[0]}-*.pickle"):
            old.unlink(missing_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(cache)
    except OSError as exc:
        logger.warning("cannot cache the offline model in %s: %s", cache.parent, exc)
    return model


def _build_in_child(paths: list[Path], cache: Path, min_count: int) -> bool:
    request = json.dumps({"paths": [str(p) for p in paths], "cache": str(cache), "min": min_count})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "inkstream.providers.offline.index"],
            input=request,
            text=True,
            capture_output=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.warning("offline indexer did not run: %s", exc)
        return False
    if done.returncode != 0:
        logger.warning("offline indexer failed: %s", done.stderr.strip()[-500:])
    return done.returncode == 0


def project_key(root: Path) -> str:
    return "project-" + hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]


if __name__ == "__main__":
    # the child process of ``_build_in_child``: build one model into its cache file
    job = json.loads(sys.stdin.read())
    build_and_save([Path(p) for p in job["paths"]], Path(job["cache"]), int(job["min"]))
