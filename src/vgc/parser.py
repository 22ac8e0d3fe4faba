"""Phase 1: source text → AST.

The whole file is parsed at once by :mod:`vgc.frontend`; only when that fails does
:mod:`vgc.recovery` reparse it statement by statement to report every syntax error.
"""

from __future__ import annotations

from lark.exceptions import UnexpectedInput

from . import diagnostics as D
from . import nodes as N
from .frontend import (
    MAX_DEPTH,
    AstBuilder,
    grammar_text,
    lark_parser,
    normalize_newlines,
    parse_ast,
    recovery_parser,
    too_deep,
)


def parse_tree(text: str):
    """The parse tree of a whole file (newlines normalized), or None on a syntax error."""
    for load in (lark_parser, recovery_parser):  # the contextual lexer also reads `param let` (then VG103)
        try:
            return load().parse(text, start="start")
        except UnexpectedInput:
            pass
    return None


def _parse_or_none(lark, text: str):
    try:
        return lark.parse(text, start="start")
    except UnexpectedInput:
        return None


def parse(source: str, reporter: D.Reporter) -> N.Program:
    """Parse ``source`` into a Program, reporting every syntax error (see :mod:`vgc.recovery`).

    A program with syntax errors still yields a Program: statements that did not parse are
    :class:`vgc.nodes.BadStmt` so the checker can go on and report the other mistakes.
    """
    text = normalize_newlines(source.removeprefix("\ufeff"))
    try:
        program = parse_ast(text, reporter)  # the fast path: no parse tree
    except UnexpectedInput:  # the basic lexer's parse_tree would fail the same way: try the contextual one
        tree = _parse_or_none(recovery_parser(), text)
    else:
        if program is not None:
            return program
        tree = lark_parser().parse(text, start="start")  # it parses; it may be nested too deeply
    if tree is not None and too_deep(tree) is None:
        return AstBuilder(reporter).transform(tree)
    from .recovery import recover  # the slow path, only for programs with syntax errors

    return recover(text, reporter)


__all__ = ["MAX_DEPTH", "AstBuilder", "grammar_text", "lark_parser", "normalize_newlines", "parse", "parse_tree",
           "too_deep"]
