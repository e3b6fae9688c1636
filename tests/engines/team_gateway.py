"""LiteLLM's proxy as a team gateway in front of a real engine, for tests and benchmarks.

It runs ``docs/litellm-config.yaml``, the README's recipe, as it is: the engine's address and the
keys reach it through the environment, as the recipe says. Nothing may reach the internet, so
every remote fetch LiteLLM makes at start (its model cost map, Anthropic's beta headers, its
router presets, blog posts, policy templates) is switched to its bundled copy.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

LITELLM_VARIABLE = "INKSTREAM_LITELLM"
CONFIG = Path(__file__).resolve().parents[2] / "docs" / "litellm-config.yaml"
MODEL = "qwen2.5-coder-7b"  # the config's model_name
MASTER_KEY = "sk-team-master-0123456789"
STARTUP_TIMEOUT = 300.0

#: LiteLLM's switches to its bundled copies instead of GitHub, and to its environment only
OFFLINE = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    "LITELLM_MODE": "PRODUCTION",  # no .env files picked up from above its install folder
}


@dataclass
class Gateway:
    base_url: str  # what editors set as baseUrl
    model: str
    master_key: str
    log: Path
    started_in: float  # seconds from spawn to answering /health/liveliness
    process: subprocess.Popen[bytes] = field(repr=False)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_gateway(litellm: str, engine_url: str, port: int, work: Path) -> Gateway:
    """Start ``litellm --config docs/litellm-config.yaml`` in front of ``engine_url`` (…/v1) and
    wait until it serves. Raises ``RuntimeError`` with its log if it exits or never comes up."""
    env = {
        **os.environ,
        **OFFLINE,
        "ENGINE_API_BASE": engine_url,
        "ENGINE_API_KEY": "sk-engine",
        "LITELLM_MASTER_KEY": MASTER_KEY,
        "PYTHONUNBUFFERED": "1",
        "NO_COLOR": "1",
    }
    for name in ("DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(name, None)
    command = [litellm, "--config", str(CONFIG), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--num_workers", "1"]
    log = work / "litellm.log"
    spawned = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=work)
    root = f"http://127.0.0.1:{port}"
    gateway = Gateway(f"{root}/v1", MODEL, MASTER_KEY, log, 0.0, process)
    deadline = spawned + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"litellm exited:\n{gateway.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{root}/health/liveliness", timeout=2) as r:
                if r.status == 200:
                    gateway.started_in = time.monotonic() - spawned
                    return gateway
        except OSError:
            pass
        time.sleep(0.2)
    gateway.stop()
    raise RuntimeError(f"litellm did not start in {STARTUP_TIMEOUT:.0f} s:\n{gateway.log_text()}")
