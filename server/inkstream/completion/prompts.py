"""What the model sees: FIM prompts per model family, a chat hole-filler, and explain prompts.

Pure: no I/O, nothing downloaded. Token counts are estimated locally (about 4 characters per token
for code), which is all a budget needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from inkstream.completion.context import CompletionContext, ExplainRequest


@dataclass(frozen=True)
class FimPrompt:
    """``suffix`` is None when the template was applied here; else the server applies its own."""

    prompt: str
    suffix: str | None
    stop: tuple[str, ...]
    template: str


@dataclass(frozen=True)
class ChatPrompt:
    messages: tuple[dict[str, str], ...]
    stop: tuple[str, ...]


@dataclass(frozen=True)
class FimTemplate:
    """A family's FIM layout: ``{prefix}``, ``{suffix}``, optionally ``{path}``, ``{language}``."""

    layout: str
    stop: tuple[str, ...]  # at most 4: vLLM rejects more
    file_header: str = ""  # for the repository form, when other files are included


TEMPLATES: dict[str, FimTemplate] = {
    "starcoder": FimTemplate(
        "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
        ("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<file_sep>"),
    ),
    "starcoder2": FimTemplate(
        "<file_sep>{path}\n<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
        ("<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_suffix>"),
        file_header="<file_sep>{path}\n{text}",
    ),
    "codellama": FimTemplate(
        "<PRE> {prefix} <SUF>{suffix} <MID>",
        ("<EOT>", "<PRE>", "<SUF>", "<MID>"),
    ),
    "deepseek": FimTemplate(
        "<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",
        ("<｜end▁of▁sentence｜>", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
    ),
    "qwen": FimTemplate(
        "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        ("<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|im_end|>"),
        file_header="<|file_sep|>{path}\n{text}",
    ),
    "codestral": FimTemplate("[SUFFIX]{suffix}[PREFIX]{prefix}", ("</s>", "[PREFIX]", "[SUFFIX]")),
    "codegemma": FimTemplate(
        "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        ("<|file_separator|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    ),
    "granite": FimTemplate(
        "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
        ("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
    ),
}

# model-name fragments -> family, most specific first
_FAMILY_BY_NAME: tuple[tuple[str, str], ...] = (
    ("starcoder2", "starcoder2"),
    ("starcoder", "starcoder"),
    ("santacoder", "starcoder"),
    ("codellama", "codellama"),
    ("code-llama", "codellama"),
    ("deepseek-coder", "deepseek"),
    ("deepseek_coder", "deepseek"),
    ("qwen2.5-coder", "qwen"),
    ("qwen2-5-coder", "qwen"),
    ("qwen2.5_coder", "qwen"),
    ("qwen3-coder", "qwen"),
    ("codestral", "codestral"),
    ("codegemma", "codegemma"),
    ("granite", "granite"),
)

CHARS_PER_TOKEN = 4
HOLE = "<|CURSOR|>"

CHAT_SYSTEM = (
    "You are a code completion engine. You receive a file with the marker "
    f"{HOLE} where the cursor is. Reply with only the code that belongs at the marker: no "
    "explanations, no Markdown code fences, and do not repeat the code before or after the "
    "marker. If nothing belongs there, reply with nothing."
)

EXPLAIN_SYSTEM = (
    "You explain code to a programmer in their editor. Be concise and concrete: what the code "
    "does, its inputs and outputs, side effects, and anything surprising. Use Markdown."
)


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def resolve_template(model: str, fim_template: str) -> str:
    """A family name, ``"server"`` (the endpoint applies its own template) or ``"custom"``."""
    if fim_template in TEMPLATES or fim_template == "server":
        return fim_template
    if fim_template != "auto":
        return "custom"
    name = model.lower()
    for fragment, family in _FAMILY_BY_NAME:
        if fragment in name:
            return family
    return "server"


FimRoute = Literal["server", "template"]
Route = Literal["server", "template", "chat"]
ROUTES: tuple[Route, ...] = get_args(Route)


def fim_routes(model: str, fim_template: str, base_url: str) -> tuple[FimRoute, ...]:
    """The ways to ask an endpoint for FIM, best first (then chat): ``template`` (a prompt
    written here, exact for a known family, and the only FIM vLLM takes) or ``server``
    (``/v1/completions`` with ``suffix``, the server applying its own template). Ollama is the
    exception: it wraps a raw prompt in an instruct model's chat template, so ``suffix`` first."""
    family = resolve_template(model, fim_template)
    if family == "server":
        return ("server",)
    if fim_template != "auto":
        return ("template",)
    if looks_like_ollama(model, base_url):
        return ("server", "template")
    return ("template",)


def looks_like_ollama(model: str, base_url: str) -> bool:
    """Ollama's model names carry a tag (``qwen2.5-coder:1.5b``); its port is 11434."""
    return ":11434" in base_url or (":" in model and "/" not in model)


def fit_window(prefix: str, suffix: str, budget_tokens: int) -> tuple[str, str]:
    """Keep the end of the prefix and the start of the suffix, cut at line boundaries.

    About three quarters of the budget goes to the prefix; what the suffix leaves unused goes back
    to the prefix.
    """
    budget = budget_tokens * CHARS_PER_TOKEN
    suffix_budget = min(len(suffix), budget // 4)
    prefix_budget = budget - suffix_budget
    if len(prefix) > prefix_budget:
        cut = prefix[len(prefix) - prefix_budget :]
        newline = cut.find("\n")
        prefix = cut[newline + 1 :] if 0 <= newline < len(cut) - 1 else cut
    if len(suffix) > suffix_budget:
        cut = suffix[:suffix_budget]
        newline = cut.rfind("\n")
        suffix = cut[: newline + 1] if newline > 0 else cut
    return prefix, suffix


def build_fim_prompt(
    ctx: CompletionContext, *, model: str, fim_template: str = "auto", budget_tokens: int = 1500
) -> FimPrompt:
    family = resolve_template(model, fim_template)
    snippet_text = "".join(s.text for s in ctx.snippets)
    own_budget = max(budget_tokens // 2, budget_tokens - estimate_tokens(snippet_text))
    prefix, suffix = fit_window(ctx.prefix, ctx.suffix, own_budget)
    if family == "server":
        others = snippets_as_comments(ctx)
        return FimPrompt(prompt=others + prefix, suffix=suffix, stop=(), template="server")
    stop: tuple[str, ...]
    if family == "custom":
        layout, stop, header = fim_template, (), ""
    else:
        t = TEMPLATES[family]
        layout, stop, header = t.layout, t.stop, t.file_header
    prompt = _fill(layout, prefix=prefix, suffix=suffix, path=ctx.path, language=ctx.language_id)
    if header and ctx.snippets:
        others = "".join(
            header.replace("{path}", s.path).replace("{text}", s.text.rstrip("\n") + "\n")
            for s in ctx.snippets
        )
        prompt = others + prompt
    return FimPrompt(prompt=prompt, suffix=None, stop=stop, template=family)


_HASH_COMMENTED = {
    "python", "ruby", "shellscript", "bash", "sh", "perl", "r", "yaml", "toml", "dockerfile",
    "makefile", "elixir", "julia", "powershell", "coffeescript", "nim",
}  # fmt: skip
_DASH_COMMENTED = {"sql", "lua", "haskell", "elm", "ada"}
_NOT_COMMENTABLE = {"json", "markdown", "plaintext", "html", "css", "xml", "csv"}


def line_comment(language: str) -> str | None:
    """The language's line-comment mark; None where there is none to rely on."""
    if language in _NOT_COMMENTABLE:
        return None
    if language in _HASH_COMMENTED:
        return "#"
    return "--" if language in _DASH_COMMENTED else "//"


def snippets_as_comments(ctx: CompletionContext) -> str:
    """Other files' code for a server that applies its own template: no file-separator token
    can be sent, so the snippets go before the prefix as comments, each under its path."""
    mark = line_comment(ctx.language_id)
    if mark is None or not ctx.snippets:
        return ""
    lines: list[str] = []
    for snippet in ctx.snippets:
        lines.append(f"{mark} Path: {snippet.path}")
        lines.extend(f"{mark} {line}".rstrip() for line in snippet.text.rstrip("\n").split("\n"))
    return "\n".join(lines) + "\n\n"


def _fill(layout: str, **values: str) -> str:
    # not str.format: code is full of braces
    return re.sub(r"\{(prefix|suffix|path|language)\}", lambda m: values[m.group(1)], layout)


def build_chat_prompt(ctx: CompletionContext, *, budget_tokens: int = 1500) -> ChatPrompt:
    prefix, suffix = fit_window(ctx.prefix, ctx.suffix, budget_tokens)
    parts = []
    if ctx.snippets:
        parts.append("Related code from other files, for reference:\n")
        for s in ctx.snippets:
            parts.append(f"--- {s.path}\n{s.text.rstrip()}\n")
        parts.append("\n")
    language = ctx.language_id
    parts.append(f"File: {ctx.path} ({language})\n")
    parts.append(f"```{language}\n{prefix}{HOLE}{suffix}\n```\n")
    line = ctx.line_prefix
    if ctx.line_suffix.strip():
        parts.append(f"Complete only the rest of the line at {HOLE}.")
    else:
        parts.append(f"Write the code that goes at {HOLE}.")
    if line.strip():
        parts.append(" Do not repeat the text before the marker on its line.")
    messages = (
        {"role": "system", "content": CHAT_SYSTEM},
        {"role": "user", "content": "".join(parts)},
    )
    return ChatPrompt(messages=messages, stop=())


def build_explain_prompt(req: ExplainRequest, *, budget_tokens: int = 3000) -> ChatPrompt:
    code_budget = budget_tokens * CHARS_PER_TOKEN
    code = req.code if len(req.code) <= code_budget else req.code[:code_budget] + "\n…"
    context = ""
    room = code_budget - len(code)
    if room > 400 and req.full_text != req.code:
        start = req.full_text.find(req.code)
        before = req.full_text[:start] if start >= 0 else ""
        after = req.full_text[start + len(req.code) :] if start >= 0 else ""
        before, after = fit_window(before, after, room // CHARS_PER_TOKEN)
        if before.strip() or after.strip():
            context = (
                f"\n\nSurrounding code, for context only:\n```{req.language_id}\n{before}"
                f"<<< the code above goes here >>>\n{after}\n```"
            )
    user = (
        f"Explain this code from {req.path} (line {req.start_line + 1}):\n"
        f"```{req.language_id}\n{code}\n```{context}"
    )
    messages = ({"role": "system", "content": EXPLAIN_SYSTEM}, {"role": "user", "content": user})
    return ChatPrompt(messages=messages, stop=())
