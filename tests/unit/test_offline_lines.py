"""Whole lines recalled from the project and the document (``lines.py``), and the decoder
writing them at the cursor."""

from __future__ import annotations

import pickle

from inkstream.completion.context import CompletionContext
from inkstream.providers.offline.decoder import Decoder, document_around, document_model
from inkstream.providers.offline.lines import LineIndex, Spot, imported, lines_of, recall, shape
from inkstream.providers.offline.ngram import Models, train
from inkstream.providers.offline.structure import Structure, binds
from inkstream.providers.offline.tokens import model_tokens, tokenize_code

PROJECT = """\
from app.storage import TempDirectory
from app.storage import open_bucket


def find(env, name):
    dist = env.get_distribution(name)
    if dist is None:
        return None
    return dist.location


def headers(fields):
    known = [
        ("Name", True),
        ("Version", True),
        ("Summary", False),
    ]
    return known
"""


def tokens(source: str) -> list[str]:
    return model_tokens(tokenize_code(source, "python"), "python")


def project_models(source: str = PROJECT) -> Models:
    return [(train([tokens(source)], lines="project"), 4.0)]


def ctx(prefix: str, suffix: str = "") -> CompletionContext:
    return CompletionContext("file:///p/x.py", "/p/x.py", "python", prefix, suffix)


def complete(prefix: str, suffix: str = "", source: str = PROJECT) -> str:
    c = ctx(prefix, suffix)
    models = [*project_models(source), (document_model(*document_around(c), "python"), 3.0)]
    structure = Structure.of(prefix, suffix, "python")
    return "".join(Decoder(models, c, structure).tokens(200))


def test_lines_of_gives_each_code_line_and_its_indentation_change() -> None:
    found = list(lines_of(tokens("def f(a):\n    if a:  # why\n        return 1\n    x = 2\n")))
    assert found == [("def f(a):", 0), ("if a:", 4), ("return 1", 4), ("x = 2", -4)]
    long = "x = '" + "a" * 80 + "'\ny = 1\n"
    assert [code for code, _ in lines_of(tokens(long))] == ["", "y = 1"]  # cut: not written back


def test_shape_numbers_the_names() -> None:
    assert shape("dist = env.get(name, dist)") == (
        "$0 = $1.$2($3, $0)",
        ["dist", "env", "get", "name"],
    )
    assert shape("if x is None:")[0] == "if $0 is None:"


def test_imported_names() -> None:
    assert imported("from a.b import c as d, e") == ["d", "e"]
    assert imported("import os.path") == ["os"]
    assert imported("x = 1") == []
    assert binds("from a import b") == {"b"}
    assert binds("dist = get(name)") == {"dist"}


def test_evidence_finds_a_line_by_its_neighbours() -> None:
    index = LineIndex.build([tokens(PROJECT)])
    found = index.evidence(Spot('("Name", True),', '("Summary", False),', "known = ["))
    assert found[('("Version", True),', 0)] == {"after": 1, "after2": 1, "sandwich": 1, "before": 1}
    shaped = index.evidence(Spot("d = env.get_distribution(req)"))
    assert ("if d is None:", 0) in shaped  # ``dist`` renamed after the line's shape
    assert index.evidence(Spot("", wanted=frozenset({"TempDirectory"}))) == {
        ("from app.storage import TempDirectory", None): {"imports": 1}
    }
    typed = index.evidence(Spot("zzz", typed="from app.storage import o"))
    assert list(typed) == [("from app.storage import open_bucket", None)]


def test_recall_prefers_the_strongest_evidence_that_fits() -> None:
    index = LineIndex.build([tokens(PROJECT)])
    spot = Spot('("Name", True),', '("Summary", False),', "known = [")
    best = recall([index], spot)
    assert best is not None and best.code == '("Version", True),'
    other = recall([index], spot, lambda code, _shift: code != '("Version", True),')
    assert other is None or other.code != '("Version", True),'
    assert recall([index], Spot("nothing like this")) is None


def test_the_index_survives_pickling() -> None:
    model = train([tokens(PROJECT)], lines="project")
    again = pickle.loads(pickle.dumps(model))
    assert again.lines is not None
    spot = Spot("if dist is None:")
    assert again.lines.evidence(spot) == model.lines.evidence(spot)  # type: ignore[union-attr]


def test_the_line_after_an_assignment_comes_from_the_same_shape_elsewhere() -> None:
    prefix = "def locate(env, req):\n    found = env.get_distribution(req)\n    "
    assert complete(prefix, "\n        return None\n").startswith("if found is None:")


def test_a_name_read_below_and_never_imported_gets_its_import() -> None:
    prefix = "from app.storage import open_bucket\n"
    suffix = "\n\n\ndef make():\n    return TempDirectory(open_bucket())\n"
    structure = Structure.of(prefix, suffix, "python")
    assert structure is not None and "TempDirectory" in structure.wanted
    assert complete(prefix, suffix) == "from app.storage import TempDirectory"


def test_a_typed_line_is_finished_as_the_project_wrote_it() -> None:
    assert complete("from app.storage import T", "\n") == "empDirectory"


def test_a_field_between_its_neighbours() -> None:
    prefix = 'def spec():\n    fields = [\n        ("Name", True),\n        '
    suffix = '\n        ("Summary", False),\n    ]\n'
    assert complete(prefix, suffix) == '("Version", True),'


def test_init_stores_the_next_parameter_on_self() -> None:
    prefix = (
        "class Job:\n    def __init__(self, name, retries=3):\n        self.name = name\n        "
    )
    structure = Structure.of(prefix, "\n", "python")
    assert structure is not None and structure.unstored == ["self.retries = retries"]
    assert complete(prefix, "\n") == "self.retries = retries"
    private = (
        "class Job:\n    def __init__(self, name, retries):\n        self._name = name\n        "
    )
    assert complete(private, "\n") == "self._retries = retries"


def test_a_line_before_one_of_the_same_shape() -> None:
    index = LineIndex.build([tokens(PROJECT)])
    found = index.evidence(Spot("zzz", "if where is None:"))  # as after ``dist = ...``
    assert found[("where = env.get_distribution(name)", 4)] == {"shape_before": 1}
