"""Streaming convergence of a rewritten region into final hunks (pure).

The first tables re-express the cases of vscode-copilot-chat's ``responseProcessor.spec.ts``
(``stream diffing``): the same windows and rewrites, the expected patches written as hunks.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from inkstream.nextedit.converge import Converger, LastEdit
from inkstream.nextedit.hunk import LineHunk

H = tuple[int, int, tuple[str, ...]]


def run(
    original: Sequence[str],
    updated: Sequence[str],
    *,
    complete: bool = True,
    after: Sequence[str] = (),
    start: int = 0,
    last_edit: LastEdit | None = None,
    document: Sequence[str] | None = None,
) -> tuple[list[tuple[int, H]], Converger]:
    """Feed ``updated`` line by line; each hunk with the count of lines fed when it came."""
    doc = list(document) if document is not None else [*[""] * start, *original, *after]
    conv = Converger(original, start=start, document=doc, last_edit=last_edit)
    got: list[tuple[int, H]] = []
    for fed, line in enumerate(updated, start=1):
        got += [(fed, (h.start, h.end, h.lines)) for h in conv.feed(line)]
    got += [(len(updated) + 1, (h.start, h.end, h.lines)) for h in conv.finish(complete=complete)]
    return got, conv


def apply(lines: Sequence[str], hunks: Sequence[H]) -> list[str]:
    out = list(lines)
    for start, end, new in sorted(hunks, reverse=True):
        out[start:end] = new
    return out


# --- Copilot's spec: an edit window whose lines are all unique -----------------------------------

UNIQUE = [
    "export function printParseTree(node: Parser.SyntaxNode, options: PrintingOptions, "
    "print: NodePrinter = ParseTreeEditor.renderNode): string[] {",
    "\tconst printedNodes: string[] = [];",
    "\ttraverseDFPreOrder(node, (cursor, depth) => {",
    "\t\tconst currentNode = cursor.currentNode();",
    "\t\tif (options.printOnlyNamed && !currentNode.isNamed()) {",
    "\t\t\treturn;",
    "\t\t}",
    "\t\tconst printedNode = print(currentNode, depth, cursor.currentFieldName());",
    "\t\tprintedNodes.push(printedNode);",
    "\t});",
    "\treturn printedNodes;",
    "}",
]
TRAVERSE = "\ttraverse(node, (cursor, depth) => {"
LOG = '\t\tconsole.log("new line");'
MY_PRINT = "\t\tconst myPrintedNode = print(currentNode, depth, cursor.currentFieldName());"
MY_PUSH = "\t\tprintedNodes.push(myPrintedNode);"


def _splice(lines: Sequence[str], at: int, n: int, *new: str) -> list[str]:
    out = list(lines)
    out[at : at + n] = new
    return out


UNIQUE_CASES: list[tuple[str, list[str], list[H]]] = [
    ("in stream middle - 1 line diff", _splice(UNIQUE, 2, 1, TRAVERSE), [(2, 3, (TRAVERSE,))]),
    (
        "in stream middle - 2 consecutive lines diff",
        _splice(UNIQUE, 2, 1, TRAVERSE, LOG),
        [(2, 3, (TRAVERSE, LOG))],
    ),
    (
        "in stream middle - 1 line diff, 2 consecutive lines diff",
        _splice(_splice(UNIQUE, 2, 1, TRAVERSE), 7, 2, MY_PRINT, MY_PUSH),
        [(2, 3, (TRAVERSE,)), (7, 9, (MY_PRINT, MY_PUSH))],
    ),
    ("removes lines at beginning", UNIQUE[3:], [(0, 3, ())]),
    ("removes lines at end", UNIQUE[:9], [(9, 12, ())]),
]


@pytest.mark.parametrize(
    ("updated", "expected"), [c[1:] for c in UNIQUE_CASES], ids=[c[0] for c in UNIQUE_CASES]
)
def test_copilot_spec_unique_lines(updated: list[str], expected: list[H]) -> None:
    got, _ = run(UNIQUE, updated)
    assert [h for _, h in got] == expected
    assert apply(UNIQUE, expected) == updated


# --- Copilot's spec: windows with repeated lines -------------------------------------------------

MULTIPLY = [
    "}",
    "",
    "int multiply(int a, int b = 1, int c = 2) {",
    "\treturn a * b;",
    "}",
    "",
    "template<typename... Args> auto sum(Args... args) {",
    "\treturn (args + ...);",
    "}",
    "",
    "template<typename T> T identify(T value) {",
    "\treturn value;",
    "}",
]

SELECTION = (
    "document.selection.set(e.selections.map(s => new OffsetRange("
    "e.textEditor.document.offsetAt(s.start), e.textEditor.document.offsetAt(s.end)), undefined)"
)
QUITE_BELOW = [
    "\t\t\tif (!document) {",
    "\t\t\t\treturn;",
    "\t\t\t}\t\t\t\t" + SELECTION + ";\t\t}));",
    "",
    "\t\tthis._register(workspace.onDidCloseTextDocument(e => {",
    "\t\t\tif (!this.filter.isTrackingEnabled(e)) {",
    "\t\t\t\treturn;",
    "\t\t\t}",
    "",
    "\t\t\tthis._tracker.handleDocumentClosed(documentUriFromTextDocument(e));",
    "\t\t}));",
    "",
    "\t\tfor (const doc of workspace.textDocuments) {",
]
QUITE_BELOW_NEW = ("\t\t\t}", "\t\t\t" + SELECTION + ");", "\t\t}));")

POINT = [
    "class Point3D {",
    "    x: number;",
    "    y: number;",
    "",
    "    constructor(x: number, y: number) {",
    "        this.x = x;",
    "        this.y = y;",
    "    }",
    "",
    "    spaghetti(): number {",
    "        return this.x + this.y;",
]
POINT_HUNKS: list[H] = [
    (3, 5, ("    z: number;", "", "    constructor(x: number, y: number, z: number) {")),
    (7, 7, ("        this.z = z;",)),
    (10, 11, ("        return this.x + this.y + this.z;",)),
]

KTH = [
    "function updateKthEntry<T>() {}",
    "",
    "function updateAllEntries<T>(cache: Cache, documentId: DocumentId, entries: T[]) {",
    "    const cachedEntries = cache.get(documentId);",
    "    if (cachedEntries === undefined) {",
    "        return;",
    "    }",
    "    cachedEntries.push(...entries);",
    "}",
]
KTH_NEW = (
    "function updateKthEntry<T>(cache: Cache, documentId: DocumentId, k: number, entry: T) {",
    "    const cachedEntries = cache.get(documentId);",
    "    if (cachedEntries === undefined) {",
    "        return;",
    "    }",
    "    cachedEntries[k] = entry;",
    "}",
)

NO_EDITS = [
    "\t\tconst logger = this._logger.createSubLogger('_trigger');",
    "",
    "\t\tconst result = suggestion.result;",
    "\t\tif (!result?.edit) {",
    "",
    "\t\t\treturn;",
    "\t\t}",
    "",
]

REPEATED_CASES: list[tuple[str, list[str], list[H]]] = [
    (
        "a line in a window of repeated braces",
        MULTIPLY,
        [(3, 4, ("\treturn a * b * c;",))],
    ),
    ("matching line quite below", QUITE_BELOW, [(2, 3, QUITE_BELOW_NEW)]),
    ("converge at two lines", POINT, POINT_HUNKS),
    ("prefers adding lines than removing them", list("abcdef"), [(2, 4, ("c1",))]),
    ("repetitive code should not result in deletion", KTH, [(0, 1, KTH_NEW)]),
    ("no edits", NO_EDITS, []),
    # from the fast-cursor suite, which holds without the fast path too
    ("empty cursor line deleted, the next line begun", ["before", "", "after_unique"],
     [(1, 3, ("aft",))]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("original", "expected"), [c[1:] for c in REPEATED_CASES], ids=[c[0] for c in REPEATED_CASES]
)
def test_copilot_spec_repeated_lines(original: list[str], expected: list[H]) -> None:
    updated = apply(original, expected)
    got, conv = run(original, updated)
    assert [h for _, h in got] == expected
    assert conv.unchanged == (not expected)


# --- streaming: each hunk arrives as soon as it is final, never later ----------------------------


def test_hunks_arrive_while_the_region_is_still_being_written() -> None:
    updated = _splice(_splice(UNIQUE, 2, 1, TRAVERSE), 7, 2, MY_PRINT, MY_PUSH)
    got, _ = run(UNIQUE, updated)
    # the first hunk is final once line 3 agrees again (4 lines fed), the second once lines 9
    # and 10 do (10 lines fed): both before the 12-line answer ends
    assert [fed for fed, _ in got] == [4, 10]


def test_hunks_are_in_document_coordinates() -> None:
    got, _ = run(UNIQUE, _splice(UNIQUE, 2, 1, TRAVERSE), start=40)
    assert [h for _, h in got] == [(42, 43, (TRAVERSE,))]
    assert all(isinstance(h, LineHunk) for h in Converger(UNIQUE, start=0, document=UNIQUE).hunks)


def test_a_big_deletion_with_a_small_insertion_waits_for_a_better_match() -> None:
    # a, X, e, f: converging at "e", "f" would remove b, c, d for one line; Copilot's veto
    # waits, no later match comes, and the end of the answer settles it as one replacement
    got, _ = run(list("abcdef"), ["a", "X", "e", "f"])
    assert got == [(5, (1, 6, ("X", "e", "f")))]
    assert apply(list("abcdef"), [h for _, h in got]) == ["a", "X", "e", "f"]


# --- how an answer ends --------------------------------------------------------------------------


def test_an_answer_cut_short_sends_no_pending_edit_and_deletes_nothing() -> None:
    original = list("abcdef")
    got, conv = run(original, ["a", "b", "X"], complete=False)
    assert got == []
    got, _ = run(original, ["a", "b", "c"], complete=False)
    assert got == []  # the lines it did not reach are not deleted


def test_blank_lines_left_out_at_the_end_are_not_deleted() -> None:
    got, conv = run(["a", "b", "", ""], ["a", "b"])
    assert got == [] and conv.unchanged


def test_a_complete_answer_replaces_the_rest_of_the_region_with_its_pending_lines() -> None:
    got, _ = run(list("abcdef"), ["a", "b", "X", "Y"])
    assert [h for _, h in got] == [(2, 6, ("X", "Y"))]


def test_repeating_the_region_unchanged_is_no_edit() -> None:
    got, conv = run(UNIQUE, UNIQUE)
    assert got == [] and conv.unchanged and conv.rejected is None


# --- rejected answers ----------------------------------------------------------------------------

AFTER = ["    return total", "", "def other():"]


def test_an_answer_that_runs_past_the_region_is_rejected() -> None:
    region = ["def f(xs):", "    total = 0", "    for x in xs:", "        total += x"]
    rewritten = ["def f(xs):", "    subtotal = 0", "    for x in xs:", "        subtotal += x"]
    got, conv = run(region, [*rewritten, *AFTER[:2], "trailing"], after=AFTER)
    # the first hunk agreed with the region on both sides and went out; what came after the
    # region's last line (a copy of the lines after it) is not an edit
    assert [h for _, h in got] == [(1, 2, ("    subtotal = 0",))]
    assert conv.rejected is not None and "past the region" in conv.rejected


def test_an_answer_that_undoes_the_last_edit_is_rejected() -> None:
    region = ["def f(xs):", "    subtotal = 0", "    for x in xs:", "        total += x"]
    # the user just renamed total -> subtotal on line 1; the model puts it back
    last = LastEdit(1, 2, ("    total = 0",))
    updated = ["def f(xs):", "    total = 0", "    for x in xs:", "        total += x"]
    got, conv = run(region, updated, last_edit=last)
    assert got == []
    assert conv.rejected == "the answer undoes the user's last edit"
    # the same answer is an edit like any other without that history
    got, _ = run(region, updated)
    assert [h for _, h in got] == [(1, 2, ("    total = 0",))]


def test_a_rejected_answer_yields_nothing_more() -> None:
    conv = Converger(["a", "b"], start=0, document=["a", "b"])
    conv.reject("no <|editable_region_start|> in the answer")
    assert conv.feed("X") == [] and conv.finish(complete=True) == []


def test_a_hunk_touching_a_redacted_line_is_dropped_alone() -> None:
    real = ['API_KEY = "sk-abcdefghijklmnopqrstuvwx"', "a = 1", "b = 2", "c = 3", "d = 4"]
    seen = ['API_KEY = "<redacted>"', *real[1:]]
    # the model rewrote the key line (writing the marker back) and, separately, line 3
    updated = ['API_KEY = "<redacted>"  # key', "a = 1", "b = 2", "c = 30", "d = 4"]
    got, conv = run(seen, updated, document=real)
    assert [h for _, h in got] == [(3, 4, ("c = 30",))]
    assert conv.dropped == 1


@pytest.mark.parametrize(
    "last",
    [
        LastEdit(1, 2, ()),  # the typed line alone
        LastEdit(1, 3, ("    for x in xs:",)),  # the same edit, recorded with the line after it
    ],
)
def test_deleting_the_line_just_typed_is_an_undo_however_the_edit_was_recorded(
    last: LastEdit,
) -> None:
    region = ["    total = 0", "    count = 0", "    for x in xs:", "        total += x"]
    updated = ["    total = 0", "    for x in xs:", "        total += x"]
    got, conv = run(region, updated, last_edit=last)
    assert got == [] and conv.rejected == "the answer undoes the user's last edit"
