"""A structural explanation without an LLM: what the syntax tree says the code does.

Python gets a walk over ``ast``: what the code defines (with signatures), takes, returns, yields,
calls, raises, imports, its loops, branches and handlers, and the first line of each docstring.
Other languages (and Python that does not parse) get an outline from patterns: definitions,
imports, calls, control keywords, comments, and line counts. Markdown; every explanation ends by
saying plainly that it comes from the offline model, and how to use an LLM instead.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterable

NOTICE = (
    "_This is inkstream's offline model: a structural summary, not an LLM. To get real "
    "explanations, set `INKSTREAM_BASE_URL`, `INKSTREAM_MODEL` (and `INKSTREAM_API_KEY` if "
    "needed), or the endpoint in your editor's inkstream settings._"
)
MAX_NAMES = 10  # calls, imports, ... listed per item

_Function = ast.FunctionDef | ast.AsyncFunctionDef


def explain(code: str, language: str) -> str:
    body = _explain_python(code) if language == "python" else None
    if body is None:
        body = _outline(code, language)
    return f"{body.rstrip()}\n\n{NOTICE}\n"


# -- Python ----------------------------------------------------------------------------------


def _explain_python(code: str) -> str | None:
    tree = _parse(code)
    if tree is None:
        return None
    parts: list[str] = []
    if doc := ast.get_docstring(tree):
        parts.append(f"> {_summary(doc)}")
    imports = _imports(tree.body)
    if imports:
        parts.append("**Imports:** " + _names(imports) + ".")
    definitions = [n for n in tree.body if isinstance(n, _Function | ast.ClassDef)]
    for node in definitions:
        parts.append(_describe_definition(node, level=3))
    rest = [
        n
        for n in tree.body
        if n not in definitions
        and not isinstance(n, ast.Import | ast.ImportFrom)
        and not _is_docstring(n)
    ]
    if rest:
        title = "### The selected statements" if definitions else "### What the code does"
        parts.append(title + "\n" + _describe_statements(rest))
    if not parts:
        return "The selection holds no code, only comments or blank lines."
    return "\n\n".join(parts)


def _parse(code: str) -> ast.Module | None:
    source = _dedent(code)
    for attempt in (source, _give_empty_blocks_a_body(source)):
        try:
            return ast.parse(attempt)
        except (SyntaxError, ValueError):
            continue
    return None


def _dedent(code: str) -> str:
    """A selection from inside a block is indented: shift it left so it parses."""
    lines = code.splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in lines)


def _give_empty_blocks_a_body(source: str) -> str:
    """Code being written often has a block with no body yet; ``pass`` lets it parse."""
    lines = source.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        if not line.split("#", 1)[0].rstrip().endswith(":"):
            continue
        indent = len(line) - len(line.lstrip())
        following = next((x for x in lines[i + 1 :] if x.strip()), None)
        if following is None or len(following) - len(following.lstrip()) <= indent:
            out.append(" " * (indent + 4) + "pass")
    return "\n".join(out) + "\n"


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _summary(doc: str) -> str:
    return doc.strip().splitlines()[0].strip() if doc.strip() else ""


def _names(names: Iterable[str], limit: int = MAX_NAMES) -> str:
    unique = list(dict.fromkeys(names))
    shown = ", ".join(f"`{n}`" for n in unique[:limit])
    return shown + (f" and {len(unique) - limit} more" if len(unique) > limit else "")


def _imports(nodes: Iterable[ast.AST]) -> list[str]:
    found: list[str] = []
    for node in nodes:
        for child in ast.walk(node):
            if isinstance(child, ast.Import):
                found.extend(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                module = "." * child.level + (child.module or "")
                found.extend(f"{module}.{alias.name}".lstrip(".") for alias in child.names)
    return found


def signature(node: _Function) -> str:
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){returns}"


def _describe_definition(node: _Function | ast.ClassDef, level: int) -> str:
    hashes = "#" * level
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in node.bases)
        lines = [f"{hashes} Class `{node.name}`" + (f" (based on `{bases}`)" if bases else "")]
        if doc := ast.get_docstring(node):
            lines.append(f"> {_summary(doc)}")
        lines.extend(f"- Decorated with `@{ast.unparse(d)}`." for d in node.decorator_list)
        fields = _class_fields(node)
        if fields:
            lines.append("- **Attributes:** " + _names(fields) + ".")
        methods = [n for n in node.body if isinstance(n, _Function)]
        if methods:
            lines.append("- **Methods:** " + _names(f"{m.name}()" for m in methods) + ".")
        for method in methods:
            lines.append("")
            lines.append(_describe_definition(method, level=min(level + 1, 6)))
        return "\n".join(lines)
    kind = "Async function" if isinstance(node, ast.AsyncFunctionDef) else "Function"
    lines = [f"{hashes} {kind} `{node.name}`", f"`{signature(node)}`"]
    if doc := ast.get_docstring(node):
        lines.append(f"> {_summary(doc)}")
    lines.extend(f"- Decorated with `@{ast.unparse(d)}`." for d in node.decorator_list)
    params = _parameters(node.args)
    first = (node.args.posonlyargs + node.args.args)[:1]
    bound = f" besides `{first[0].arg}`" if first and first[0].arg in ("self", "cls") else ""
    lines.append(f"- **Takes:** {params}." if params else f"- **Takes:** no arguments{bound}.")
    lines.append(_returns(node))
    lines.append(_describe_statements(node.body))
    return "\n".join(line for line in lines if line)


def _class_fields(node: ast.ClassDef) -> list[str]:
    fields = []
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            fields.append(f"{statement.target.id}: {ast.unparse(statement.annotation)}")
        elif isinstance(statement, ast.Assign):
            fields.extend(t.id for t in statement.targets if isinstance(t, ast.Name))
    return fields


def _parameters(args: ast.arguments) -> str:
    out = []
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += args.defaults
    for arg, default in zip(positional, defaults, strict=True):
        if arg.arg not in ("self", "cls") or arg.annotation is not None:
            out.append(_param(arg, default))
    if args.vararg:
        out.append(_param(args.vararg, None, "*") + " (any number of extra positional arguments)")
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        out.append(_param(arg, kw_default) + " (keyword only)")
    if args.kwarg:
        out.append(_param(args.kwarg, None, "**") + " (any extra keyword arguments)")
    return ", ".join(out)


def _param(arg: ast.arg, default: ast.expr | None, stars: str = "") -> str:
    text = f"`{stars}{arg.arg}`"
    if arg.annotation is not None:
        text += f" (`{ast.unparse(arg.annotation)}`)"
    if default is not None:
        text += f", default `{ast.unparse(default)}`"
    return text


def _own_nodes(body: list[ast.stmt]) -> Iterable[ast.AST]:
    """The nodes of ``body``, not looking into nested functions and classes (their returns,
    raises and calls are theirs)."""
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _Function | ast.ClassDef | ast.Lambda):
                todo.append(child)


def _returns(node: _Function) -> str:
    nodes = list(_own_nodes(node.body))
    if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in nodes):
        yields = [
            ast.unparse(n.value)
            for n in nodes
            if isinstance(n, ast.Yield | ast.YieldFrom) and n.value is not None
        ]
        what = f" ({_names(yields, 3)})" if yields else ""
        return f"- **Yields** values{what}: it is a generator."
    values = [
        ast.unparse(n.value) for n in nodes if isinstance(n, ast.Return) and n.value is not None
    ]
    if node.returns is not None:
        shown = f", e.g. {_names(values, 3)}" if values else ""
        return f"- **Returns:** `{ast.unparse(node.returns)}`{shown}."
    if values:
        return f"- **Returns:** {_names(values, 3)}."
    return "- **Returns:** nothing (`None`)."


def _describe_statements(body: list[ast.stmt]) -> str:
    calls: Counter[str] = Counter()
    raises: list[str] = []
    caught: list[str] = []
    assigned: list[str] = []
    awaits = loops = branches = handlers = contexts = 0
    reraises = False
    nodes = list(_own_nodes(body))
    for child in reversed(nodes):  # source order, roughly
        if isinstance(child, ast.Call):
            calls[ast.unparse(child.func)] += 1
        elif isinstance(child, ast.Raise):
            if child.exc is None:
                reraises = True
            else:
                exc = child.exc.func if isinstance(child.exc, ast.Call) else child.exc
                raises.append(ast.unparse(exc))
        elif isinstance(child, ast.For | ast.AsyncFor | ast.While | ast.comprehension):
            loops += 1
        elif isinstance(child, ast.If | ast.IfExp | ast.Match):
            branches += 1
        elif isinstance(child, ast.ExceptHandler):
            handlers += 1
            if child.type is not None:
                caught.append(ast.unparse(child.type))
        elif isinstance(child, ast.With | ast.AsyncWith):
            contexts += 1
        elif isinstance(child, ast.Await):
            awaits += 1
    for statement in body:
        if isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            assigned.extend(ast.unparse(t) for t in targets)
    lines = []
    if assigned:
        lines.append("- **Sets:** " + _names(assigned) + ".")
    for raised in raises:  # ``raise KeyError(key)`` is a raise, not a call worth listing
        calls.pop(raised, None)
    if calls:
        lines.append("- **Calls:** " + _names(f"{name}()" for name, _ in calls.most_common()) + ".")
    if awaits:
        lines.append(f"- **Awaits** {awaits} time{'s' * (awaits > 1)}.")
    if raises or reraises:
        again = "re-raises the exception it caught"
        listed = _names(raises) + (f", and {again}" if raises and reraises else "")
        lines.append("- **Raises:** " + (listed or again) + ".")
    if caught:
        lines.append("- **Catches:** " + _names(caught) + ".")
    flow = []
    if loops:
        flow.append(f"{loops} loop{'s' * (loops > 1)}")
    if branches:
        flow.append(f"{branches} branch{'es' * (branches > 1)}")
    if handlers:
        flow.append(f"{handlers} exception handler{'s' * (handlers > 1)}")
    if contexts:
        flow.append(f"{contexts} `with` block{'s' * (contexts > 1)}")
    if flow:
        lines.append("- **Control flow:** " + ", ".join(flow) + ".")
    if not lines:
        lines.append("- No calls, loops or branches: straight-line code.")
    return "\n".join(lines)


# -- any language ------------------------------------------------------------------------------

_DEFINITION = re.compile(
    r"^[ \t]*(?:export\s+)?(?:default\s+)?(?:(?:public|private|protected|internal|static|final|"
    r"abstract|async|pub(?:\(crate\))?|override|virtual|inline|extern|unsafe|const)\s+)*"
    r"(function\*?|func|fn|def|class|struct|interface|enum|impl|trait|type|module|namespace|"
    r"record|object|sub|proc)\s+([A-Za-z_$][\w$]*)",
    re.M,
)
_ARROW = re.compile(
    r"^[ \t]*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s*)?"
    r"(?:\([^)]*\)|[A-Za-z_$][\w$]*)\s*(?::[^=]+)?=>",
    re.M,
)
_C_FUNCTION = re.compile(
    r"^[ \t]*(?:[\w:<>,*&\[\]]+\s+)+\**([A-Za-z_]\w*)\s*\([^;{}]*\)\s*(?:const\s*)?\{",
    re.M,
)
_IMPORT = re.compile(
    r"^[ \t]*(?:import\s+(?:[\w*{}\s,]+\s+from\s+)?['\"]?([\w./@-]+)|"
    r"(?:const|let|var)\s+[\w{}\s,]+=\s*require\(['\"]([\w./@-]+)['\"]\)|"
    r"#include\s*[<\"]([\w./]+)[>\"]|use\s+([\w:]+)|using\s+([\w.]+)\s*;|"
    r"from\s+([\w.]+)\s+import)",
    re.M,
)
_CONTROL = re.compile(
    r"\b(if|else|elif|for|foreach|while|do|switch|case|match|try|catch|except|finally|return|"
    r"throw|raise|yield|await|break|continue|goto|defer|go|select)\b"
)
_CALL = re.compile(r"\b([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*\(")
_NOT_CALLS = {
    "if", "for", "while", "switch", "catch", "return", "function", "func", "fn", "def",
    "sizeof", "typeof", "match", "elif", "except", "with", "print", "new", "await", "super",
}  # fmt: skip
_COMMENT_LINE = re.compile(r"^\s*(?://+|#+(?![!\[\w])|/\*+|\*+(?!/)|--+|;+)\s?(.*?)\s*(?:\*/)?$")


def _outline(code: str, language: str) -> str:
    lines = code.splitlines()
    comments = []
    comment_lines = blank = 0
    for line in lines:
        if not line.strip():
            blank += 1
        elif match := _COMMENT_LINE.match(line):
            comment_lines += 1
            if len(match.group(1)) > 3:
                comments.append(match.group(1))
    code_lines = len(lines) - blank - comment_lines
    definitions = [f"{kind} `{name}`" for kind, name in _DEFINITION.findall(code)]
    definitions += [f"function `{name}`" for name in _ARROW.findall(code)]
    if not definitions:
        definitions = [f"function `{name}`" for name in _C_FUNCTION.findall(code)]
    imports = [next(g for g in groups if g) for groups in _IMPORT.findall(code)]
    control = Counter(_CONTROL.findall(code))
    defined = {d.split("`")[1] for d in definitions}
    calls = Counter(
        name
        for name in _CALL.findall(_without_strings(code))
        if name not in _NOT_CALLS and name.split(".")[-1] not in defined
    )
    parts = [
        f"### Outline ({language or 'plain text'}, {len(lines)} lines: {code_lines} of code, "
        f"{comment_lines} of comments, {blank} blank)"
    ]
    if definitions:
        parts.append("- **Defines:** " + ", ".join(dict.fromkeys(definitions)) + ".")
    if imports:
        parts.append("- **Imports:** " + _names(imports) + ".")
    if calls:
        parts.append("- **Calls:** " + _names(f"{n}()" for n, _ in calls.most_common()) + ".")
    if control:
        parts.append(
            "- **Control flow:** "
            + ", ".join(f"`{k}` ×{v}" for k, v in control.most_common())
            + "."
        )
    if comments:
        parts.append("- **Comments say:** " + "; ".join(comments[:4]) + ".")
    if len(parts) == 1:
        parts.append("No definitions, calls or control flow found.")
    return "\n".join(parts)


def _without_strings(code: str) -> str:
    return re.sub(r"\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|`[^`]*`", '""', code)
