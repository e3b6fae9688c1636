"""What a request cost: tokens times the user's prices. Pure.

A model without a price has no cost (``None``), never a guessed one; a model served from this
machine (loopback) costs nothing, unless the user priced it: a local gateway (LiteLLM, a
corporate relay) on 127.0.0.1 may forward to a paid API, and an explicit price says so.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

#: model name or glob -> (input, output) price per million tokens
Prices = Mapping[str, tuple[float, float]]


def is_loopback(base_url: str | None) -> bool:
    """True for endpoints on this machine (127.0.0.0/8, ::1, localhost)."""
    if not base_url:
        return False
    host = urlsplit(base_url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def price_for(prices: Prices, model: str) -> tuple[float, float] | None:
    """The exact model name wins; else the first glob (``gpt-4o*``) that matches."""
    if model in prices:
        return prices[model]
    for pattern, price in prices.items():
        if fnmatch.fnmatchcase(model, pattern):
            return price
    return None


def cost(
    prices: Prices, base_url: str | None, model: str, prompt_tokens: int, generated_tokens: int
) -> float | None:
    """Money spent on one request, in the unit the prices are in; None when unknown."""
    price = price_for(prices, model)
    if price is None:
        return 0.0 if is_loopback(base_url) else None
    return (prompt_tokens * price[0] + generated_tokens * price[1]) / 1_000_000
