"""Excluded files and redaction (pure)."""

from __future__ import annotations

import pytest

from inkstream.completion.privacy import REDACTED, ExclusionRules, redact


@pytest.mark.parametrize(
    "path",
    [
        "/p/.env",
        "/p/.env.local",
        "/p/config/prod.env",
        "/p/certs/server.pem",
        "/p/deploy.key",
        "/home/u/.ssh/id_rsa",
        "/home/u/.ssh/id_ed25519.pub",
        "/p/.npmrc",
    ],
)
def test_secret_looking_files_are_always_excluded(path: str) -> None:
    assert ExclusionRules().is_excluded(path, "/p")


def test_gitignore_and_globs() -> None:
    rules = ExclusionRules(["**/generated/*", "*.min.js"], ["build/", "*.log", "!keep.log"])
    root = "/p"
    assert rules.is_excluded("/p/build/out.py", root)
    assert rules.is_excluded("/p/debug.log", root)
    assert not rules.is_excluded("/p/keep.log", root)
    assert rules.is_excluded("/p/src/generated/api.py", root)
    assert rules.is_excluded("/p/static/app.min.js", root)
    assert not rules.is_excluded("/p/src/app.py", root)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ('OPENAI_API_KEY = "sk-proj-abcdefghijklmnop1234567890"', "OPENAI_API_KEY = "),
        ("token: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "token: "),
        ("aws = 'AKIAABCDEFGHIJKLMNOP'", "aws = "),
        ('password = "hunter2hunter2"', 'password = "'),
        ("db_secret: 'longsecretvalue'", "db_secret: '"),
        (
            "k = '''-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAv5Yq3mJ8\n"
            "-----END RSA PRIVATE KEY-----'''",
            "k = '''",
        ),
    ],
)
def test_secrets_are_redacted(text: str, kept: str) -> None:
    out = redact(text)
    assert REDACTED in out
    assert out.startswith(kept)
    for secret in ("sk-proj", "ghp_", "AKIA", "hunter2", "longsecretvalue", "MIIE"):
        assert secret not in out


@pytest.mark.parametrize(
    "text",
    ["token = get_token()", 'password = ""', "def api_key(self): ...", "x = 'short'"],
)
def test_ordinary_code_is_untouched(text: str) -> None:
    assert redact(text) == text
