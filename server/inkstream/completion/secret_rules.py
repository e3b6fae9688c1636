"""The shapes of secrets, ported from the detectors of Yelp's detect-secrets (1.5.0).

Ported rather than imported: detect-secrets costs 0.2-0.7 s to import (it pulls in ``requests``),
scans line by line with per-file-type keyword rules, and reports some values by a capturing group
that is only the token's prefix (``ghp`` for a GitHub token); a redactor needs the exact span of
each secret in a multi-line prompt. Each rule names the plugin it comes from; tests/unit/
test_secret_rules.py checks every detect-secrets plugin has a rule here (or a stated reason not
to) and that every example these rules catch is one detect-secrets flags too.

Where this goes beyond the source: whole PEM blocks (not only the BEGIN line), blocks cut by a
prompt window, newer token prefixes (GitHub fine-grained, OpenAI project keys, npm_...), Bearer
credentials, connection-string fields, credential query parameters, and names ending in ``KEY``.
Values assigned to secret-sounding names are decided in ``assigned_secret_spans``.
"""

# ruff: noqa: E501  (a table of ported patterns, one rule a line, is easier to check against its source)

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

#: the detect-secrets release these rules were ported from
SOURCE_VERSION = "detect-secrets 1.5.0"


@dataclass(frozen=True)
class Rule:
    """One shape of secret: ``group`` is the part of the match that is secret (0: all of it)."""

    name: str
    source: str  # the detect-secrets plugin module (or other reference) the pattern follows
    pattern: re.Pattern[str]
    group: int = 0
    valid: Callable[[str], bool] | None = None
    # the source's leading ``(?:\s|=|:|"|^)``, checked here so the pattern starts with its text
    preceded_by: str | None = None
    # Speed: a rule runs over the whole text only if one of its ``gate`` strings is in it (in
    # the lowered text if ``lower_gate``), or else only on the lines that hold a run of 24 or more
    # token characters (``on_long_runs``: shapes with no fixed text, all that long).
    gate: tuple[str, ...] = ()
    lower_gate: bool = False
    on_long_runs: bool = False


def _holds_key_material(block: str) -> bool:
    """A real key block, not prose naming its markers: a long base64 run between them."""
    return re.search(r"[A-Za-z0-9+/=]{16,}", block) is not None


def _jwt_is_formally_valid(token: str) -> bool:
    """detect-secrets' JwtTokenDetector.is_formally_valid: header and payload are base64 JSON."""
    for part in token.split(".")[:2]:
        padded = part + "=" * (-len(part) % 4)
        try:
            json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            return False
    return True


# With no END marker in sight (a window cut the block): the key's lines that follow, base64 runs
# (maybe quoted, maybe with a literal \n) and PEM headers (``Proc-Type: 4,ENCRYPTED``).
_KEY_LINES = r"(?:\s*(?:[\"']?[A-Za-z0-9+/=]{16,}[\"']?(?:\\n)?[\"']?|[A-Za-z\-]+: [^\n]*))*"

# RFC 3986 reserved and sub-delimiter characters, as in plugins/basic_auth.py
_URL_DELIMS = re.escape(":/?#[]@!$&'()*+,;=")


def _assignment(prefix: str, keyword: str, secret: str) -> re.Pattern[str]:
    """RegexBasedDetector.build_assignment_regex (plugins/base.py)."""
    return re.compile(
        r"(?:(?<=\W)|(?<=^))(?:\[|)(?:\"|'|)" + prefix + r"(?:_|-|)" + keyword
        + r"(?:\"|'|)(?:\]|)(?: *)(?:=|:|:=|=>| +|::)(?: *)(?:\"|'|)" + secret + r"(?:\"|'|)",
        re.M,
    )  # fmt: skip


_RULES: tuple[Rule, ...] = (
    # -- private keys: the whole block, and what a window cut leaves of one ----------------------
    Rule(
        "private key",
        "plugins/private_key.py",
        re.compile(
            r"-{4,5} ?BEGIN ([A-Z0-9 ]*)PRIVATE KEY(?: BLOCK)? ?-{4,5}"
            r"(?:.*?-{4,5} ?END \1PRIVATE KEY(?: BLOCK)? ?-{4,5}|" + _KEY_LINES + ")",
            re.S,
        ),
        valid=_holds_key_material,
    ),
    Rule(
        "private key (end of a block)",
        "plugins/private_key.py",
        re.compile(r"\A[A-Za-z0-9+/=\s\"'\\]*?-{4,5} ?END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}"),
        valid=_holds_key_material,
    ),
    Rule(
        "PuTTY private key",
        "plugins/private_key.py",
        re.compile(r"PuTTY-User-Key-File-\d+:(?:.*?Private-MAC: *[0-9a-fA-F]+|[^\n]*" + _KEY_LINES + ")", re.S),
        valid=_holds_key_material,
    ),
    # -- token shapes ------------------------------------------------------------------------------
    Rule("AWS access key id", "plugins/aws.py", re.compile(r"\b(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}\b"), valid=lambda v: not v.endswith("EXAMPLE")),
    Rule(
        "AWS secret access key",
        "plugins/aws.py",
        re.compile(
            r"aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?['\"]([0-9a-zA-Z/+]{40})['\"]", re.I
        ),
        1,
    ),
    Rule("Artifactory API token", "plugins/artifactory.py", re.compile(r"AKC[a-zA-Z0-9]{10,}(?=\s|\"|$)", re.M), preceded_by=" \t\n=:\""),
    Rule("Artifactory password", "plugins/artifactory.py", re.compile(r"AP[\dABCDEF][a-zA-Z0-9]{8,}(?=\s|\"|$)", re.M), preceded_by=" \t\n=:\""),
    Rule("Azure storage account key", "plugins/azure_storage_key.py", re.compile(r"AccountKey=([a-zA-Z0-9+/=]{88})"), 1),
    Rule(
        "credentials in a URL",
        "plugins/basic_auth.py",
        re.compile(rf"://[^{_URL_DELIMS}\s]*:([^{_URL_DELIMS}\s]+)@"),  # also redis://:pw@host
        1,
        valid=lambda value: not is_placeholder(value),
    ),
    Rule("Cloudant password", "plugins/cloudant.py", _assignment(r"(?:cloudant|cl|clou)", r"(?:api|)(?:key|pwd|pw|password|pass|token)", r"([0-9a-f]{64})"), 1),
    Rule("Cloudant API key", "plugins/cloudant.py", _assignment(r"(?:cloudant|cl|clou)", r"(?:api|)(?:key|pwd|pw|password|pass|token)", r"([a-z]{24})"), 1),
    Rule("Cloudant URL", "plugins/cloudant.py", re.compile(r"https?://[\w\-]+:([0-9a-f]{64}|[a-z]{24})@[\w\-]+\.cloudant\.com", re.I), 1),
    Rule("Discord bot token", "plugins/discord.py", re.compile(r"\b[MNO][a-zA-Z\d_-]{23,25}\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}")),
    Rule("GitHub token", "plugins/github_token.py", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36,}")),
    Rule("GitHub fine-grained token", "GitHub's token format (github_pat_)", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}")),
    Rule(
        "GitLab token",
        "plugins/gitlab_token.py",
        re.compile(
            r"\b(?:(?:glpat|gldt|glft|glsoat|glrt)-[A-Za-z0-9_\-]{20,50}|GR1348941[A-Za-z0-9_\-]{20,50}"
            r"|glcbt-(?:[0-9a-fA-F]{2}_)?[A-Za-z0-9_\-]{20,50}|glimt-[A-Za-z0-9_\-]{25}"
            r"|glptt-[A-Za-z0-9_\-]{40}|glagent-[A-Za-z0-9_\-]{50,1024}|gloas-[A-Za-z0-9_\-]{64})(?!\w)"
        ),
    ),
    Rule("Google API key", "gitleaks gcp-api-key (AIza...)", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    Rule(
        "IBM Cloud IAM key",
        "plugins/ibm_cloud_iam.py",
        _assignment(
            r"(?:ibm(?:_|-|)cloud(?:_|-|)iam|cloud(?:_|-|)iam|ibm(?:_|-|)cloud|ibm(?:_|-|)iam|ibm|iam|cloud|)(?:_|-|)(?:api|)",
            r"(?:key|pwd|password|pass|token)",
            r"([a-zA-Z0-9_\-]{44}(?![a-zA-Z0-9_\-]))",
        ),
        1,
    ),
    Rule(
        "IBM COS HMAC secret",
        "plugins/ibm_cos_hmac.py",
        _assignment(r"(?:(?:ibm)?[-_]?cos[-_]?(?:hmac)?|)", r"(?:secret[-_]?(?:access)?[-_]?key)", r"([a-f0-9]{48}(?![a-f0-9]))"),
        1,
    ),
    Rule("JSON web token", "plugins/jwt.py", re.compile(r"\beyJ[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+\.?[A-Za-z0-9\-_.+/=]*"), valid=_jwt_is_formally_valid),
    Rule("Mailchimp key", "plugins/mailchimp.py", re.compile(r"\b[0-9a-z]{32}-us[0-9]{1,2}\b")),
    Rule("npm token (.npmrc)", "plugins/npm.py", re.compile(r"//.+/:_authToken=\s*(npm_[^\s\"'`]+|[A-Fa-f0-9-]{36})"), 1),
    Rule("npm token", "npm's token format (npm_ + 36)", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    Rule("OpenAI key", "plugins/openai.py", re.compile(r"\bsk-[A-Za-z0-9\-_]*[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}")),
    Rule(
        "OpenAI / Anthropic key",
        "OpenAI (sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-) key formats",
        re.compile(r"\bsk-(?:(?:proj|svcacct|admin|ant)-[A-Za-z0-9_\-]{20,}|[A-Za-z0-9]{32,})"),
    ),
    Rule("PyPI token", "plugins/pypi_token.py", re.compile(r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9\-_]{70,}")),
    Rule("SendGrid key", "plugins/sendgrid.py", re.compile(r"\bSG\.[a-zA-Z0-9_\-]{22}\.[a-zA-Z0-9_\-]{43}")),
    Rule("Slack token", "plugins/slack.py", re.compile(r"\bxox(?:a|b|p|o|s|r)-(?:\d+-)+[a-z0-9]+(?:-[a-z0-9]+)*", re.I)),
    Rule("Slack webhook", "plugins/slack.py", re.compile(r"https://hooks\.slack\.com/services/(T[a-zA-Z0-9_]+/B[a-zA-Z0-9_]+/[a-zA-Z0-9_]+)", re.I), 1),
    Rule("SoftLayer key", "plugins/softlayer.py", _assignment(r"(?:softlayer|sl)(?:_|-|)(?:api|)", r"(?:key|pwd|password|pass|token)", r"([a-z0-9]{64})"), 1),
    Rule("SoftLayer URL key", "plugins/softlayer.py", re.compile(r"(?:http|https)://api.softlayer.com/soap/(?:v3|v3.1)/([a-z0-9]{64})", re.I), 1),
    Rule("Square OAuth secret", "plugins/square_oauth.py", re.compile(r"sq0csp-[0-9A-Za-z\\\-_]{43}")),
    Rule("Stripe key", "plugins/stripe.py", re.compile(r"\b(?:r|s)k_(?:live|test)_[0-9a-zA-Z]{24,}")),
    Rule("Telegram bot token", "plugins/telegram_token.py", re.compile(r"\b\d{8,10}:[0-9A-Za-z_\-]{35}(?![\w-])")),
    Rule("Twilio key", "plugins/twilio.py", re.compile(r"\b(?:AC|SK)[a-z0-9]{32}\b"), valid=lambda v: not is_placeholder(v)),
    # -- credentials by position: headers, connection strings, query parameters ---------------------
    Rule(
        "Authorization header",
        "detect-secrets KeywordDetector's idea, for HTTP credentials",
        re.compile(
            r"(?i:\b(?:proxy-)?authorization[\"']?\s*[:=,]\s*[\"']?(?:bearer|basic|token|digest|apikey|key)"
            r"\s+)([A-Za-z0-9._~+/\-]{8,}=*)"
        ),
        1,
    ),
    Rule("Bearer credential", "RFC 6750 bearer token", re.compile(r"\bBearer\s+([A-Za-z0-9._~+/\-]{20,}=*)"), 1),
    Rule(
        "connection-string secret",
        "ADO.NET / ODBC / Azure connection strings (Password=, AccountKey=, SharedAccessKey=)",
        re.compile(
            r"(?<=[;\"'`]) ?(?i:password|pwd|accountkey|sharedaccesskey|sharedsecretvalue|clientsecret)"
            r"=([^;\"'`\s(){}]+)(?=[;\"'`]|$)",
            re.M,
        ),
        1,
        valid=lambda value: not is_placeholder(value),
    ),
    Rule(
        "credential in a query string",
        "OAuth access_token / API key / signed-URL query parameters",
        re.compile(
            r"[?&](?i:access_token|id_token|refresh_token|api_?key|apikey|client_secret|password|passwd|pwd"
            r"|sig|signature|x-amz-signature|x-amz-security-token)=([^&#\s\"'`<>]+)"
        ),
        1,
        valid=lambda value: len(value) >= 4 and not is_placeholder(value),
    ),
    Rule(
        "credential-like query parameter",
        "the same, for names that are not always credentials (?key=pydoc is a search)",
        re.compile(r"[?&](?i:token|key|secret|auth)=([^&#\s\"'`<>]+)"),
        1,
        valid=lambda value: _random_enough(value) and not is_placeholder(value),
    ),
)  # fmt: skip

_LOWER = True
#: rule -> (gate strings, whether they are looked for in the lowered text)
_GATES: dict[str, tuple[tuple[str, ...], bool]] = {
    "private key": (("PRIVATE KEY",), False),
    "private key (end of a block)": (("PRIVATE KEY",), False),
    "PuTTY private key": (("PuTTY-User-Key-File",), False),
    "AWS access key id": (("A3T", "ABIA", "ACCA", "AKIA", "ASIA"), False),
    "AWS secret access key": (("aws",), _LOWER),
    "Artifactory API token": (("AKC",), False),
    "Artifactory password": (("AP",), False),
    "Azure storage account key": (("AccountKey=",), False),
    "credentials in a URL": (("://",), False),
    "Cloudant URL": (("cloudant.com",), _LOWER),
    "GitHub token": (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), False),
    "GitHub fine-grained token": (("github_pat_",), False),
    "GitLab token": (
        (
            "glpat-",
            "gldt-",
            "glft-",
            "glsoat-",
            "glrt-",
            "GR1348941",
            "glcbt-",
            "glimt-",
            "glptt-",
            "glagent-",
            "gloas-",
        ),
        False,
    ),
    "Google API key": (("AIza",), False),
    "JSON web token": (("eyJ",), False),
    "Mailchimp key": (("-us",), False),
    "npm token (.npmrc)": (("_authToken",), False),
    "npm token": (("npm_",), False),
    "OpenAI key": (("T3BlbkFJ",), False),
    "OpenAI / Anthropic key": (("sk-",), False),
    "PyPI token": (("pypi-",), False),
    "SendGrid key": (("SG.",), False),
    "Slack token": (("xox",), _LOWER),
    "Slack webhook": (("hooks.slack.com",), _LOWER),
    "SoftLayer URL key": (("softlayer",), _LOWER),
    "Square OAuth secret": (("sq0csp-",), False),
    "Stripe key": (("k_live_", "k_test_"), False),
    "Authorization header": (("authorization",), _LOWER),
    "Bearer credential": (("Bearer",), False),
    "connection-string secret": (
        (
            "password=",
            "pwd=",
            "accountkey=",
            "sharedaccesskey=",
            "sharedsecretvalue=",
            "clientsecret=",
        ),
        _LOWER,
    ),
    "credential in a query string": (
        ("token=", "key=", "secret=", "password=", "passwd=", "pwd=", "sig=", "signature="),
        _LOWER,
    ),
    "credential-like query parameter": (("token=", "key=", "secret=", "auth="), _LOWER),
}
_ON_LONG_RUNS = {
    "Cloudant password",
    "Cloudant API key",
    "Discord bot token",
    "IBM Cloud IAM key",
    "IBM COS HMAC secret",
    "SoftLayer key",
    "Telegram bot token",
    "Twilio key",
}
RULES: tuple[Rule, ...] = tuple(
    replace(rule, gate=_GATES[rule.name][0], lower_gate=_GATES[rule.name][1])
    if rule.name in _GATES
    else replace(rule, on_long_runs=rule.name in _ON_LONG_RUNS)
    for rule in _RULES
)
_LONG_RUN = re.compile(r"[A-Za-z0-9+/=_\-]{24,}")
_HINTS = ("pass", "pwd", "secret", "credential", "key", "token", "auth")


def _occurrences(text: str, words: tuple[str, ...]) -> Iterator[int]:
    """Where each word occurs (str.find: far faster than a regex alternation)."""
    for word in words:
        at = text.find(word)
        while at >= 0:
            yield at
            at = text.find(word, at + 1)


def _lines_at(text: str, starts: Iterator[int]) -> list[tuple[int, int]]:
    """The spans of the lines holding these offsets, each once, in order."""
    spans: list[tuple[int, int]] = []
    for at in starts:
        if spans and at < spans[-1][1]:
            continue
        end = text.find("\n", at)
        spans.append((text.rfind("\n", 0, at) + 1, len(text) if end < 0 else end))
    return spans


def rule_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, rule name) of every secret the rules see in ``text``, unmerged."""
    lowered = text.lower()
    long_lines: list[tuple[int, int]] | None = None
    for rule in RULES:
        if rule.on_long_runs:
            if long_lines is None:
                long_lines = _lines_at(text, (m.start() for m in _LONG_RUN.finditer(text)))
            matches: Iterable[re.Match[str]] = (
                m for start, end in long_lines for m in rule.pattern.finditer(text, start, end)
            )
        else:
            haystack = lowered if rule.lower_gate else text
            if not any(g in haystack for g in rule.gate):
                continue
            matches = rule.pattern.finditer(text)
        for match in matches:
            start, end = match.span(rule.group)
            if start == end or (rule.valid and not rule.valid(match.group(rule.group))):
                continue
            if rule.preceded_by is None or start == 0 or text[start - 1] in rule.preceded_by:
                yield start, end, rule.name
    hinted = _lines_at(text, iter(sorted(_occurrences(lowered, _HINTS))))
    for start, end in assigned_secret_spans(text, hinted):
        yield start, end, "secret-named value"


# -- values assigned to secret-sounding names ---------------------------------------------------------
#
# After detect-secrets' KeywordDetector (plugins/keyword.py): NAME = "value", NAME: "value",
# "NAME": "value", NAME := "value", NAME => "value", name == "value", and (unindented, as in .env
# files and shell) NAME=value. Stricter about names (the name must *end* in the keyword, so
# ``password_file`` or ``token_url`` are not secrets) and laxer about what counts: any name ending in
# KEY or TOKEN, whose value then has to look like key material (``cache_key = "user:1"`` stays).

_ASSIGNED = re.compile(
    r"""(?x)
    (?<![\w$])(?P<name>[A-Za-z_$@][\w$.\-]*?)           # a name, maybe dotted or kebab-case
    (?:["'`]?\]?)                                          # closing quote / bracket of a key
    (?:[ \t]*:[ \t]*[A-Za-z_][\w\[\]., |]*?[ \t]*=         # a type annotation, then =
      |[ \t]*(?::=|=>|===?|!==?|\?\?=|=|:))                # or another assignment
    [ \t]*@?
    (?P<q>["'`])(?P<value>[^"'`\n\\]*(?:\\.[^"'`\n\\]*)*)(?P=q)
    """,
)
# NAME=value unquoted, where code can't mean a variable: unindented .env, shell and Dockerfile lines
_ENV_ASSIGNED = re.compile(
    r"^(?:export |ENV |set )?(?P<name>[A-Za-z_][\w.\-]*)=(?P<value>[^\s\"'`,;()\[\]{}<>]+)[ \t]*(?:\#.*)?$",
    re.M,
)
_NAME_HINT = re.compile(r"(?i)pass|pwd|secret|credential|key|token|auth")
_STRONG = re.compile(
    r"(?ix)(?:password|passwd|passphrase|pwd|secret|credentials?|api_?key|apikey"
    r"|(?:signing|sign|encryption|encrypt|crypt|cipher|private|priv|access|auth|master|hmac|jwt"
    r"|session|client|app|service|account|db|database|license|aes|shared|subscription|consumer"
    r"|webhook|storage|admin|root|deploy|ssh|gpg|pgp|rsa|bot|oauth|bearer|refresh|personal_?access)"
    r"_?(?:key|token)|(?:db|user|admin|root|login|account|ftp|smtp|mail|email|proxy|sudo|app|api)_pass)$"
)
_WEAK = re.compile(r"(?i)(?:key|token|auth)$")
_NAME_SUFFIX = re.compile(r"(?i)(?:[_-]?(?:value|str|string|b64|base64|hex|bytes|raw|base|\d+))$")
_PLACEHOLDER = re.compile(
    r"(?ix)^(?:\$|%|\{\{|<|\*+$|x+$|\.+$|none$|null$|nil$|true$|false$|undefined$|changeme$|string$"
    r"|str$|bytes$|int$|optional$|secret$|password$|passwd$|pass$|pwd$|value$|todo$|fixme$|redacted$"
    r"|-?\d{1,9}$)"
    r"|(?-i:^[A-Z][A-Z0-9_]*$)|\$\{|\{\{|%\(|%s|\{[^{}]*\}|your[_\- ]|<redacted>"
)


def is_placeholder(value: str) -> bool:
    """A template, an environment variable's name, or a stand-in rather than a secret
    (``ACxxxxxxxxxxxxxxxx``: too few distinct characters for its length)."""
    return bool(_PLACEHOLDER.search(value)) or (len(value) >= 12 and len(set(value)) < 6)


def _random_enough(value: str) -> bool:
    """A query parameter's value that could be a credential (``?key=pydoc`` is a search)."""
    return looks_like_key_material(value) or (
        len(value) >= 8 and re.search(r"\d", value) is not None
    )


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _secret_name(name: str) -> str | None:
    """ "strong" (any real value is secret), "weak" (only key material), or None."""
    if "public" in name.lower():  # publicKeyToken, PUBLIC_KEY: public by name
        return None
    bare = _NAME_SUFFIX.sub("", name.rsplit(".", 1)[-1].lstrip("$@"))
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", bare).replace("-", "_").lower()
    if _STRONG.search(snake):
        return "strong"
    return "weak" if _WEAK.search(snake) else None


def looks_like_key_material(value: str) -> bool:
    """Random-looking: long hex, or long base64/base64url/token text mixing letters and digits."""
    if len(value) < 16 or not re.fullmatch(r"[A-Za-z0-9+/=_\-.~:]+", value):
        return False
    if re.fullmatch(r"[0-9a-fA-F]+", value):
        return len(value) >= 16 and _entropy(value) >= 2.8
    if not (re.search(r"\d", value) and re.search(r"[A-Za-z]", value)):
        return False
    has_both_cases = re.search(r"[a-z]", value) and re.search(r"[A-Z]", value)
    return bool(has_both_cases or len(value) >= 24) and _entropy(value) >= 3.5


def _entropy(text: str) -> float:
    counts = {c: text.count(c) for c in set(text)}
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# "test-secret-key", "no-password-required": words about a secret, not one
_WORDS_ABOUT_SECRETS = re.compile(r"(?i)^[a-z]+(?:[-_ ][a-z]+)+$")
_SECRET_WORD = re.compile(r"(?i)pass|secret|key|token|dummy|fake|test|example|sample")


def _assigned_value_is_secret(name: str, value: str, strength: str) -> bool:
    # prose or code between two strings ("' + access_key + '"), not a secret
    if len(value) < 4 or is_placeholder(value) or "\\" in value or re.search(r"\s", value):
        return False
    if _WORDS_ABOUT_SECRETS.match(value) and _SECRET_WORD.search(value):
        return False
    if strength == "weak":
        return looks_like_key_material(value) and not _UUID.fullmatch(value)
    return _normalise(value) not in _normalise(name)  # PASSWORD_FIELD = "password"


def assigned_secret_spans(
    text: str, lines: Iterable[tuple[int, int]] | None = None
) -> Iterator[tuple[int, int]]:
    """Spans of values assigned to secret-sounding names (see the comment above), in ``lines``
    (spans of whole lines) or in all of ``text``."""
    spans = list(lines) if lines is not None else [(0, len(text))]
    for pattern in (_ASSIGNED, _ENV_ASSIGNED):
        for match in (m for start, end in spans for m in pattern.finditer(text, start, end)):
            name = match.group("name")
            if not _NAME_HINT.search(name):
                continue
            strength = _secret_name(name)
            if strength and _assigned_value_is_secret(name, match.group("value"), strength):
                yield match.start("value"), match.end("value")
