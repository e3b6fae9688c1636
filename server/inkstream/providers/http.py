"""The HTTP client under the openai client: a forward proxy and extra certificate authorities.

Without either setting the openai client builds its own, and httpx2's defaults apply: the system's
certificate authorities, and ``HTTPS_PROXY``/``NO_PROXY`` from the environment.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from inkstream.config import Settings, has_credentials
from inkstream.errors import CertificateError, ProxyError

if TYPE_CHECKING:
    import httpx2


def proxy_url(settings: Settings, env: Mapping[str, str]) -> str | None:
    """The proxy URL with credentials from the environment, if the URL carries none."""
    if not settings.proxy:
        return None
    user, password = env.get("INKSTREAM_PROXY_USER"), env.get("INKSTREAM_PROXY_PASSWORD")
    if not user or has_credentials(settings.proxy):
        return settings.proxy
    parts = urlsplit(settings.proxy)
    userinfo = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def proxy_host(settings: Settings) -> str:
    """The proxy as it may be shown: host and port, never credentials."""
    parts = urlsplit(settings.proxy or "")
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def ssl_context(ca_file: str) -> ssl.SSLContext:
    """The system's authorities plus those in ``ca_file``."""
    import httpx2

    context = httpx2.create_ssl_context()
    try:
        context.load_verify_locations(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateError(
            f"caFile {ca_file!r} cannot be used: {exc}.",
            hint="Point caFile at a readable PEM bundle of your certificate authority.",
        ) from exc
    return context


def build_http_client(
    settings: Settings, timeout: Any, env: Mapping[str, str] = os.environ
) -> httpx2.AsyncClient | None:
    """An httpx2 client for the proxy and CA settings, or None when the defaults will do."""
    if not settings.proxy and not settings.ca_file:
        return None
    import openai

    kwargs: dict[str, Any] = {"timeout": timeout}
    if settings.ca_file:
        kwargs["verify"] = ssl_context(settings.ca_file)
    if proxy := proxy_url(settings, env):
        kwargs["proxy"] = proxy
    return openai.DefaultAsyncHttpx2Client(**kwargs)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def transport_error(
    exc: BaseException, settings: Settings, endpoint: str
) -> CertificateError | ProxyError | None:
    """A certificate or proxy failure under a connection error, said so the user can act."""
    import httpx2

    host = urlsplit(endpoint).hostname or endpoint
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return CertificateError(
                f"The certificate of {host} is not trusted ({cause.verify_message}).",
                hint="If your network uses its own certificate authority, set caFile to its "
                "PEM bundle.",
            )
        if isinstance(cause, httpx2.ProxyError):
            return _proxy_refused(settings, str(cause))
    if settings.proxy and any(isinstance(c, httpx2.ConnectError) for c in _causes(exc)):
        return ProxyError(
            f"Cannot connect to the proxy {proxy_host(settings)}.",
            hint="Check the proxy setting and that the proxy is running.",
        )
    return None


def proxy_status_error(settings: Settings, status: int) -> ProxyError:
    """HTTP 407 from a proxy in front of a plain-HTTP endpoint."""
    return _proxy_refused(settings, f"HTTP {status}")


def _proxy_refused(settings: Settings, detail: str) -> ProxyError:
    where = f"The proxy {proxy_host(settings)}" if settings.proxy else "A proxy"
    if "407" in detail:
        return ProxyError(
            f"{where} asks for credentials (HTTP 407).",
            hint="Set INKSTREAM_PROXY_USER and INKSTREAM_PROXY_PASSWORD in the environment.",
            status=407,
        )
    return ProxyError(
        f"{where} refused the connection ({detail}).",
        hint="Check the proxy setting, or ask your network administrator.",
    )
