"""The program at the cursor: the word under it and the guide block (and plates) around it.

Hover and completion both ask "what is written here?" of a document that is often half typed: the parser
recovers from errors, so an unclosed guide or plate (recovery ends it at its last statement) is taken to run
to the end of the text. Positions here are the compiler's, 1-based (see :mod:`vgc.lsp.positions`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .. import diagnostics as D
from .. import nodes as N
from .. import parser
from .positions import Source

# One line as the lexer sees it: a comment ends it; numbers before names (`1e3` is one number).
_TOKEN = re.compile(r"(?P<comment>#.*)|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[^\W\d]\w*)|.", re.S)


@dataclass(frozen=True)
class Word:
    """The name under (or just before) the cursor."""

    text: str  # NFKC-normalized, as the compiler reads it
    line: int  # 1-based
    start: int  # 1-based code-point columns, end exclusive
    end: int
    call: bool  # followed by '('


def word_at(source: Source, line: int, column: int) -> Word | None:
    """The name containing the cursor or ending at it; None in a comment, a number or whitespace."""
    text = source.line(line - 1)
    i = column - 1
    for m in _TOKEN.finditer(text):
        if m.start() > i:
            break
        if m.lastgroup == "comment":
            return None
        if m.lastgroup == "name" and m.start() <= i <= m.end():
            call = text[m.end() :].lstrip().startswith("(")
            return Word(unicodedata.normalize("NFKC", m.group()), line, m.start() + 1, m.end() + 1, call)
    return None


def _contains(span: N.Span, at: tuple[int, int]) -> bool:
    return (span.line, span.column) <= at <= (span.end_line, span.end_column)


def _closed(source: Source, block: N.GuideDef | N.Plate) -> bool:
    """Whether a block ends with its ``}`` (recovery ends an unclosed one at its last statement)."""
    text = source.line(block.span.end_line - 1)
    return 0 < block.span.end_column - 1 <= len(text) and text[block.span.end_column - 2] == "}"


def _inside(source: Source, plate: N.Plate, at: tuple[int, int]) -> bool:
    """Whether ``at`` is in the plate (before its ``}``; an unclosed plate runs to the end of the text)."""
    span = plate.span
    return (span.line, span.column) < at and (at < (span.end_line, span.end_column) or not _closed(source, plate))


def _body_at(program: N.Program, source: Source, at: tuple[int, int]) -> tuple[int | None, tuple[N.Stmt, ...]]:
    """The guide block containing ``at`` (its index; 0 for a bare file) and its statements."""
    if not program.guides:
        return 0, program.bare
    index = guide_at(program, source, at)
    return index, (() if index is None else program.guides[index].body)


def guide_at(program: N.Program, source: Source, at: tuple[int, int]) -> int | None:
    """Index of the guide block containing ``at`` (an unclosed last block extends to the end); None outside."""
    for i, g in enumerate(program.guides):
        if _contains(g.span, at):
            return i
    if program.guides:
        last = program.guides[-1]
        if (last.span.line, last.span.column) <= at and not _closed(source, last):
            return len(program.guides) - 1
    return None


def _parse(text: str) -> tuple[N.Program, D.Reporter]:
    reporter = D.Reporter()
    return parser.parse(text, reporter), reporter
