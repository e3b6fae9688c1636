"""What the file around the cursor defines, so that the offline model's guesses fit it.

An n-gram model only sees the last few tokens: after the docstring of ``mean`` it may
write ``add``'s body again (``return a + b``, whose names ``mean`` does not have), and in
``Square.area`` a ``Circle`` method (``self.radius``, which ``Square`` never sets). Such a
suggestion is worse than none. ``Structure`` knows, for the cursor's place in a Python file:

- the names each enclosing scope binds (parameters, assignments, imports, ``def``/``class``),
  the module's and the builtins;
- the names defined by ``def``/``class`` in each enclosing scope (a new ``def add`` there
  redefines it);
- the attributes of the enclosing method's class: set or read on ``self`` in any of its methods,
  its class-level names and those of its bases in the file; unknown (anything goes) when a base
  is not in the file or the class is dynamic (``__getattr__``, ``setattr``).

It comes from ``ast`` on the whole file (the cursor's line stood in for by ``pass`` if need be),
and where the file does not parse, from a tolerant scan of its lines (indentation and regexes),
which only knows less and so allows more. ``Guard`` applies it to the completion as it is
decoded: ``allows`` vets the next token (so the model picks a name the file has instead),
``check_line`` vets a decoded line (a reason to reject it, or None).

Pure and synchronous; other languages get no structure (``Structure.of`` returns None).
"""

from __future__ import annotations

import ast
import bisect
import builtins
import io
import keyword
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_IDENT = re.compile(r"[A-Za-z_]\w*\Z")
_WORDS = re.compile(r"[A-Za-z_]\w*")
_HEADER = re.compile(r"(?:async\s+)?(def|class)\s+([A-Za-z_]\w*)")
_DECORATOR_REDEFINES = re.compile(r"@\s*(?:[\w.]*\.)?(?:setter|deleter|getter|overload|register)\b")
_STRING_PREFIX = re.compile(r"(?i)(?:[rbuf]|rb|br|fr|rf)\Z")
BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__", "__class__"}
KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
#: bases that add no attributes a class's code would use
_PLAIN_BASES = {"object", "ABC", "Protocol", "Generic", "NamedTuple", "TypedDict", "Enum"}
#: calls and names that make a class's attributes unknowable from its code
_DYNAMIC = {"__getattr__", "__getattribute__", "setattr", "__dict__", "__slots__"}
#: a bigger file gets the tolerant scan (``ast.parse`` holds the GIL: ~35 ms for 230 kB)
PARSE_CHARS = 150_000
WANTED_LINES = 8  # a local name read this close below the cursor, unbound, may be the line's
#: statements after which a name is written, not read
_BINDERS = {"def", "class", "for", "as", "import", "global", "nonlocal", "lambda", "del"}


@dataclass
class Scope:
    kind: str  # "module", "class" or "function"
    column: int  # where its header starts (-1 for the module)
    names: set[str] = field(default_factory=set)  # bound in it
    defined: set[str] = field(default_factory=set)  # by def/class/import in it
    attributes: set[str] | None = None  # a class's (None: unknown)
    methods: set[str] = field(default_factory=set)  # a class's own methods (not properties)
    self_name: str | None = None  # a method's first parameter


@dataclass
class Structure:
    """The scopes enclosing the cursor, outermost (the module) first."""

    scopes: list[Scope]
    names_known: bool = True  # False with ``import *``: any name may exist
    #: names bound somewhere in the file, maybe in a scope the cursor cannot see
    elsewhere: set[str] = field(default_factory=set)
    #: names the code after the cursor reads that nothing it can see binds (``dist`` two lines
    #: below, an imported name no import binds): what the line at the cursor may bind
    wanted: set[str] = field(default_factory=set)
    #: in ``__init__``: ``self.x = x`` for each parameter not stored yet, in their order
    unstored: list[str] = field(default_factory=list)
    #: formulas (``shape`` of a line) that only functions of other names in the file write,
    #: and the name of one of them: ``cheapest``'s condition is not ``most_valuable``'s
    copies: dict[str, str] = field(default_factory=dict)
    _shapes: list[str] | None = field(default=None, repr=False)  # ``copies``, sorted
    parameters: list[str] = field(default_factory=list)  # of the cursor's function (``formula``)

    @classmethod
    def of(cls, prefix: str, suffix: str, language: str) -> Structure | None:
        """The structure at the cursor between ``prefix`` and ``suffix`` (Python only)."""
        if language != "python":
            return None
        before = prefix.split("\n")
        line = before.pop()
        after = suffix.split("\n")
        rest = after.pop(0)
        indent = _cursor_indent(before, line)
        row = len(before) + 1  # the cursor's line, 1-based
        stand_in = " " * indent + "pass"
        attempts: list[tuple[str, list[str]]] = [(line + rest, after), (stand_in, after)]
        attempts.append((stand_in, []))
        if len(prefix) + len(suffix) > PARSE_CHARS:
            attempts = []  # parsing holds the GIL for tens of ms: the server's loop comes first
        for middle, tail in attempts:
            try:
                tree = ast.parse("\n".join([*before, middle, *tail]))
            except (SyntaxError, ValueError):
                continue
            lines = [*before, middle, *tail]
            return _from_tree(tree, lines, row, indent)
        return _from_lines(before, after, indent)

    @property
    def method(self) -> Scope | None:
        """The method the cursor is in (maybe in a function nested in it), if any."""
        for i in range(len(self.scopes) - 1, 0, -1):
            scope = self.scopes[i]
            if scope.kind == "class":
                return None
            if scope.self_name and self.scopes[i - 1].kind == "class":
                return scope
        return None

    def known(self, name: str) -> bool:
        """Whether ``name`` may be read at the cursor: it is bound in a scope the cursor sees,
        or nowhere in the file (a name of the project's or a library's, maybe not imported
        yet). A name bound only in another function (``add``'s ``a``, in ``mean``) may not."""
        if not self.names_known or name in BUILTINS or name in KEYWORDS:
            return True
        return any(name in scope.names for scope in self.scopes) or name not in self.elsewhere

    def sees(self, name: str) -> bool:
        """Whether ``name`` is bound in a scope the cursor sees (or is a builtin): stricter than
        ``known``, for lines copied from elsewhere, whose names belong there."""
        if not self.names_known or name in BUILTINS or name in KEYWORDS:
            return True
        return any(name in scope.names for scope in self.scopes)

    def copied(self, line: str) -> str | None:
        """The function of another name whose formula ``line`` is, or starts (a copy cut
        short), or None (see ``copies``)."""
        if not self.copies or (shape := formula(line, self.parameters)) is None:
            return None
        if shape in self.copies:
            return self.copies[shape]
        if self._shapes is None:
            self._shapes = sorted(self.copies)
        at = bisect.bisect_left(self._shapes, shape)
        if at < len(self._shapes) and self._shapes[at].startswith(shape):
            return self.copies[self._shapes[at]]
        return None

    def methods(self) -> set[str]:
        """The methods of the class of the method the cursor is in."""
        method = self.method
        return set() if method is None else self.scopes[self.scopes.index(method) - 1].methods

    def attributes(self) -> tuple[str, set[str]] | None:
        """``(self's name, the class's attributes)`` in a method of a class whose attributes
        are all known; None elsewhere."""
        method = self.method
        if method is None or method.self_name is None:
            return None
        cls = self.scopes[self.scopes.index(method) - 1]
        if cls.attributes is None:
            return None
        return method.self_name, cls.attributes

    def landing(self, column: int) -> list[Scope]:
        """The scopes a statement at ``column`` is in."""
        return [s for s in self.scopes if s.column < column]


class Guard:
    """The structural checks for one completion (it learns the names the completion binds)."""

    def __init__(self, structure: Structure, line_prefix: str) -> None:
        self.structure = structure
        self.typed = line_prefix  # the cursor's line before the cursor
        self.bound: set[str] = set()  # names the completion binds
        self.set_attributes: set[str] = set()  # attributes it assigns on self
        self._attributes = structure.attributes()

    # -- the next token ---------------------------------------------------------------------

    def allows(self, context: Sequence[str], token: str) -> bool:
        """Whether the decoder may write ``token`` after ``context`` (model tokens). Only names
        are vetted: an attribute of ``self`` the class lacks, or a name read that no enclosing
        scope binds; a name that may be being bound (at a statement's start, after ``def``,
        ``for`` or ``as``, in a ``def`` or ``lambda`` header) is left to ``check_line``."""
        word = token.lstrip(" \t")
        if not _IDENT.match(word) or word in KEYWORDS:
            return True
        last = context[-1].strip() if context else ""
        if last == ".":
            return self._attribute_ok(context, word)
        if last in _BINDERS or not last or last.startswith("\0"):
            return True  # a name bound, or a statement's start (``x = ...``)
        if last in (",", "(", "*", "**") and _header(context):
            return True  # a parameter, or a target of ``for`` or ``import``
        return self.structure.known(word) or word in self.bound

    def attribute_names(self, context: Sequence[str]) -> set[str]:
        """The data attributes (not methods) that may follow ``context`` (which ends with
        ``self.``); empty when they are unknown or ``context`` is not about self."""
        if self._attributes is None or len(context) < 2:
            return set()
        self_name, attributes = self._attributes
        if context[-2].strip() != self_name:
            return set()
        return (attributes | self.set_attributes) - self.structure.methods()

    def _attribute_ok(self, context: Sequence[str], word: str) -> bool:
        if self._attributes is None or len(context) < 2:
            return True
        self_name, attributes = self._attributes
        if context[-2].strip() != self_name:
            return True
        if word in attributes or word in self.set_attributes:
            return True
        before = context[-3] if len(context) >= 3 else "\n"
        return before == "\n" or before.startswith("\0")  # ``self.x`` starts a line: may be set

    # -- a whole line ---------------------------------------------------------------------------

    def check_line(self, text: str, column: int, *, first: bool, previous: str = "") -> str | None:
        """Why the line ``text`` (its code, written at ``column``; on the cursor's line, the
        whole line, typed part included) must not be shown, or None. A line that passes binds
        its names for the lines after it. ``previous`` is the line before it (a decorator, or
        one that leaves a statement open)."""
        start = len(self.typed.lstrip(" \t")) if first else 0  # where the completion begins
        if not _parses(text, previous):
            return "not a statement"
        words = _words(text)
        stored, read, attrs_set, attrs_read, definition = _roles(words, self._self_name())
        new = [(n, at) for n, at in read if at + len(n) > start]
        if definition is not None:
            name, at = definition
            if at + len(name) > start and not _DECORATOR_REDEFINES.match(previous.strip()):
                landing = self.structure.landing(column)
                if any(name in s.defined for s in landing[-2:]) or name in self.bound:
                    return f"redefines {name}"
        if stored and text.startswith(("import ", "from ")) and " import " in f" {text}":
            landing = self.structure.landing(column)
            if all(any(n in s.defined for s in landing[-1:]) or n in self.bound for n in stored):
                return f"imports {min(stored)} again"
        for name, _ in new:
            if name not in stored and name not in self.bound and not self.structure.known(name):
                return f"unknown name {name}"
        if self._attributes is not None:
            me, attributes = self._attributes
            if re.search(rf"\b{me}\.\w+\(\s*{me}\b", text[start:] if first else text):
                return f"passes {me} twice"  # ``self.add(self, ...)``: a method's header copied
            known = attributes | self.set_attributes | attrs_set
            for name, at in attrs_read:
                if at + len(name) > start and name not in known:
                    return f"unknown attribute {name}"
        if (source := self.structure.copied(text)) is not None:
            return f"copies {source}"
        self.bound |= stored
        self.set_attributes |= attrs_set
        return None

    def _self_name(self) -> str | None:
        return self._attributes[0] if self._attributes else None


# -- reading a line ------------------------------------------------------------------------------


def _header(context: Sequence[str]) -> bool:
    """Whether the line being decoded (the model tokens since the last line break) binds the
    names in its brackets or lists: ``def``, ``class``, ``lambda``, ``for``, ``import``..."""
    for token in reversed(context):
        word = token.strip()
        if token == "\n" or word.startswith("\0"):
            return False
        if word in _BINDERS or word in ("from", "with", "except"):
            return True
    return False


_CONTINUES = re.compile(r"(?:[,(\[{\\=+\-*/%&|^<>@.]|\b(?:and|or|not|in|is|else|if|lambda))$")
_CLAUSES = {
    "elif": "if x:\n    pass\n",
    "else": "if x:\n    pass\n",
    "except": "try:\n    pass\n",
    "finally": "try:\n    pass\n",
    "case": "match x:\n",
}


def finished(text: str) -> bool:
    """Whether a line of code closes every bracket it opens and does not end in an operator, a
    comma or a dot (a statement that could end there)."""
    return _closers(text) == "" and not _CONTINUES.search(text.split("#")[0].rstrip())


def _closers(text: str) -> str | None:
    """The brackets that close what ``text`` leaves open, or None if it closes more than it
    opens (strings are not looked into: a rough count)."""
    stack: list[str] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for char in re.sub(r"(\"|').*?(\1|$)", "", text):
        if char in "([{":
            stack.append(char)
        elif char in pairs:
            if not stack or stack.pop() != pairs[char]:
                return None
    return "".join({"(": ")", "[": "]", "{": "}"}[c] for c in reversed(stack))


def _parses(text: str, previous: str) -> bool:
    """Whether a line of code is a statement Python accepts (a block's header with a body
    added). A line that may be part of a longer statement (brackets open, the line before left
    it open, a decorator, a string that spans lines) passes unchecked."""
    if not text or text.startswith(("@", "#")) or _CONTINUES.search(previous.split("#")[0].strip()):
        return True
    if any(q in text for q in ('"""', "'''")) or text.endswith("\\"):
        return True
    closers = _closers(text)
    if closers is None:
        return True  # it closes brackets opened before it: part of a longer statement
    code = text + closers
    code = code + "\n    pass" if code.split("#")[0].rstrip().endswith(":") else code
    lead = _WORDS.match(text)
    head = _CLAUSES.get(lead.group(0) if lead else "", "")
    if head == "match x:\n":
        code = head + "    " + code.replace("\n", "\n    ")
    else:
        code = head + code
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _words(text: str) -> list[tuple[str, int]]:
    """The line's tokens (strings and comments left out) and their offsets; tolerant of
    unfinished code (an open bracket or string)."""
    out: list[tuple[str, int]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER) and tok.start[0] == 1:
                out.append((tok.string, tok.start[1]))
            elif tok.type == tokenize.STRING:
                out.append(('""', tok.start[1]))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    end = out[-1][1] + len(out[-1][0]) if out else 0
    if end < len(text.rstrip()):  # the rest, roughly: strings out, words and symbols
        rest = re.sub(r"#.*", "", text[end:])
        rest = re.sub(r"(\"|').*?(\1|$)", lambda m: " " * len(m.group(0)), rest)
        for match in re.finditer(r"[A-Za-z_]\w*|\d\w*|\S", rest):
            out.append((match.group(0), end + match.start()))
    return [(w, at) for w, at in out if not (_STRING_PREFIX.match(w) and _quote_after(out, at))]


def _quote_after(words: list[tuple[str, int]], at: int) -> bool:
    following = [w for w, a in words if a > at]
    return bool(following) and following[0] == '""'


_Placed = list[tuple[str, int]]  # words and their offsets in the line


def _roles(
    words: _Placed, self_name: str | None
) -> tuple[set[str], _Placed, set[str], _Placed, tuple[str, int] | None]:
    """Names the line binds, names it reads (with offsets), attributes of self it sets and reads
    (with offsets), and the name a ``def``/``class`` on it defines (with its offset)."""
    stored: set[str] = set()
    read: _Placed = []
    attrs_set: set[str] = set()
    attrs_read: _Placed = []
    definition: tuple[str, int] | None = None
    texts = [w for w, _ in words]
    lead = texts[1] if texts[:1] == ["async"] and len(texts) > 1 else texts[0] if texts else ""
    if lead in ("import", "from"):  # binds what it imports, reads nothing of this file
        after = texts.index("import") if "import" in texts else len(texts)
        stored |= {w for w in texts[after + 1 :] if _IDENT.match(w) and w != "as"}
        return stored, read, attrs_set, attrs_read, definition
    header = lead in ("def", "class")  # its parameters and bases: leave them be
    assigns = _assignment_end(texts)
    depth = 0
    binding = False  # after for/as/global/...: names are bound until ``in``, ``=`` or ``:``
    for i, (word, at) in enumerate(words):
        prev = texts[i - 1] if i else ""
        following = texts[i + 1] if i + 1 < len(texts) else ""
        if word in ("(", "[", "{"):
            depth += 1
        elif word in (")", "]", "}"):
            depth -= 1
        elif word in ("for", "as", "global", "nonlocal", "lambda", "del"):
            binding = True
        elif word in ("in", "=", ":"):
            binding = False
        if not _IDENT.match(word) or word in KEYWORDS:
            continue
        left = i < assigns and depth == 0  # the left side of an assignment
        if prev == ".":
            if self_name and i >= 2 and texts[i - 2] == self_name and texts[i - 3 : i - 2] != ["."]:
                if left:
                    attrs_set.add(word)
                else:
                    attrs_read.append((word, at))
            continue
        if prev in ("def", "class"):
            definition = definition or (word, at)
            stored.add(word)
        elif binding or left or following == ":=":
            stored.add(word)
        elif header or (following == "=" and depth > 0):
            continue  # a parameter, a base, a keyword argument
        else:
            read.append((word, at))
    return stored, read, attrs_set, attrs_read, definition


def binds(line: str) -> set[str]:
    """The names a line of code binds (assigns, imports, defines, loops over)."""
    return _roles(_words(line), None)[0] if line.strip() else set()


def reads(line: str) -> set[str]:
    """The names a line of code reads (not attributes, keywords or what it binds itself)."""
    if not line.strip():
        return set()
    stored, read, *_ = _roles(_words(line), None)
    return {name for name, _ in read} - stored


def _assignment_end(texts: list[str]) -> int:
    """The index of a plain or augmented assignment's ``=`` at bracket depth 0 (its left side
    binds), or 0 when the line assigns nothing."""
    depth = 0
    for i, word in enumerate(texts):
        if word in "([{":
            depth += 1
        elif word in ")]}":
            depth -= 1
        elif depth == 0 and word == "=":
            return i
        elif depth == 0 and word == ":" and i and texts[0] not in KEYWORDS:
            return i  # an annotation: ``x: int = 0``
    return 0


# -- from the syntax tree ------------------------------------------------------------------------


def _cursor_indent(before: list[str], line: str) -> int:
    """The cursor's depth: its line's indentation, or (an empty line at column 0, which editors
    make of empty lines) the depth the code before it implies."""
    if line.strip() or line:
        return len(line) - len(line.lstrip(" \t"))
    for text in reversed(before):
        if text.strip():
            width = len(text) - len(text.lstrip(" \t"))
            return width + 4 if text.split("#", 1)[0].rstrip().endswith(":") else width
    return 0


_Scoped = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _from_tree(tree: ast.Module, lines: list[str], row: int, indent: int) -> Structure:
    module = Scope("module", -1)
    _bind(tree.body, module)
    everywhere: set[str] = {"self", "cls"}  # they only exist where a method binds them
    star = False
    classes: dict[str, ast.ClassDef] = {}
    scoped: list[_Scoped] = []
    later: dict[str, int] = {}  # names read after the cursor's line: the first line reading it
    for node in ast.walk(tree):  # one pass over the whole file
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                everywhere.add(node.id)
            elif node.lineno > row and later.get(node.id, node.lineno + 1) > node.lineno:
                later[node.id] = node.lineno
        elif isinstance(node, ast.arg):
            everywhere.add(node.arg)
        elif isinstance(node, _Scoped):
            everywhere.add(node.name)
            scoped.append(node)
            if isinstance(node, ast.ClassDef):
                classes[node.name] = node
        elif isinstance(node, ast.Import | ast.ImportFrom):
            everywhere.update(a.asname or a.name.split(".")[0] for a in node.names)
            star = star or any(a.name == "*" for a in node.names)
        elif isinstance(node, ast.Global):
            module.names.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            everywhere.add(node.name)
    last = _last_code_row(lines, row)
    scopes = [module]
    unstored: list[str] = []
    function: ast.FunctionDef | ast.AsyncFunctionDef | None = None  # the cursor's, innermost
    for node in sorted(scoped, key=lambda n: n.lineno):
        # in its body: below its header, deeper, and within it, or after it with only blank
        # lines and comments between (the end of a body being written)
        if not (node.lineno < row and node.col_offset < indent):
            continue
        if (node.end_lineno or node.lineno) < last:
            continue
        if isinstance(node, ast.ClassDef):
            scope = Scope("class", node.col_offset)
            _bind(node.body, scope)
            scope.attributes = _class_attributes(node, classes, set())
            scope.methods = {
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and not item.decorator_list
            }
        else:
            function = node
            scope = Scope("function", node.col_offset)
            _bind(node.body, scope)
            scope.names |= _parameters(node.args)
            if scopes[-1].kind == "class" and not _is_static(node):
                positional = [*node.args.posonlyargs, *node.args.args]
                scope.self_name = positional[0].arg if positional else None
                if node.name == "__init__" and scope.self_name:
                    unstored = _unstored(node, scope.self_name)
        scopes.append(scope)
    elsewhere = everywhere | module.names
    visible = set().union(*(scope.names for scope in scopes))
    wanted = {
        name
        for name, line in later.items()
        if name not in visible
        and name not in BUILTINS
        and (name not in elsewhere or line <= row + WANTED_LINES)
    }
    if scopes[-1].self_name is None or not unstored:
        unstored = []
    copies = _copies(scoped, function, lines, row) if function is not None else {}
    return Structure(
        scopes,
        not star,
        elsewhere,
        wanted if not star else set(),
        unstored,
        copies,
        parameters=_positional(function) if function is not None else [],
    )


_OPERATOR = re.compile(r"(?:[<>]=?|[!=]=|\*\*?|//?|[-+%])")
_STRINGS = re.compile(r"(\"|').*?(\1|$)")
_SELF_ATTRIBUTE = re.compile(r"\b(self|cls)\.[A-Za-z_]\w*")


def formula(line: str, parameters: Sequence[str] = ()) -> str | None:
    """A line's shape if it computes or compares (an arithmetic or comparison operator outside
    strings and comments): what says what a function does, unlike ``best = item`` or
    ``for item in items:``. Spaces go, ``self``'s attributes are one (``self.side`` is
    ``self.radius``) and the function's ``parameters`` are their places (``celsius * 9`` in one
    function is ``fahrenheit * 9`` in another); None for other lines."""
    code = _STRINGS.sub('""', line.split("#", 1)[0]).strip()
    if not _OPERATOR.search(code.replace("->", "")):
        return None
    code = _SELF_ATTRIBUTE.sub(r"\1.@", code)
    if parameters:
        places = {name: f"@{i}" for i, name in enumerate(parameters)}
        code = _WORDS.sub(lambda m: places.get(m.group(0), m.group(0)), code)
    return re.sub(r"\s+", "", code)


def _positional(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The parameters a formula may read, in order (not ``self`` or ``cls``)."""
    names = [a.arg for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]]
    return names[1:] if names[:1] in (["self"], ["cls"]) else names


def _copies(
    scoped: list[_Scoped],
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    lines: list[str],
    row: int,
) -> dict[str, str]:
    """The formulas only functions with another name (and another docstring) write: copied
    into ``function`` (where the cursor is), such a line says what the other function does, not
    what this one does (``Square.area`` is not ``Circle.perimeter``). A same-named function's
    (``Circle.area``) is fair: the same job for another class."""
    doc = ast.get_docstring(function)
    owners: dict[str, set[str]] = {}
    own: set[str] = set()
    for node in scoped:
        if isinstance(node, ast.ClassDef) or not node.body:
            continue
        start, end = node.body[0].lineno, node.end_lineno or node.lineno
        if start <= row <= end and node is not function:
            continue  # a function around the cursor's: its lines are the cursor's too
        same = node.name == function.name or (doc is not None and ast.get_docstring(node) == doc)
        parameters = _positional(node)
        for number in range(start, end + 1):
            if number == row or (shape := formula(lines[number - 1], parameters)) is None:
                continue
            if node is function or same:
                own.add(shape)
            else:
                owners.setdefault(shape, set()).add(node.name)
    return {shape: min(names) for shape, names in owners.items() if shape not in own}


def _last_code_row(lines: list[str], row: int) -> int:
    """The last line (1-based) before ``row`` with code, not only a comment; 0 if none."""
    for i in range(row - 1, 0, -1):
        text = lines[i - 1].strip()
        if text and not text.startswith("#"):
            return i
    return 0


def _is_static(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)


def _unstored(node: ast.FunctionDef | ast.AsyncFunctionDef, me: str) -> list[str]:
    """``self.x = x`` lines an ``__init__`` has yet to write (``self._x`` if it writes those)."""
    stored: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store):
            if isinstance(sub.value, ast.Name) and sub.value.id == me:
                stored.add(sub.attr)
    arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs][1:]
    names = [a.arg for a in arguments]
    private = any(f"_{name}" in stored for name in names)
    return [
        f"{me}.{'_' if private else ''}{name} = {name}"
        for name in names
        if name not in stored and f"_{name}" not in stored
    ]


def _parameters(args: ast.arguments) -> set[str]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return {a.arg for a in every if a is not None}


def _bind(body: Iterable[ast.AST], scope: Scope) -> None:
    """The names ``body`` binds in its own scope (nested functions and classes: their names)."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, _Scoped):
            scope.names.add(node.name)
            scope.defined.add(node.name)
            stack.extend(node.decorator_list)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            scope.names.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                scope.names.add(name)
                scope.defined.add(name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            scope.names.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            scope.names.update(node.names)
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            scope.names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            scope.names.add(node.rest)
        elif isinstance(node, ast.arg):
            scope.names.add(node.arg)
        stack.extend(ast.iter_child_nodes(node))


def _class_attributes(
    node: ast.ClassDef, classes: dict[str, ast.ClassDef], seen: set[str]
) -> set[str] | None:
    """Every attribute the class's code sets or reads on ``self`` (or ``cls``), its class-level
    names and its bases' in the file; None when they cannot all be known."""
    seen = seen | {node.name}
    found: set[str] = set()
    scope = Scope("class", node.col_offset)
    _bind(node.body, scope)
    found |= scope.names
    if found & _DYNAMIC:
        return None
    for item in node.body:
        if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        positional = [*item.args.posonlyargs, *item.args.args]
        if not positional:
            continue
        me = positional[0].arg
        for sub in ast.walk(item):
            if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                if sub.value.id == me:
                    found.add(sub.attr)
                    if sub.attr == "__dict__":
                        return None
            elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                if sub.func.id == "setattr":
                    return None
    for base in node.bases:
        target = base.value if isinstance(base, ast.Subscript) else base
        name = target.id if isinstance(target, ast.Name) else None
        if name is None:
            return None  # ``module.Base``: not in this file
        if name in _PLAIN_BASES:
            continue
        if name in classes and name not in seen:
            inherited = _class_attributes(classes[name], classes, seen)
            if inherited is None:
                return None
            found |= inherited
        elif isinstance(getattr(builtins, name, None), type):
            found |= set(dir(getattr(builtins, name)))
        else:
            return None
    return found


# -- without a syntax tree: the lines ------------------------------------------------------------


def _from_lines(before: list[str], after: list[str], indent: int) -> Structure:
    """A tolerant structure from indentation and regexes: the enclosing ``def``/``class``
    headers, the names defined in each; every word in the file counts as a known name (reading
    a name is never rejected), and a class's attributes are unknown."""
    headers: list[tuple[int, str, str]] = []  # (column, kind, name), outermost first
    depth = indent
    for text in reversed(before):
        code = text.strip()
        if not code or code.startswith("#"):
            continue
        width = len(text) - len(text.lstrip(" \t"))
        if width < depth:
            depth = width
            if match := _HEADER.match(code):
                headers.insert(0, (width, match.group(1), match.group(2)))
            if width == 0:
                break
    lines = [*before, *after]
    module = Scope("module", -1, names=set(_WORDS.findall("\n".join(lines))))
    module.defined = _defined_at(lines, 0)
    scopes = [module]
    for column, kind, _ in headers:
        scope = Scope("class" if kind == "class" else "function", column)
        scope.defined = _defined_in(lines, before, column)
        scopes.append(scope)
    return Structure(scopes)


def _defined_at(lines: list[str], column: int) -> set[str]:
    found = set()
    for text in lines:
        if len(text) - len(text.lstrip(" \t")) == column and (m := _HEADER.match(text.strip())):
            found.add(m.group(2))
    return found


def _defined_in(lines: list[str], before: list[str], column: int) -> set[str]:
    """The names defined right inside the block whose header, at ``column``, is the last such
    header before the cursor."""
    start = next(
        i
        for i in range(len(before) - 1, -1, -1)
        if before[i].strip() and len(before[i]) - len(before[i].lstrip(" \t")) == column
    )
    body: list[str] = []
    for text in lines[start + 1 :]:
        if text.strip() and len(text) - len(text.lstrip(" \t")) <= column:
            break
        body.append(text)
    widths = [len(t) - len(t.lstrip(" \t")) for t in body if t.strip()]
    return _defined_at(body, min(widths)) if widths else set()
