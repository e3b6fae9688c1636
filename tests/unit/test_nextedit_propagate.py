"""The offline predictor: a substitution repeated where it applies, and nothing otherwise."""

from __future__ import annotations

from inkstream.nextedit.history import Edit
from inkstream.nextedit.hunk import LineHunk
from inkstream.nextedit.propagate import propagate

URI = "file:///a.py"


def after(doc: str, line: int, old: str, new: str) -> tuple[list[str], Edit]:
    """The document once the user changed ``old`` into ``new`` on ``line``."""
    lines = doc.split("\n")
    before = lines[line]
    lines[line] = before.replace(old, new, 1)
    return lines, Edit(URI, line, (before,), (lines[line],), 0.0)


def apply(lines: list[str], hunks: list[LineHunk]) -> list[str]:
    out = list(lines)
    for hunk in sorted(hunks, key=lambda h: h.start, reverse=True):
        out[hunk.start : hunk.end] = hunk.lines
    return out


RENAME_DOC = """\
def report(items):
    total = 0
    for item in items:
        total += item.price  # the total so far
    totals = [total]
    print("total:", total)
    return total
"""


def test_a_rename_goes_everywhere_in_code_nearest_after_the_cursor_first() -> None:
    lines, edit = after(RENAME_DOC, 1, "total", "subtotal")
    hunks = propagate(edit, lines, (1, 12), language="python")
    assert [h.start for h in hunks] == [3, 4, 5, 6]
    assert apply(lines, hunks) == (
        RENAME_DOC.replace("total", "subtotal")
        .replace("subtotals", "totals")
        .replace("the subtotal so far", "the total so far")
        .replace('"subtotal:"', '"total:"')
        .split("\n")
    )


def test_the_cursor_below_puts_the_places_after_it_first() -> None:
    lines, edit = after(RENAME_DOC, 1, "total", "subtotal")
    hunks = propagate(edit, lines, (5, 0), language="python")
    assert [h.start for h in hunks] == [5, 6, 4, 3]


def test_a_rename_in_a_string_stays_in_strings() -> None:
    doc = 'label = "total"\nvalue = total\nother = "total"\n'
    lines, edit = after(doc, 0, "total", "sum")
    hunks = propagate(edit, lines, (0, 10), language="python")
    assert [(h.start, h.lines) for h in hunks] == [(2, ('other = "sum"',))]


def test_renaming_to_a_name_already_in_use_is_not_a_rename() -> None:
    doc = "a = 1\nb = 2\nprint(a)\nshow(a)\n"
    lines, edit = after(doc, 2, "print(a)", "print(b)")
    assert propagate(edit, lines, (2, 7), language="python") == []


def test_a_rename_is_still_one_after_accepting_some_of_it() -> None:
    lines, edit = after(RENAME_DOC, 3, "total +=", "subtotal +=")
    lines[1] = lines[1].replace("total", "subtotal")  # renamed before, by the user
    hunks = propagate(edit, lines, (3, 0), language="python", own_lines=[lines[1]])
    assert [h.start for h in hunks] == [4, 5, 6]


CALLS = """\
def load(url):
    first = fetch(url)
    second = fetch(other_url)
    third = fetch(url, timeout=5)
    fourth = prefetch(url)
    fifth = fetch()
    sixth = client.fetch(
        url,
    )
"""


def test_an_argument_added_to_a_call_is_added_to_the_other_calls() -> None:
    lines, edit = after(CALLS, 1, "fetch(url)", "fetch(url, timeout=t)")
    hunks = propagate(edit, lines, (1, 24), language="python")
    assert [(h.start, h.end, h.lines) for h in hunks] == [
        (2, 3, ("    second = fetch(other_url, timeout=t)",)),
        (5, 6, ("    fifth = fetch(timeout=t)",)),
        (7, 8, ("        url, timeout=t,",)),
    ]


def test_a_signature_change_is_not_a_call_edit() -> None:
    doc = (
        "class A:\n    def __init__(self, a):\n        pass\nclass B:\n    def __init__(self, b):\n"
    )
    lines, edit = after(doc, 1, "self, a)", "self, a, editor=None)")
    assert propagate(edit, lines, (1, 0), language="python") == []
    doc = "def fetch(url):\n    pass\nfetch(a)\nfetch(b)\n"
    lines, edit = after(doc, 2, "fetch(a)", "fetch(a, timeout=t)")
    hunks = propagate(edit, lines, (2, 0), language="python")
    assert [(h.start, h.lines) for h in hunks] == [(3, ("fetch(b, timeout=t)",))]


def test_print_statements_become_calls() -> None:
    doc = "print x\nif x:\n    print x + 1, y\nprint(z)\nprinter = 1\n"
    lines, edit = after(doc, 0, "print x", "print(x)")
    hunks = propagate(edit, lines, (0, 8), language="python")
    assert [(h.start, h.lines) for h in hunks] == [(2, ("    print(x + 1, y)",))]


def test_a_qualifier_added_before_a_call() -> None:
    doc = (
        "    def helper(self):\n"
        "        a = helper()\n"
        "        b = helper(1)\n"
        "        c = self.helper()\n"
    )
    lines, edit = after(doc, 1, "helper()", "self.helper()")
    hunks = propagate(edit, lines, (1, 20), language="python")
    assert [(h.start, h.lines) for h in hunks] == [(2, ("        b = self.helper(1)",))]


def test_a_token_substitution_and_a_deletion() -> None:
    doc = "x: _Alias = f(_Alias)\ny: _Alias\n_Aliases = 1\n"
    lines, edit = after(doc, 0, "x: _Alias", "x: t.Any | None")
    hunks = propagate(edit, lines, (0, 0), language="python")
    # a name made an expression goes where the name plays the same part (a type after ":")
    assert [(h.start, h.lines) for h in hunks] == [(1, ("y: t.Any | None",))]

    doc = "run(logger=logger)\nlogger.info(1)\nwarn(logger)\nother(logger)\n"
    lines, edit = after(doc, 2, "warn(logger)", 'warn(logging.getLogger("x"))')
    hunks = propagate(edit, lines, (2, 0), language="python")
    assert [(h.start, h.lines) for h in hunks] == [(3, ('other(logging.getLogger("x"))',))]

    doc = "assertEquals(a, 1)\nassertEquals(b, 2)\nmyassertEquals(c)\n"
    lines, edit = after(doc, 0, "assertEquals(", "assertEqual(")
    hunks = propagate(edit, lines, (0, 0), language="python")
    assert [(h.start, h.lines) for h in hunks] == [(1, ("assertEqual(b, 2)",))]

    doc = "run(a, debug=True)\nrun(b, debug=True)\n"
    lines, edit = after(doc, 0, ", debug=True", "")
    hunks = propagate(edit, lines, (0, 0), language="python")
    assert [(h.start, h.lines) for h in hunks] == [(1, ("run(b)",))]


def test_slash_comments_in_c_like_languages() -> None:
    doc = "int count = 0;\n// count things\ncount++;\nx = a // count\n"
    lines, edit = after(doc, 0, "count", "total")
    hunks = propagate(edit, lines, (0, 0), language="c")
    assert [h.start for h in hunks] == [2]
    # in Python // is a division: the names after it are code
    hunks = propagate(edit, lines, (0, 0), language="python")
    assert [h.start for h in hunks] == [1, 2, 3]


def test_typing_new_code_is_not_repeated() -> None:
    doc = "x = compute(a)\ny = compute(b)\n"
    cases = [
        Edit(URI, 2, (), ("z = compute(c)",), 0.0),  # a new line
        Edit(URI, 0, ("x = compute(a)",), ("x = compute(a) + 1",), 0.0),  # typed at the end
        Edit(URI, 1, ("y = compute(b)",), ("y = compute(b) or fallback",), 0.0),  # more code
        Edit(URI, 0, ("x = 1",), ("x = 2",), 0.0),  # a number changed
    ]
    for edit in cases:
        lines = doc.split("\n")
        if edit.start < len(lines) and edit.old:
            lines[edit.start] = edit.new[0]
        else:
            lines.insert(edit.start, edit.new[0])
        assert propagate(edit, lines, (0, 0), language="python") == [], edit


def test_history_that_disagrees_with_the_document_gives_nothing() -> None:
    lines = ["a = 1", "b = a"]
    edit = Edit(URI, 0, ("x = 1",), ("y = 1",), 0.0)
    assert propagate(edit, lines, (0, 0)) == []


def test_an_operator_change_carries_the_name_after_it() -> None:
    doc = "if a == None:\n    pass\nif b == None or c == 1:\n    pass\n"
    lines, edit = after(doc, 0, "a == None", "a is None")
    hunks = propagate(edit, lines, (0, 0), language="python")
    assert [(h.start, h.lines) for h in hunks] == [(2, ("if b is None or c == 1:",))]


def test_one_name_changed_in_several_places_of_the_line_is_a_rename() -> None:
    doc = "out[#out + 1] = a\nout[#out + 1] = b\nlocal out = {}\n"
    lines, edit = after(doc, 0, "out[#out", "rows[#rows")
    hunks = propagate(edit, lines, (0, 0), language="lua")
    assert [(h.start, h.lines) for h in hunks] == [
        (1, ("rows[#rows + 1] = b",)),
        (2, ("local rows = {}",)),
    ]


def test_code_only_added_to_is_not_repeated() -> None:
    doc = "if not line.code:\n    x = line.code\nlogger.info(1)\nlogger.warn(2)\n"
    for line, old, new in (
        (0, "not line.code", "not (line.code or word)"),  # wrapped and extended
        (2, "logger.info", "(logger or default).info"),  # a name wrapped
    ):
        lines, edit = after(doc, line, old, new)
        assert propagate(edit, lines, (line, 0), language="python") == [], new


def test_a_name_the_file_did_not_have_when_opened_is_a_rename_however_long_it_takes() -> None:
    doc = "total = 0\n" + "x = total\n" * 3
    lines = doc.split("\n")
    for i in range(3):  # renamed by hand on lines 0..2, the history long forgotten
        lines[i] = lines[i].replace("total", "subtotal")
    edit = Edit(URI, 2, ("x = total",), ("x = subtotal",), 0.0)
    assert propagate(edit, lines, (2, 0), language="python") == []  # without knowing more
    hunks = propagate(edit, lines, (2, 0), language="python", opened=doc)
    assert [(h.start, h.lines) for h in hunks] == [(3, ("x = subtotal",))]
    # a name the file had when opened is still not a rename
    assert propagate(edit, lines, (2, 0), language="python", opened=doc + "subtotal\n") == []
