"""proxy.py in a subprocess on 127.0.0.1: the corporate forward proxy of the proxy tests
(``tests/e2e/test_proxy.py``) and of the VS Code end-to-end test."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ForwardProxy:
    """Requires basic auth when ``auth`` (``user:password``) is set; ``hosts`` (name -> IP) are
    names only this proxy resolves (``corp_dns.py``)."""

    def __init__(self, auth: str | None, hosts: dict[str, str] | None = None) -> None:
        self.port = free_port()
        args = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(self.port)]
        args += ["--num-workers", "1", "--num-acceptors", "1"]
        env = dict(os.environ)
        if auth:
            args += ["--basic-auth", auth]
        if hosts:
            args += ["--plugins", "corp_dns.CorporateDns"]
            env["INKSTREAM_TEST_PROXY_HOSTS"] = json.dumps(hosts)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(args, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError("proxy.py did not start") from None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
