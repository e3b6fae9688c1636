"""Errors typed by what the user can do about them.

Each class maps to one JSON-RPC error code and a ``data.kind``; pygls turns a raised
``JsonRpcException`` into the error response. Only providers translate upstream (openai/httpx)
exceptions into these; handlers just let them propagate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pygls.exceptions import JsonRpcException

REQUEST_FAILED = -32803
SERVER_CANCELLED = -32802


class InkstreamError(JsonRpcException):
    """A failure the user can act on: ``message`` says what happened, ``hint`` what to do."""

    CODE = REQUEST_FAILED
    KIND: ClassVar[str] = "upstream"

    def __init__(self, message: str, *, hint: str = "", status: int | None = None) -> None:
        data: dict[str, Any] = {"kind": self.KIND, "hint": hint}
        if status is not None:
            data["status"] = status
        full = f"{message} {hint}".strip()
        super().__init__(message=full, code=self.CODE, data=data)
        self.hint = hint
        self.status = status

    @property
    def kind(self) -> str:
        return self.KIND


class InvalidParams(InkstreamError):
    CODE = -32602
    KIND = "invalid_params"


class UpstreamAuthError(InkstreamError):
    KIND = "auth"


class UpstreamNotFound(InkstreamError):
    KIND = "not_found"


class UpstreamRateLimited(InkstreamError):
    KIND = "rate_limited"


class UpstreamServerError(InkstreamError):
    KIND = "upstream"


class UpstreamConnectionError(InkstreamError):
    KIND = "connection"


class CertificateError(InkstreamError):
    """The endpoint's certificate is not trusted, or caFile cannot be read."""

    KIND = "certificate"


class ProxyError(InkstreamError):
    """The proxy refused the connection or asked for credentials (HTTP 407)."""

    KIND = "proxy"


class UpstreamTimeout(InkstreamError):
    KIND = "timeout"


class StreamBroken(InkstreamError):
    KIND = "stream"


class BudgetReached(InkstreamError):
    """The daily ``budget`` is spent: nothing goes upstream until local midnight."""

    KIND = "budget"


class ServerCancelled(JsonRpcException):
    """The server gave up on a request: superseded by a newer one, or shutting down."""

    CODE = SERVER_CANCELLED
    MESSAGE = "Request cancelled by the server"


class Notifier:
    """Shows each distinct problem to the user once, not once per keystroke.

    A problem is its kind plus the endpoint; it may show again after a request succeeds.
    """

    def __init__(
        self, show: Callable[[str], None], on_clear: Callable[[], None] | None = None
    ) -> None:
        self._show = show
        self._on_clear = on_clear
        self._shown: set[tuple[str, str]] = set()
        self.last_error: str | None = None

    def report(self, error: InkstreamError, endpoint: str) -> None:
        self.last_error = error.message
        key = (error.kind, endpoint)
        if key not in self._shown:
            self._shown.add(key)
            self._show(f"inkstream: {error.message}")

    def succeeded(self) -> None:
        if self._on_clear is not None:
            self._on_clear()
        self._shown.clear()
