"""Settings precedence and validation (pure)."""

from __future__ import annotations

import pytest

from inkstream.config import Settings, SettingsError, merge

ENV = {
    "INKSTREAM_BASE_URL": "http://env/v1",
    "INKSTREAM_API_KEY": "env-key",
    "INKSTREAM_MODEL": "m-env",
}


def test_defaults_are_offline() -> None:
    s = merge({})
    assert s == Settings()
    assert s.resolved_provider == "offline"


@pytest.mark.parametrize(
    ("env", "init", "workspace", "expected"),
    [
        (ENV, None, None, ("http://env/v1", "env-key", "m-env")),
        (
            {"OPENAI_BASE_URL": "http://oa/v1", "OPENAI_API_KEY": "oa"},
            None,
            None,
            ("http://oa/v1", "oa", "gpt-4o-mini"),
        ),
        ({**ENV, "OPENAI_API_KEY": "oa"}, None, None, ("http://env/v1", "env-key", "m-env")),
        (
            ENV,
            {"baseUrl": "http://init/v1", "apiKey": "init-key"},
            None,
            ("http://init/v1", "init-key", "m-env"),
        ),
        (
            ENV,
            {"model": "m-init"},
            {"model": "m-ws", "baseUrl": "http://ws/v1"},
            ("http://ws/v1", "env-key", "m-ws"),
        ),
    ],
    ids=["env", "openai-fallback", "inkstream-wins", "init-over-env", "workspace-over-all"],
)
def test_precedence(env, init, workspace, expected) -> None:
    s = merge(env, init, workspace)
    assert (s.base_url, s.api_key, s.model) == expected
    assert s.resolved_provider == "openai"


def test_api_key_is_never_taken_from_workspace() -> None:
    s = merge({}, None, {"apiKey": "from-a-cloned-repo", "baseUrl": "http://x/v1"})
    assert s.api_key is None


def test_key_is_not_in_repr_or_public_view() -> None:
    s = merge(ENV)
    assert "env-key" not in repr(s)
    assert "env-key" not in str(s.public_view())


@pytest.mark.parametrize(
    "bad",
    [
        {"apiStyle": "xml"},
        {"maxTokens": "many"},
        {"maxTokens": -1},
        {"enable": ["python"]},
        {"exclude": "*.env"},
        {"provider": "magic"},
        {"firstTokenTimeout": True},
    ],
)
def test_bad_values_raise(bad) -> None:
    with pytest.raises(SettingsError):
        merge({}, bad)


def test_enable_per_language() -> None:
    s = merge({}, {"enable": {"markdown": False}})
    assert s.enabled_for("python") and not s.enabled_for("markdown")
    s = merge({}, {"enable": {"*": False, "python": True}})
    assert s.enabled_for("python") and not s.enabled_for("go")


def test_provider_override() -> None:
    assert merge(ENV, {"provider": "offline"}).resolved_provider == "offline"
