"""LRU and type-through (pure)."""

from __future__ import annotations

from inkstream.completion.cache import CompletionCache, type_through
from inkstream.completion.debounce import AdaptiveDebounce


def test_exact_hit_and_type_through() -> None:
    cache = CompletionCache()
    cache.put("u", "x = fo", "\n", "o(bar)")
    assert cache.lookup("u", "x = fo", "\n") == "o(bar)"
    assert cache.lookup("u", "x = foo(", "\n") == "bar)"
    assert cache.lookup("u", "x = fox", "\n") is None  # typed something else
    assert cache.lookup("u", "x = foo(", ")\n") is None  # different suffix
    assert cache.lookup("other", "x = foo(", "\n") is None
    assert cache.hits == 2 and cache.misses == 3


def test_lru_evicts_oldest() -> None:
    cache = CompletionCache(capacity=2)
    cache.put("u", "a", "", "1")
    cache.put("u", "b", "", "2")
    cache.lookup("u", "a", "")
    cache.put("u", "c", "", "3")
    assert cache.lookup("u", "b", "") is None
    assert cache.lookup("u", "a", "") == "1"


def test_type_through_consumed_completion_is_a_miss() -> None:
    assert type_through("a", "bc", "abc") is None
    assert type_through("a", "bc", "ab") == "c"
    assert type_through("a", "bc", "a") is None


def test_debounce_follows_latency_within_bounds() -> None:
    d = AdaptiveDebounce(min_delay=0.05, max_delay=0.2, fraction=0.25, smoothing=0.3)
    assert d.delay == 0.05
    d.observe(0.4)
    assert d.delay == 0.1
    for _ in range(20):
        d.observe(5.0)
    assert d.delay == 0.2
    for _ in range(40):
        d.observe(0.01)
    assert d.delay == 0.05
