"""A proxy.py plugin: host names that only the corporate proxy can resolve.

``INKSTREAM_TEST_PROXY_HOSTS`` (JSON, name -> IP) is read by the proxy process. An endpoint named
there (``llm.corp.invalid``) resolves nowhere else, so a request that reaches it went through the
proxy: the test cannot pass by connecting directly.
"""

from __future__ import annotations

import json
import os

from proxy.http.proxy import HttpProxyBasePlugin

HOSTS: dict[str, str] = json.loads(os.environ.get("INKSTREAM_TEST_PROXY_HOSTS", "{}"))


class CorporateDns(HttpProxyBasePlugin):
    def resolve_dns(self, host: str, port: int) -> tuple[str | None, None]:
        return HOSTS.get(host), None
