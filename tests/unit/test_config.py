"""Settings precedence and validation (pure)."""

from __future__ import annotations

import pytest

from inkstream.config import NextEditSettings, Settings, SettingsError, merge

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


# -- proxy and certificate authority -----------------------------------------------------------


def test_proxy_and_ca_file_from_every_source() -> None:
    env = {"INKSTREAM_PROXY": "http://env-proxy:3128", "INKSTREAM_CA_FILE": "/etc/ca.pem"}
    assert (merge(env).proxy, merge(env).ca_file) == ("http://env-proxy:3128", "/etc/ca.pem")
    s = merge(env, None, {"proxy": "https://ws-proxy:8443", "caFile": "/ws/ca.pem"})
    assert (s.proxy, s.ca_file) == ("https://ws-proxy:8443", "/ws/ca.pem")


@pytest.mark.parametrize("url", ["socks5://p:1080", "p:3128", "ftp://p"])
def test_proxy_must_be_http_or_https(url: str) -> None:
    with pytest.raises(SettingsError, match="http:// or https://"):
        merge({}, {"proxy": url})


def test_proxy_credentials_only_from_the_user_never_the_workspace() -> None:
    assert merge({}, {"proxy": "http://u:p@proxy:3128"}).proxy == "http://u:p@proxy:3128"
    assert merge({"INKSTREAM_PROXY": "http://u:p@proxy:3128"}).proxy == "http://u:p@proxy:3128"
    with pytest.raises(SettingsError, match="not read from workspace settings") as info:
        merge({}, None, {"proxy": "http://u:secret@proxy:3128"})
    assert "secret" not in str(info.value)


def test_proxy_is_not_in_the_repr() -> None:
    assert "secret" not in repr(merge({}, {"proxy": "http://u:secret@proxy:3128"}))


@pytest.mark.parametrize(
    ("proxy", "env", "expected"),
    [
        (None, {"INKSTREAM_PROXY_USER": "u"}, None),
        ("http://proxy:3128", {}, "http://proxy:3128"),
        (
            "http://proxy:3128",
            {"INKSTREAM_PROXY_USER": "me@corp", "INKSTREAM_PROXY_PASSWORD": "p:w/d"},
            "http://me%40corp:p%3Aw%2Fd@proxy:3128",
        ),
        ("http://proxy:3128", {"INKSTREAM_PROXY_USER": "me"}, "http://me@proxy:3128"),
        ("http://a:b@proxy:3128", {"INKSTREAM_PROXY_USER": "me"}, "http://a:b@proxy:3128"),
    ],
)
def test_proxy_url_takes_credentials_from_the_environment(
    proxy: str | None, env: dict[str, str], expected: str | None
) -> None:
    from inkstream.providers.http import proxy_url

    assert proxy_url(Settings(proxy=proxy), env) == expected


def test_a_bad_proxy_url_is_not_echoed_with_its_credentials() -> None:
    with pytest.raises(SettingsError) as info:
        merge({}, {"proxy": "socks5://me:secret@proxy:1080"})
    assert "socks5://" in str(info.value) and "secret" not in str(info.value)


def test_next_edit_settings_merge_key_by_key_and_reject_bad_values() -> None:
    settings = merge(
        {},
        {"nextEdit": {"model": "zeta", "baseUrl": "http://127.0.0.1:8080/v1"}},
        {"nextEdit": {"format": "zeta"}},
    )
    assert settings.next_edit == NextEditSettings(
        enable=True, model="zeta", base_url="http://127.0.0.1:8080/v1", format="zeta"
    )
    assert merge({}).next_edit == NextEditSettings()
    for bad in ({"format": "diff"}, {"enable": "yes"}, {"model": 3}, {"other": 1}, []):
        with pytest.raises(SettingsError):
            merge({}, {"nextEdit": bad})
