"""Fake secrets of the shapes detect-secrets flags, written the ways code holds them.

Every value is made up, and built here by concatenation so that no literal in the repository looks
like a live credential to a push-protection scanner. ``SAMPLES`` are the twenty of issue 20 §6:
the eleven that reached the model before, then the seven (and the two) that were redacted already.
"""

# ruff: noqa: E501  (a table of sample lines)

from __future__ import annotations

import base64
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class SecretSample:
    name: str
    secret: str  # the value that must never go upstream
    line: str  # a line of code holding it
    kept: str  # code on that line the model should still see


def _b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _repeat(alphabet: str, n: int) -> str:
    return (alphabet * (n // len(alphabet) + 1))[:n]


_HEX = "3f9a2b7c1d8e4f60"
_ALNUM = "Zq7Xv2Lm9Pw4Rt6Yb8Nc3Kd5Hf1Gs0Ja"
_LOWER = "k3x9p2m7q4v8w1z6"

AZURE_KEY = _repeat("Yk8vQ2mZ4pW7rT1x", 86) + "=="
DB_PASSWORD = "Qz7vT2mW" + "p9Lx4"
DISCORD = (
    "MTk4NjIyNDgzNDcxOTI1MjQ4" + "." + "Cl2FMQ" + "." + _repeat("ZnCjm1XVW7vRze4b7Cq4se7kKWs", 27)
)
TELEGRAM = "5432109876" + ":" + "AAH" + _repeat("dqTcvCH1vGWJxfSeofSAs0K5PALDsaw", 32)
TWILIO = "AC" + _repeat("e1b2c3d4f5a6b7c8", 32)
SENDGRID = (
    "SG."
    + _repeat("ngeVfQFYQlKU0ufo8x5d1A", 22)
    + "."
    + _repeat("TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr", 43)
)
MAILCHIMP = _repeat("9f8e7d6c5b4a3210", 32) + "-us14"
NPM = "npm_" + _repeat(_ALNUM, 36)
PYPI = "pypi-" + "AgEIcHlwaS5vcmc" + _repeat("CJDhhNDJiNWQ2LTRkMWMtNGFkYi1iMzQ0", 80)
SLACK_WEBHOOK = "T0123ABCD/B0456EFGH/" + _repeat("Xq3Lm8Vz2Wp7Rt4Yb9Nc", 24)
SIGNING_KEY = _repeat(_HEX, 64)
GITHUB = "ghp" + "_" + _repeat(_ALNUM, 36)
GITLAB = "glpat" + "-" + _repeat("xR4mZ9qL2vT8wP1nK6yB", 20)
AWS = "AKIA" + "Q3X7M2P9W4Z6R8T1"
STRIPE = "sk_" + "live_" + _repeat("4eC39HqLyjWDarjtT1zdp7dc", 24)
SLACK_BOT = "xoxb-" + "123456789012-1234567890123-" + _repeat(_LOWER, 24)
JWT = (
    _b64url({"alg": "HS256", "typ": "JWT"})
    + "."
    + _b64url({"sub": "1234567890", "name": "Ink Stream", "iat": 1516239022})
    + "."
    + _repeat("SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", 43)
)
PASSWORD = "hunter2" + "-staging-7Q"
BEARER = _repeat("7f3c9a1e5b8d2046e1a9c7f3b5d8e2a4", 40)
PRIVATE_KEY_BODY = _repeat("MIIEowIBAAKCAQEAv5Yq3mJ8pZx2Lw7tR4nK", 64)
PRIVATE_KEY = (
    "-----BEGIN RSA " + "PRIVATE KEY-----\n"
    + PRIVATE_KEY_BODY + "\n"
    + _repeat("hT9vB2cX6mQ1wE4rY7uI0oP3aS5dF8gJ", 64) + "\n"
    + "-----END RSA " + "PRIVATE KEY-----"
)  # fmt: skip

SAMPLES: tuple[SecretSample, ...] = (
    # the eleven that reached the model
    SecretSample(
        "Azure storage account key",
        AZURE_KEY,
        'STORAGE = "DefaultEndpointsProtocol=https;AccountName=inkdemo;AccountKey='
        + AZURE_KEY
        + ';EndpointSuffix=core.windows.net"',
        "AccountName=inkdemo;AccountKey=",
    ),
    SecretSample(
        "password in a database URL",
        DB_PASSWORD,
        'engine = create_engine("postgresql://orders_app:' + DB_PASSWORD + '@db.internal:5432/orders")',
        'engine = create_engine("postgresql://orders_app:',
    ),
    SecretSample(
        "Discord bot token",
        DISCORD,
        'bot.run("' + DISCORD + '", reconnect=True)',
        "reconnect=True",
    ),
    SecretSample(
        "Telegram bot token",
        TELEGRAM,
        'telegram = TelegramBot("' + TELEGRAM + '")',
        "telegram = TelegramBot(",
    ),
    SecretSample(
        "Twilio account SID",
        TWILIO,
        'sms = TwilioClient("' + TWILIO + '", region="ie1")',
        'region="ie1"',
    ),
    SecretSample(
        "SendGrid key",
        SENDGRID,
        'mailer = SendGridAPIClient("' + SENDGRID + '")',
        "mailer = SendGridAPIClient(",
    ),
    SecretSample(
        "Mailchimp key",
        MAILCHIMP,
        'marketing = MailchimpMarketing(api="' + MAILCHIMP + '")',
        "marketing = MailchimpMarketing(",
    ),
    SecretSample(
        "npm token",
        NPM,
        'NPMRC = "//registry.npmjs.org/:_authToken=' + NPM + '"',
        "//registry.npmjs.org/:_authToken=",
    ),
    SecretSample(
        "PyPI token",
        PYPI,
        'upload = PackageIndex("__token__", "' + PYPI + '")',
        'upload = PackageIndex("__token__", ',
    ),
    SecretSample(
        "Slack webhook URL",
        SLACK_WEBHOOK,
        'ALERTS_WEBHOOK = "https://hooks.slack.com/services/' + SLACK_WEBHOOK + '"',
        "https://hooks.slack.com/services/",
    ),
    SecretSample(
        "hex signing key",
        SIGNING_KEY,
        'SIGNING_KEY = "' + SIGNING_KEY + '"',
        "SIGNING_KEY = ",
    ),
    # the seven that were redacted already
    SecretSample("GitHub token", GITHUB, 'gh = Github("' + GITHUB + '")', "gh = Github("),
    SecretSample("GitLab token", GITLAB, 'gl = gitlab.Gitlab(private_token="' + GITLAB + '")', "gl = gitlab.Gitlab("),
    SecretSample("AWS access key id", AWS, 's3 = boto3.client("s3", aws_access_key_id="' + AWS + '")', 'boto3.client("s3"'),
    SecretSample("Stripe key", STRIPE, 'stripe.api_key = "' + STRIPE + '"', "stripe.api_key = "),
    SecretSample("Slack bot token", SLACK_BOT, 'slack = WebClient(token="' + SLACK_BOT + '")', "slack = WebClient("),
    SecretSample("JSON web token", JWT, 'session.cookies.set("jwt", "' + JWT + '")', 'session.cookies.set("jwt", '),
    SecretSample("password assignment", PASSWORD, 'password = "' + PASSWORD + '"', "password = "),
    # and the other two
    SecretSample(
        "Authorization header",
        BEARER,
        'HEADERS = {"Authorization": "Bearer ' + BEARER + '", "Accept": "application/json"}',
        '"Accept": "application/json"',
    ),
    SecretSample(
        "private key block",
        PRIVATE_KEY_BODY,
        'DEPLOY_KEY = """' + PRIVATE_KEY + '"""',
        "DEPLOY_KEY = ",
    ),
)  # fmt: skip
