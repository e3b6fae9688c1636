"""Client positions to str indices: the column the kept rate looks at later."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.workspace import PositionCodec, TextDocument

from inkstream.completion.documents import column_of
from inkstream.errors import InvalidParams

SOURCE = 'def f():\n    x = "😋é" + \n'


def _doc(encoding: types.PositionEncodingKind) -> TextDocument:
    return TextDocument("file:///t.py", SOURCE, position_codec=PositionCodec(encoding))


PREFIX = '    x = "😋é" + '  # the cursor is after it, on line 1
UNITS = {
    types.PositionEncodingKind.Utf16: len(PREFIX.encode("utf-16-le")) // 2,  # the emoji is two
    types.PositionEncodingKind.Utf8: len(PREFIX.encode("utf-8")),  # four bytes, and two for é
    types.PositionEncodingKind.Utf32: len(PREFIX),
}


@pytest.mark.parametrize("encoding", list(UNITS))
def test_column_of_is_a_str_index_whatever_the_encoding(
    encoding: types.PositionEncodingKind,
) -> None:
    assert len(set(UNITS.values())) == 3  # the three encodings disagree on this line
    column = column_of(_doc(encoding), types.Position(1, UNITS[encoding]))
    assert SOURCE.split("\n")[1][:column] == PREFIX


def test_column_of_refuses_what_offset_of_refuses() -> None:
    doc = _doc(types.PositionEncodingKind.Utf16)
    assert column_of(doc, types.Position(2, 0)) == 0  # the empty last line
    with pytest.raises(InvalidParams):
        column_of(doc, types.Position(1, 40))
