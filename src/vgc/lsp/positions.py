"""Positions: the compiler's line and column numbers and LSP's, in each position encoding.

The compiler counts lines from 1 and columns in code points from 1 (end exclusive); LSP counts both from 0
and columns in the units of the negotiated position encoding, UTF-16 code units by default (a character
outside the BMP, such as ``𝜃``, is two). :func:`to_position` and :func:`from_position` convert. Every other
module of the server goes through these functions, so an off-by-one or a surrogate pair is handled once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types

from .. import nodes as N

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the lexer's newlines, which are also LSP's


def _encoding(encoding) -> str:
    """``PositionEncodingKind`` or its string value (None → UTF-16, the LSP default)."""
    value = getattr(encoding, "value", encoding) or UTF16
    return value if value in (UTF8, UTF16, UTF32) else UTF16


def _units(c: str, encoding: str) -> int:
    cp = ord(c)
    if encoding == UTF16:
        return 2 if cp > 0xFFFF else 1
    if encoding == UTF8:
        return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4
    return 1


def encode_column(line: str, index: int, encoding=UTF16) -> int:
    """The LSP ``character`` of code-point offset ``index`` (0-based) in ``line``; clamped to the line."""
    enc = _encoding(encoding)
    prefix = line[: max(0, index)]
    return len(prefix) if enc == UTF32 else sum(_units(c, enc) for c in prefix)


def decode_column(line: str, character: int, encoding=UTF16) -> int:
    """The code-point offset (0-based) of LSP ``character`` in ``line``.

    A position inside a character (between the two halves of a surrogate pair) is its start; one past the
    end of the line is the end of the line.
    """
    enc = _encoding(encoding)
    units = 0
    for i, c in enumerate(line):
        units += _units(c, enc)
        if units > character:
            return i
    return len(line)


@dataclass(frozen=True)
class Source:
    """A document's lines as the compiler numbers them (a leading byte-order mark is not on line 1)."""

    lines: tuple[str, ...]
    bom: bool = False

    @staticmethod
    def of(text: str) -> Source:
        """Split ``text`` at ``\\r\\n``, ``\\r`` and ``\\n`` (the lexer's newlines, and LSP's)."""
        bom = text.startswith("\ufeff")
        return Source(tuple(_LINE_BREAK.split(text.removeprefix("\ufeff"))), bom)

    def line(self, index: int) -> str:
        """Line ``index`` (0-based), or ``""`` past the end."""
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def _bom_units(self, line: int, encoding) -> int:
        return _units("\ufeff", _encoding(encoding)) if self.bom and line == 0 else 0


def to_position(source: Source, line: int, column: int, encoding=UTF16) -> types.Position:
    """The LSP position of the compiler's 1-based ``line`` and code-point ``column`` (clamped to the text)."""
    index = line - 1
    if index >= len(source.lines):
        index, column = len(source.lines) - 1, len(source.lines[-1]) + 1
    index = max(index, 0)
    text = source.lines[index]
    character = encode_column(text, min(max(column - 1, 0), len(text)), encoding)
    return types.Position(line=index, character=character + source._bom_units(index, encoding))


def to_range(source: Source, span: N.Span, encoding=UTF16) -> types.Range:
    """The LSP range of a compiler span (end exclusive in both)."""
    start = to_position(source, span.line, span.column, encoding)
    end = to_position(source, span.end_line, span.end_column, encoding)
    if (end.line, end.character) < (start.line, start.character):
        end = start
    return types.Range(start=start, end=end)


def from_position(source: Source, position: types.Position, encoding=UTF16) -> tuple[int, int]:
    """The compiler's 1-based ``(line, column)`` (code points) of an LSP position (past the end: the end)."""
    if position.line >= len(source.lines):
        return len(source.lines), len(source.lines[-1]) + 1
    index = max(position.line, 0)
    bom = source._bom_units(index, encoding)
    column = decode_column(source.lines[index], max(position.character - bom, 0), encoding)
    return index + 1, column + 1


def end_position(source: Source, encoding=UTF16) -> types.Position:
    """The position just after the last character of the document."""
    last = len(source.lines) - 1
    return types.Position(
        line=last, character=encode_column(source.lines[last], len(source.lines[last]), encoding)
        + source._bom_units(last, encoding)
    )
