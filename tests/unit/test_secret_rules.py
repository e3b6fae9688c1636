"""Secret redaction rule by rule (pure): what detect-secrets flags goes, ordinary code stays.

Each ported rule's source is its detect-secrets plugin (``secret_rules.Rule.source``); these tests
also check the port against the library itself: every plugin is covered (or deliberately not),
and every sample here is one detect-secrets flags.
"""

# ruff: noqa: E501  (tables of sample lines)

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.core.scan import scan_line
from detect_secrets.settings import default_settings

from inkstream.completion import prompts
from inkstream.completion.context import CompletionContext, ExplainRequest, Snippet
from inkstream.completion.privacy import (
    REDACTED,
    WINDOW_CHARS,
    find_secrets,
    redact,
    redact_around_cursor,
    redact_parts,
)
from inkstream.completion.secret_rules import RULES, assigned_secret_spans, rule_spans
from inkstream.providers.openai_compat import (
    redact_context,
    redact_explain_request,
)

from secret_samples import (
    AWS,
    PRIVATE_KEY,
    PRIVATE_KEY_BODY,
    SAMPLES,
    SecretSample,
    _repeat,
)

#: detect-secrets plugin -> the rules here that port it
PORTED = {
    "AWSKeyDetector": {"AWS access key id", "AWS secret access key"},
    "ArtifactoryDetector": {"Artifactory API token", "Artifactory password"},
    "AzureStorageKeyDetector": {"Azure storage account key"},
    "BasicAuthDetector": {"credentials in a URL"},
    "CloudantDetector": {"Cloudant password", "Cloudant API key", "Cloudant URL"},
    "DiscordBotTokenDetector": {"Discord bot token"},
    "GitHubTokenDetector": {"GitHub token"},
    "GitLabTokenDetector": {"GitLab token"},
    "IbmCloudIamDetector": {"IBM Cloud IAM key"},
    "IbmCosHmacDetector": {"IBM COS HMAC secret"},
    "JwtTokenDetector": {"JSON web token"},
    "KeywordDetector": {"secret-named value"},
    "MailchimpDetector": {"Mailchimp key"},
    "NpmDetector": {"npm token (.npmrc)"},
    "OpenAIDetector": {"OpenAI key"},
    "PrivateKeyDetector": {"private key", "private key (end of a block)", "PuTTY private key"},
    "PypiTokenDetector": {"PyPI token"},
    "SendGridDetector": {"SendGrid key"},
    "SlackDetector": {"Slack token", "Slack webhook"},
    "SoftlayerDetector": {"SoftLayer key", "SoftLayer URL key"},
    "SquareOAuthDetector": {"Square OAuth secret"},
    "StripeDetector": {"Stripe key"},
    "TelegramBotTokenDetector": {"Telegram bot token"},
    "TwilioKeyDetector": {"Twilio key"},
}
#: plugins deliberately not ported, and why
NOT_PORTED = {
    # any random-looking string: hashes in tests, base64 fixtures, git SHAs; kept only where a
    # secret-sounding name holds it ("secret-named value" asks for key material there)
    "Base64HighEntropyString",
    "HexHighEntropyString",
    # a public IP address is not a credential, and code is full of them
    "IPPublicDetector",
}


def test_every_detect_secrets_plugin_is_ported_or_deliberately_left() -> None:
    plugins = {cls.__name__ for cls in get_mapping_from_secret_type_to_class().values()}
    assert plugins == set(PORTED) | NOT_PORTED
    names = {rule.name for rule in RULES} | {"secret-named value"}
    for plugin, rules in PORTED.items():
        assert rules <= names, plugin


def test_every_rule_names_its_source() -> None:
    for rule in RULES:
        assert rule.source, rule.name


def _detect_secrets_flags(line: str) -> set[str]:
    with default_settings():
        return {secret.type for secret in scan_line(line)}


# -- the twenty of issue 20 §6 --------------------------------------------------------------------

#: which detect-secrets plugin (secret type) flags each sample line
FLAGGED_AS = {
    "Azure storage account key": "Azure Storage Account access key",
    "password in a database URL": "Basic Auth Credentials",
    "Discord bot token": "Discord Bot Token",
    "Telegram bot token": "Telegram Bot Token",
    "Twilio account SID": "Twilio API Key",
    "SendGrid key": "SendGrid API Key",
    "Mailchimp key": "Mailchimp Access Key",
    "npm token": "NPM tokens",
    "PyPI token": "PyPI Token",
    "Slack webhook URL": "Slack Token",
    "hex signing key": "Hex High Entropy String",
    "GitHub token": "GitHub Token",
    "GitLab token": "GitLab Token",
    "AWS access key id": "AWS Access Key",
    "Stripe key": "Stripe Access Key",
    "Slack bot token": "Slack Token",
    "JSON web token": "JSON Web Token",
    "password assignment": "Secret Keyword",
    "Authorization header": "Hex High Entropy String",
    "private key block": "Private Key",
}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_the_twenty_are_shapes_detect_secrets_flags(sample: SecretSample) -> None:
    assert FLAGGED_AS[sample.name] in _detect_secrets_flags(sample.line)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_the_twenty_are_redacted_and_their_code_kept(sample: SecretSample) -> None:
    out = redact(sample.line)
    assert sample.secret not in out
    assert sample.kept in out
    assert REDACTED in out


def test_the_twenty_in_one_file() -> None:
    text = "\n".join(s.line for s in SAMPLES) + "\n"
    out = redact(text)
    for sample in SAMPLES:
        assert sample.secret not in out, sample.name
        assert sample.kept in out, sample.name


# -- the other rules, one example each (the value is what must go) ----------------------------------

OTHER_RULES = [
    ("AWS secret access key", 'aws_secret_access_key = "' + _repeat("wJalrXUtnFEMIK7MDENGbPxRfiCY", 40) + '"'),
    ("Artifactory API token", 'artifactory_token = "AKC' + _repeat("p2mT7xQ9vL4z", 40) + '"'),
    ("Artifactory password", "ARTIFACTORY=AP6" + _repeat("xQ9vL4zp2mT7", 20)),
    ("Cloudant password", "cloudant_password='" + _repeat("0a1b2c3d4e5f6789", 64) + "'"),
    ("Cloudant API key", "cl_apikey = '" + _repeat("abcdefghijklmnopqrstuvwxyz", 24) + "'"),
    ("Cloudant URL", "https://acct:" + _repeat("0a1b2c3d4e5f6789", 64) + "@acct.cloudant.com"),
    ("IBM Cloud IAM key", 'ibm_cloud_iam_key = "' + _repeat("aBcD3fGh1jKl_m-0PqRsTuVwXyZ9", 44) + '"'),
    ("IBM COS HMAC secret", 'cos_hmac_secret_access_key = "' + _repeat("0a1b2c3d4e5f6789", 48) + '"'),
    ("SoftLayer key", 'softlayer_api_key = "' + _repeat("0a1b2c3d4e5f6789xyz", 64) + '"'),
    ("SoftLayer URL key", "https://api.softlayer.com/soap/v3/" + _repeat("0a1b2c3d4e5f6789", 64)),
    ("Square OAuth secret", "SQUARE = sq0csp-" + _repeat("aB3dE6gH9jK2mN5pQ8sT1vW4yZ7", 43)),
    ("OpenAI key", 'client = OpenAI(api="sk-' + _repeat("Ab3", 20) + "T3Blbk" + "FJ" + _repeat("Xy7", 20) + '")'),
    ("OpenAI / Anthropic key", 'llm = Anthropic("sk-ant-' + "api03-" + _repeat("Zq7Xv2Lm9Pw4", 40) + '")'),
    ("PuTTY private key", "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nPublic-Lines: 1\n" + _repeat("AAAAB3NzaC1yc2EAAAADAQABAAABAQ", 64) + "\nPrivate-Lines: 1\n" + _repeat("pQ8sT1vW4yZ7aB3dE6gH9jK2mN5", 64) + "\nPrivate-MAC: " + _repeat("0a1b2c3d4e5f6789", 40)),
    ("GitHub fine-grained token", 'Github("github' + "_pat_" + _repeat("11ABCDEFG0Zq7Xv2Lm9Pw4", 60) + '")'),
    ("Google API key", 'maps = Maps("AIza' + _repeat("SyA8Zq7Xv2Lm9Pw4Rt6Yb", 35) + '")'),
    ("npm token", 'publish(token="npm' + "_" + _repeat("Zq7Xv2Lm9Pw4", 36) + '")'),
    ("connection-string secret", 'cs = "Server=db;Database=app;User Id=sa;Password=' + "Xk9!vq2Lm" + ';"'),
    ("credential in a query string", 'url = "https://api.example.com/v1/items?limit=5&access_token=' + "q8Zx2Lm7Vw4" + '"'),
    ("credential in a query string", 'JDBC = "jdbc:mysql://db:3306/shop?user=app&password=' + "hunter" + '"'),
    ("credential-like query parameter", 'f"https://api.example.com/v1?key=' + _repeat("Zq7Xv2Lm9Pw4Rt6Y", 24) + '"'),
    ("credentials in a URL", 'REDIS = "redis://:' + "Xk9vq2Lm7w" + '@cache:6379/0"'),
    ("Bearer credential", "curl -H 'X: Bearer " + _repeat("Zq7Xv2Lm9Pw4Rt6Y", 32) + "' api"),
    ("secret-named value", "DB_PASSWORD=" + "Xk9vq2Lm7w"),
    ("secret-named value", 'cfg = {"client_secret": "' + "Xk9vq2Lm7wZ" + '"}'),
    ("secret-named value", 'const apiKey = "' + "Xk9vq2Lm7wZ" + '";'),
    ("secret-named value", 'ENCRYPTION_KEY: str = "' + "Xk9vq2Lm7wZ" + '"'),
    ("secret-named value", 'if (password === "' + "Xk9vq2Lm7wZ" + '") {'),
    ("secret-named value", 'refresh_token := "' + "Xk9vq2Lm7wZ" + '"'),
    ("secret-named value", 'session_token = "' + _repeat("aZ3kQ9xP2mW7", 32) + '"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "line"), OTHER_RULES, ids=[f"{r}:{i}" for i, (r, _) in enumerate(OTHER_RULES)]
)
def test_each_rule_redacts_its_shape(rule: str, line: str) -> None:
    if rule == "secret-named value":
        spans = list(assigned_secret_spans(line))
    else:
        [ported] = [r for r in RULES if r.name == rule]
        spans = [m.span(ported.group) for m in ported.pattern.finditer(line)]
    assert spans, f"{rule} finds nothing in {line!r}"
    out = redact(line)
    assert REDACTED in out
    for start, end in spans:  # what is left is the code around the secret, not a piece of it
        assert line[start:end] not in out


def test_rules_redact_only_the_value() -> None:
    line = 'engine = create_engine("mysql://app:' + "Xk9vq2Lm7w" + '@db:3306/shop")'
    assert redact(line) == 'engine = create_engine("mysql://app:<redacted>@db:3306/shop")'
    line = "https://hooks.slack.com/services/" + "T01/B02/" + "Xq3Lm8Vz2Wp7"
    assert redact(line) == "https://hooks.slack.com/services/<redacted>"


# -- private keys cut by a window ---------------------------------------------------------------------


def test_a_key_block_cut_by_a_window_is_still_redacted() -> None:
    head = PRIVATE_KEY[: PRIVATE_KEY.index("\n", 40) + 30]
    assert PRIVATE_KEY_BODY not in redact("KEY = '''" + head)
    tail = PRIVATE_KEY[len(PRIVATE_KEY) // 2 :]
    out = redact(tail + "'''\nprint(KEY)\n")
    assert out == f"{REDACTED}'''\nprint(KEY)\n"


def test_a_secret_across_the_cursor_is_redacted_on_both_sides() -> None:
    line = 'TOKEN = "' + AWS + '"\n'
    cut = line.index(AWS) + 8
    prefix, suffix = redact_parts(line[:cut], line[cut:])
    assert prefix == 'TOKEN = "' + REDACTED
    assert suffix == '"\n'
    assert AWS[:8] not in prefix and AWS[8:] not in suffix


# -- what must stay: ordinary code ---------------------------------------------------------------------

ORDINARY = [
    # hashes in tests, base64 fixtures, UUIDs, git SHAs and lockfile hashes
    f'assert hashlib.sha256(b"abc").hexdigest() == "{hashlib.sha256(b"abc").hexdigest()}"',
    f'EXPECTED_MD5 = "{hashlib.md5(b"fixture").hexdigest()}"',
    f'PNG = base64.b64decode("{base64.b64encode(bytes(range(60))).decode()}")',
    f'request_id = "{uuid.UUID(int=0x1234567890ABCDEF1234567890ABCDEF)}"',
    f'update_token = "{uuid.UUID(int=0x1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D)}"',
    'rev = "da39a3ee5e6b4b0d3255bfef95601890afd80709"',
    'commit_sha = "9fceb02d0ae598e95dc970b74767f19372d61af8"',
    '{file = "pkg-1.0-py3-none-any.whl", hash = "sha256:' + hashlib.sha256(b"w").hexdigest() + '"}',
    '"integrity": "sha512-' + base64.b64encode(hashlib.sha512(b"p").digest()).decode() + '",',
    # names that say secret, values that are not one
    "token = tokenize.NAME",
    "password = getpass.getpass()",
    "password: str",
    'password = ""',
    "    password=password,",
    "pwd = os.getcwd()",
    'api_key = os.environ["OPENAI_API_KEY"]',
    'API_KEY_ENV = "OPENAI_API_KEY"',
    'PASSWORD_FIELD = "password"',
    'TOKEN_TYPE = "token"',
    'NOPASSWORD = "no-password-required"',
    'cache_key = "user:profile:1"',
    'sort_key = "created_at"',
    'primary_key = "id"',
    'partition_key = "tenant_id"',
    'KEYBOARD_SHORTCUT_KEY = "ctrl+shift+p"',
    'if token == "(":',
    'url = f"https://api.example.com/v1?key={api_key}"',
    'db = "postgres://{user}:{password}@{host}/app"',
    'db = "postgres://user:pass@localhost:5432/app"',
    'key_id = "AKIAIOSFODNN7EXAMPLE"',
    'password = "${DB_PASSWORD}"',
    'secret = "<your-secret-here>"',
    'publicKeyToken="1fc8b3b9a1e18e3b"',
    "ERROR_WRONG_PASSWORD: Final = 1323",
    'Bearer = "Bearer "',
    'headers = {"Authorization": f"Bearer {token}"}',
    "The file between '-----BEGIN RSA PRIVATE KEY-----' and '-----END RSA PRIVATE KEY-----'.",
    "from scikit import sk-learn-compatible-estimator-wrapper",
    "def api_key(self): ...",
    "set({ tfa: { password: password, mode: 'disable' } }, o)",
    # false redactions once seen on the standard library and site-packages (bench/redaction.py)
    'print(f"password={password!r}")',
    "#> username='scolvin' password=SecretStr('**********')",
    "'secret': 'will be replaced',",
    "+ 'Credential=' + access_key + '/' + credential_scope + ', '",
    "# Account SID (ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx)",
    'text = self.call_url_handler("search?key=test_error_package")',
    "self._upstream_proxy_pass = '{0} bytes'.format(len(choice))",
    "re.compile(r'AccountKey=[a-zA-Z0-9+\\/=]{88}'),",
    "x = 'short'",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_code_is_untouched(text: str) -> None:
    assert redact(text) == text, find_secrets(text)


# -- the completion context ----------------------------------------------------------------------------


def _ctx(prefix: str, suffix: str, snippets: tuple[Snippet, ...] = ()) -> CompletionContext:
    return CompletionContext("file:///w/a.py", "/w/a.py", "python", prefix, suffix, "", snippets)


def test_redact_context_covers_prefix_suffix_and_snippets() -> None:
    github, jwt = SAMPLES[11], SAMPLES[16]
    ctx = _ctx(github.line + "\nx = ", "\n" + jwt.line, (Snippet("/w/b.py", SAMPLES[0].line),))
    sent = redact_context(ctx)
    everything = sent.prefix + sent.suffix + sent.snippets[0].text
    for sample in (github, jwt, SAMPLES[0]):
        assert sample.secret not in everything
        assert sample.kept in everything


def test_the_redacted_window_leaves_the_prompt_as_it_was() -> None:
    # a long file with no secrets: the prompt built from the redacted context is the same
    lines = [f"def f{i}(x):\n    return x * {i} + len('{'abc' * (i % 7)}')\n" for i in range(3000)]
    text = "".join(lines)
    cut = len(text) // 2
    ctx = _ctx(text[:cut], text[cut:])
    sent = redact_context(ctx)
    assert len(sent.prefix) <= WINDOW_CHARS + 100 < len(ctx.prefix)
    for model in ("qwen2.5-coder", "codellama"):
        assert prompts.build_fim_prompt(sent, model=model) == prompts.build_fim_prompt(
            ctx, model=model
        )
    assert prompts.build_chat_prompt(sent) == prompts.build_chat_prompt(ctx)


def test_a_selection_that_starts_inside_a_secret_still_hides_it() -> None:
    sample = SAMPLES[10]  # SIGNING_KEY = "<64 hex>": the name that makes it secret is outside
    full = "import hmac\n" + sample.line + "\nsign = hmac.new\n"
    code = full[full.index(sample.secret) + 10 :]
    req = ExplainRequest("file:///w/a.py", "/w/a.py", "python", code, full, 1)
    sent = redact_explain_request(req)
    assert sample.secret[10:] not in sent.code + sent.full_text
    assert "sign = hmac.new" in sent.code and sent.code in sent.full_text


def test_the_explain_window_leaves_the_prompt_as_it_was() -> None:
    lines = [f"def f{i}(x):\n    return x * {i} + len('{'abc' * (i % 7)}')\n" for i in range(3000)]
    full = "".join(lines)
    code = "".join(lines[1500:1503])
    req = ExplainRequest("file:///w/a.py", "/w/a.py", "python", code, full, 3000)
    sent = redact_explain_request(req)
    assert len(sent.full_text) < len(full)
    assert prompts.build_explain_prompt(sent) == prompts.build_explain_prompt(req)


def test_every_rule_can_run() -> None:
    # a rule with neither fixed text to look for nor long runs to look at would never run
    for rule in RULES:
        assert rule.gate or rule.on_long_runs, rule.name


def test_running_rules_only_where_they_can_match_loses_nothing() -> None:
    lines = [s.line for s in SAMPLES] + [line for _, line in OTHER_RULES] + ORDINARY
    text = "\n".join(lines)
    everywhere = {
        (m.span(rule.group), rule.name)
        for rule in RULES
        for m in rule.pattern.finditer(text)
        if m.start(rule.group) < m.end(rule.group)
        and (rule.valid is None or rule.valid(m.group(rule.group)))
        and (rule.preceded_by is None or text[m.start(rule.group) - 1] in rule.preceded_by)
    }
    everywhere |= {(span, "secret-named value") for span in assigned_secret_spans(text)}
    assert {((s, e), name) for s, e, name in rule_spans(text)} == everywhere


def test_the_text_around_the_cursor_is_redacted_once_for_the_debounce_and_the_request() -> None:
    prefix, suffix = "x = 1\n" * 5000 + SAMPLES[0].line + "\n", "y = 2\n" * 5000
    assert redact_around_cursor(prefix, suffix) is redact_around_cursor(prefix, suffix)
    assert SAMPLES[0].secret not in redact_around_cursor(prefix, suffix)[0]


def test_a_block_cut_by_a_window_takes_only_its_own_lines() -> None:
    head = PRIVATE_KEY[: PRIVATE_KEY.index("-----END")]
    out = redact(head + "\n\ndef sign(data):\n    return hmac.new(KEY, data).hexdigest()\n")
    assert PRIVATE_KEY_BODY not in out
    assert out == REDACTED + "\n\n\ndef sign(data):\n    return hmac.new(KEY, data).hexdigest()\n"
    # prose that names the end marker is not the end of a key
    prose = "Read until the line\n'-----END RSA PRIVATE KEY-----' and stop.\n"
    assert redact(prose) == prose
