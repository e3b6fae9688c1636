"""A structural explanation without an LLM: what the syntax tree says the code does.

Python gets a walk over ``ast``: what the code defines, takes, returns, calls and raises, and its
loops and branches. Other languages get an outline from patterns. Every explanation says plainly
that it comes from the offline model, and how to use an LLM instead.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

NOTICE = (
    "_This is inkstream's offline model: a structural summary, not an LLM. To get real "
    "explanations, set `INKSTREAM_BASE_URL`, `INKSTREAM_MODEL` (and `INKSTREAM_API_KEY` if "
    "needed), or the endpoint in your editor's inkstream settings._"
)


def explain(code: str, language: str) -> str:
    body = _explain_python(code) if language == "python" else None
    if body is None:
        body = _outline(code, language)
    return f"{body.rstrip()}\n\n{NOTICE}\n"


def _explain_python(code: str) -> str | None:
    source = _dedent(code)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        try:
            tree = ast.parse(_give_empty_blocks_a_body(source))
        except SyntaxError:
            return None
    parts: list[str] = []
    top = [
        n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    for node in top:
        parts.append(_describe_definition(node))
    rest = [n for n in tree.body if n not in top]
    if rest:
        module = ast.Module(body=rest, type_ignores=[])
        parts.append("### Top-level code\n" + _describe_body(module))
    if not parts:
        return "The selection holds no statements."
    return "\n\n".join(parts)


def _give_empty_blocks_a_body(source: str) -> str:
    """Code being written often has a block with no body yet; ``pass`` lets it parse."""
    lines = source.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        if not line.rstrip().endswith(":"):
            continue
        indent = len(line) - len(line.lstrip())
        following = next((x for x in lines[i + 1 :] if x.strip()), None)
        if following is None or len(following) - len(following.lstrip()) <= indent:
            out.append(" " * (indent + 4) + "pass")
    return "\n".join(out) + "\n"


def _dedent(code: str) -> str:
    lines = code.splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in lines)


def _describe_definition(node: ast.AST) -> str:
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in node.bases) or "object"
        lines = [f"### Class `{node.name}` (based on {bases})"]
        if doc := ast.get_docstring(node):
            lines.append(f"> {doc.splitlines()[0]}")
        methods = [n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        if methods:
            lines.append("Methods: " + ", ".join(f"`{m.name}()`" for m in methods) + ".")
        for method in methods:
            lines.append("")
            lines.append(_describe_definition(method).replace("### ", "#### ", 1))
        return "\n".join(lines)
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    kind = "Async function" if isinstance(node, ast.AsyncFunctionDef) else "Function"
    lines = [f"### {kind} `{node.name}`"]
    if doc := ast.get_docstring(node):
        lines.append(f"> {doc.splitlines()[0]}")
    params = _parameters(node.args)
    lines.append(f"- **Takes:** {params}." if params else "- **Takes:** no arguments.")
    returns = [r for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None]
    if node.returns is not None:
        lines.append(f"- **Returns:** `{ast.unparse(node.returns)}` (annotated).")
    elif returns:
        shown = ", ".join(f"`{ast.unparse(r.value)}`" for r in returns[:3] if r.value)
        lines.append(f"- **Returns:** {shown}.")
    else:
        lines.append("- **Returns:** nothing (`None`).")
    lines.append(_describe_body(node))
    for decorator in node.decorator_list:
        lines.append(f"- Decorated with `@{ast.unparse(decorator)}`.")
    return "\n".join(line for line in lines if line)


def _parameters(args: ast.arguments) -> str:
    out = []
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults, strict=True):
        out.append(_param(arg, default))
    if args.vararg:
        out.append(f"`*{args.vararg.arg}`")
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        out.append(_param(arg, kw_default))
    if args.kwarg:
        out.append(f"`**{args.kwarg.arg}`")
    return ", ".join(out)


def _param(arg: ast.arg, default: ast.expr | None) -> str:
    text = f"`{arg.arg}`"
    if arg.annotation is not None:
        text += f" ({ast.unparse(arg.annotation)})"
    if default is not None:
        text += f", default `{ast.unparse(default)}`"
    return text


def _describe_body(node: ast.AST) -> str:
    calls: Counter[str] = Counter()
    raises: list[str] = []
    loops = branches = handlers = 0
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            calls[ast.unparse(child.func)] += 1
        elif isinstance(child, ast.Raise) and child.exc is not None:
            raises.append(
                ast.unparse(child.exc.func if isinstance(child.exc, ast.Call) else child.exc)
            )
        elif isinstance(child, ast.For | ast.AsyncFor | ast.While | ast.comprehension):
            loops += 1
        elif isinstance(child, ast.If | ast.IfExp | ast.Match):
            branches += 1
        elif isinstance(child, ast.ExceptHandler):
            handlers += 1
    lines = []
    if calls:
        names = ", ".join(f"`{name}()`" for name, _ in calls.most_common(8))
        lines.append(f"- **Calls:** {names}.")
    if raises:
        lines.append("- **Raises:** " + ", ".join(f"`{r}`" for r in dict.fromkeys(raises)) + ".")
    flow = []
    if loops:
        flow.append(f"{loops} loop{'s' * (loops > 1)}")
    if branches:
        flow.append(f"{branches} branch{'es' * (branches > 1)}")
    if handlers:
        flow.append(f"{handlers} exception handler{'s' * (handlers > 1)}")
    if flow:
        lines.append("- **Control flow:** " + ", ".join(flow) + ".")
    return "\n".join(lines)


_DEFINITION = re.compile(
    r"^\s*(?:export\s+)?(?:public\s+|private\s+|protected\s+|static\s+|async\s+|pub\s+)*"
    r"(function|func|fn|def|class|struct|interface|enum|impl|trait|type|const|let|var)\s+([\w$]+)",
    re.M,
)
_CONTROL = re.compile(r"\b(if|else|for|while|switch|case|match|try|catch|return|throw)\b")


def _outline(code: str, language: str) -> str:
    lines = code.splitlines()
    definitions = _DEFINITION.findall(code)
    control = Counter(_CONTROL.findall(code))
    comments = [
        line.strip().lstrip("/#*- ").strip()
        for line in lines
        if line.strip().startswith(("//", "#", "/*", "*", "--")) and len(line.strip()) > 3
    ]
    parts = [f"### Outline ({language}, {len(lines)} lines)"]
    if definitions:
        parts.append(
            "Defines: " + ", ".join(f"{kind} `{name}`" for kind, name in definitions[:12]) + "."
        )
    if control:
        parts.append(
            "Control flow: " + ", ".join(f"`{k}` ×{v}" for k, v in control.most_common()) + "."
        )
    if comments:
        parts.append("Comments say: " + "; ".join(comments[:4]) + ".")
    if len(parts) == 1:
        parts.append("No definitions or control flow found.")
    return "\n\n".join(parts)
