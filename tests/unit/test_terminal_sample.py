"""The demo's sample file is what a new user reads first: its docstrings must match its code."""

from __future__ import annotations

import importlib.util
import inspect
import sys

import pytest

from inkstream.terminal.commands import SAMPLE


def test_the_sample_does_what_its_docstrings_say(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("inventory_sample", SAMPLE)
    assert spec is not None and spec.loader is not None
    sample = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "inventory_sample", sample)  # dataclasses look it up
    spec.loader.exec_module(sample)
    items = [sample.Item("nut", 0.1, 500), sample.Item("saw", 25.0, 4), sample.Item("axe", 30.0, 1)]
    assert sample.total_value(items) == pytest.approx(180.0)
    assert sample.restock(items, 2) == [items[2]]
    assert sample.most_valuable(items) is items[1]
    assert sample.cheapest(items) is items[0]
    for function in (sample.most_valuable, sample.cheapest):
        doc = inspect.getdoc(function) or ""
        with pytest.raises(ValueError):
            function([])
        assert "ValueError" in doc and "None" not in doc
        assert "None" not in str(inspect.signature(function).return_annotation)
