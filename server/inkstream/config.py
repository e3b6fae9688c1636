"""Settings: one typed object, merged from four sources in one place.

Precedence, lowest to highest: defaults, environment, ``initializationOptions``, then the
``inkstream`` section of workspace configuration. The API key is never taken from workspace
configuration, so a cloned repository cannot redirect a user's key.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ApiStyle = Literal["auto", "fim", "chat"]
ProviderName = Literal["auto", "openai", "offline"]

OPENAI_BASE_URL = "https://api.openai.com/v1"  # the openai client's own default

_STYLES = ("auto", "fim", "chat")
_PROVIDERS = ("auto", "openai", "offline")


class SettingsError(ValueError):
    """A setting has a value of the wrong type or outside its allowed values."""


#: next-edit prompt formats (docs/next-edit.md); ``auto`` picks one from the model's name
NEXT_EDIT_FORMATS = ("auto", "zeta", "instinct", "sweep", "chat", "offline")


@dataclass(frozen=True)
class NextEditSettings:
    """The ``nextEdit`` setting: ``model``/``base_url`` None mean the completion ones."""

    enable: bool = True
    model: str | None = None
    base_url: str | None = None
    format: str = "auto"


@dataclass(frozen=True)
class Settings:
    provider: ProviderName = "auto"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    model: str = "gpt-4o-mini"
    api_style: ApiStyle = "auto"
    fim_template: str = "auto"
    max_tokens: int = 256
    explain_max_tokens: int = 1024
    temperature: float = 0.2
    first_token_timeout: float = 15.0
    idle_timeout: float = 10.0
    connect_timeout: float = 5.0
    type_through: bool = True
    debounce_min: float = 0.075
    debounce_max: float = 0.5
    enable: Mapping[str, bool] = field(default_factory=lambda: {"*": True})
    exclude: tuple[str, ...] = ()
    #: model name (or glob) -> (input, output) price per million tokens
    pricing: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    #: daily limits; None means no limit
    budget_daily_cost: float | None = None
    budget_daily_tokens: int | None = None
    usage_retention_days: int = 90
    #: forward proxy for the endpoint; credentials only from the environment or the user's own
    #: initializationOptions (``INKSTREAM_PROXY_USER``/``_PASSWORD``, or user:pass@ in the URL)
    proxy: str | None = field(default=None, repr=False)
    #: PEM bundle trusted in addition to the system's certificate authorities
    ca_file: str | None = None
    next_edit: NextEditSettings = field(default_factory=NextEditSettings)

    @property
    def resolved_provider(self) -> Literal["openai", "offline"]:
        """``auto`` means offline until the user points inkstream at an endpoint or gives a key."""
        if self.provider != "auto":
            return self.provider
        return "openai" if (self.base_url or self.api_key) else "offline"

    @property
    def endpoint(self) -> str:
        """Where upstream requests go: the base URL, or OpenAI's when only a key is set."""
        return self.base_url or OPENAI_BASE_URL

    def enabled_for(self, language_id: str) -> bool:
        return bool(self.enable.get(language_id, self.enable.get("*", True)))

    def public_view(self) -> dict[str, Any]:
        """What may be shown to users and logs: everything but the key."""
        return {
            "provider": self.resolved_provider,
            "baseUrl": self.base_url,
            "model": self.model,
            "apiStyle": self.api_style,
        }


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_OPTIONAL_STRINGS = ("base_url", "api_key", "proxy", "ca_file")


def _check_proxy(url: str) -> None:
    scheme, sep, _rest = url.partition("://")
    if not sep or scheme not in ("http", "https"):
        shown = f"{scheme}://…" if sep else "a URL without a scheme"  # never its credentials
        raise SettingsError(f"proxy must be an http:// or https:// URL, not {shown}")


def has_credentials(url: str) -> bool:
    return "@" in url.partition("://")[2].split("/", 1)[0]


def _coerce(name: str, value: Any) -> Any:
    """Check one wire value against its field, so bad settings fail loudly and early."""
    default = _FIELDS[name].default
    if name in _OPTIONAL_STRINGS:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise SettingsError(f"{name} must be a string")
        if name == "proxy":
            _check_proxy(value)
        return value
    if name == "api_style":
        if value not in _STYLES:
            raise SettingsError(f"apiStyle must be one of {', '.join(_STYLES)}, not {value!r}")
        return value
    if name == "provider":
        if value not in _PROVIDERS:
            raise SettingsError(f"provider must be one of {', '.join(_PROVIDERS)}, not {value!r}")
        return value
    if name == "enable":
        if not isinstance(value, Mapping) or not all(isinstance(v, bool) for v in value.values()):
            raise SettingsError("enable must map language ids to true/false")
        return {"*": True, **value}
    if name == "exclude":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise SettingsError("exclude must be a list of glob strings")
        return tuple(value)
    if name == "pricing":
        return _pricing(value)
    if isinstance(default, bool) or isinstance(default, str):
        if not isinstance(value, type(default)):
            raise SettingsError(f"{name} must be a {type(default).__name__}")
        return value
    if isinstance(default, int | float):
        lowest = 0 if name.startswith("debounce") else 1e-9
        if isinstance(value, bool) or not isinstance(value, int | float) or value < lowest:
            raise SettingsError(f"{name} must be a positive number")
        return type(default)(value)
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise SettingsError(f"{what} must be a number >= 0")
    return float(value)


def _pricing(value: Any) -> dict[str, tuple[float, float]]:
    """``{"model": {"input": 0.15, "output": 0.6}}``: prices per million tokens."""
    if not isinstance(value, Mapping):
        raise SettingsError('pricing must map model names to {"input": n, "output": n}')
    out: dict[str, tuple[float, float]] = {}
    for model, price in value.items():
        if not isinstance(price, Mapping) or not {"input", "output"} <= set(price):
            raise SettingsError(f'pricing.{model} must be {{"input": n, "output": n}}')
        out[str(model)] = (
            _number(price["input"], f"pricing.{model}.input"),
            _number(price["output"], f"pricing.{model}.output"),
        )
    return out


def _budget(value: Any) -> dict[str, Any]:
    """``{"dailyCost": 2.0}`` and/or ``{"dailyTokens": 500000}``; null or {} means no limit."""
    if value is None:
        return {"budget_daily_cost": None, "budget_daily_tokens": None}
    if not isinstance(value, Mapping) or not set(value) <= {"dailyCost", "dailyTokens"}:
        raise SettingsError('budget must be {"dailyCost": n} and/or {"dailyTokens": n}')
    cost, tokens = value.get("dailyCost"), value.get("dailyTokens")
    return {
        "budget_daily_cost": None if cost is None else _number(cost, "budget.dailyCost"),
        "budget_daily_tokens": None
        if tokens is None
        else int(_number(tokens, "budget.dailyTokens")),
    }


def _next_edit(value: Any) -> dict[str, Any]:
    """``{"enable": bool, "model": str, "baseUrl": str, "format": str}``, each optional."""
    if not isinstance(value, Mapping) or not set(value) <= {"enable", "model", "baseUrl", "format"}:
        raise SettingsError('nextEdit must be {"enable", "model", "baseUrl", "format"}')
    out: dict[str, Any] = {}
    if (enable := value.get("enable")) is not None:
        if not isinstance(enable, bool):
            raise SettingsError("nextEdit.enable must be true or false")
        out["enable"] = enable
    for key, name in (("model", "model"), ("baseUrl", "base_url")):
        if key in value:
            if value[key] is not None and not isinstance(value[key], str):
                raise SettingsError(f"nextEdit.{key} must be a string")
            out[name] = value[key] or None
    if (fmt := value.get("format")) is not None:
        if fmt not in NEXT_EDIT_FORMATS:
            raise SettingsError(
                f"nextEdit.format must be one of {', '.join(NEXT_EDIT_FORMATS)}, not {fmt!r}"
            )
        out["format"] = fmt
    return out


def from_wire(values: Mapping[str, Any] | None, *, allow_key: bool) -> dict[str, Any]:
    """camelCase wire settings → validated snake_case overrides; unknown keys are ignored."""
    out: dict[str, Any] = {}
    for key, value in (values or {}).items():
        if key == "budget":
            out.update(_budget(value))
            continue
        if key == "nextEdit":
            if value is not None:
                out["next_edit"] = _next_edit(value)
            continue
        name = _snake(key)
        if (
            name not in _FIELDS
            or name.startswith("budget_")
            or (name == "api_key" and not allow_key)
        ):
            continue
        if value is None and name not in _OPTIONAL_STRINGS:
            continue
        out[name] = _coerce(name, value)
        if name == "proxy" and out[name] and not allow_key and has_credentials(out[name]):
            raise SettingsError(
                "proxy credentials are not read from workspace settings; set "
                "INKSTREAM_PROXY_USER and INKSTREAM_PROXY_PASSWORD in the environment"
            )
    return out


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    base_url = env.get("INKSTREAM_BASE_URL") or env.get("OPENAI_BASE_URL")
    api_key = env.get("INKSTREAM_API_KEY") or env.get("OPENAI_API_KEY")
    if base_url:
        out["base_url"] = base_url
    if api_key:
        out["api_key"] = api_key
    if model := env.get("INKSTREAM_MODEL"):
        out["model"] = model
    if style := env.get("INKSTREAM_API_STYLE"):
        out["api_style"] = _coerce("api_style", style)
    if provider := env.get("INKSTREAM_PROVIDER"):
        out["provider"] = _coerce("provider", provider)
    if proxy := env.get("INKSTREAM_PROXY"):
        out["proxy"] = _coerce("proxy", proxy)
    if ca_file := env.get("INKSTREAM_CA_FILE"):
        out["ca_file"] = ca_file
    return out


def merge(
    env: Mapping[str, str],
    init_options: Mapping[str, Any] | None = None,
    workspace: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from every source; raises SettingsError on a bad value."""
    values: dict[str, Any] = {}
    next_edit: dict[str, Any] = {}  # merged key by key: a workspace may set only the model
    for source in (
        from_env(env),
        from_wire(init_options, allow_key=True),
        from_wire(workspace, allow_key=False),
    ):
        next_edit.update(source.pop("next_edit", {}))
        values.update(source)
    return Settings(**values, next_edit=NextEditSettings(**next_edit))
