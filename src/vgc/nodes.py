"""The VG abstract syntax tree: frozen dataclasses, each carrying its source span.

Built from the Lark parse tree by :class:`vgc.parser.AstBuilder`. Names are
NFKC-normalized there, so two spellings of one identifier are one name here.
Operators are normalized to their ASCII spelling (``±`` → ``+-``, ``·`` → ``@``,
``**`` → ``^``); the spelling used in the source is kept in ``Op.text``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A source range: 1-based line and column; ``end_column`` is one past the last character."""

    line: int
    column: int
    end_line: int
    end_column: int


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Number:
    """A numeric literal; ``text`` is the spelling in the source."""

    value: float
    text: str
    span: Span


@dataclass(frozen=True)
class Name:
    """A reference to a param, random variable, latent, local, model argument or constraint."""

    id: str
    span: Span


@dataclass(frozen=True)
class Op:
    """An operator token: ``op`` is canonical (``+ - * / @ ^ +-``), ``text`` as written."""

    op: str
    text: str
    span: Span


@dataclass(frozen=True)
class BinOp:
    """``left op right``."""

    op: Op
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class UnaryOp:
    """``op operand`` for ``-``, ``+`` and ``±``."""

    op: Op
    operand: Expr
    span: Span


@dataclass(frozen=True)
class Transpose:
    """``operand'``."""

    operand: Expr
    span: Span


@dataclass(frozen=True)
class Keyword:
    """A keyword argument ``name=value`` in a call."""

    name: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class Call:
    """``func(args..., kw=value...)``: a function, a distribution, ``Mix`` or ``factor``."""

    func: str
    func_span: Span
    args: tuple[Expr, ...]
    kwargs: tuple[Keyword, ...]
    span: Span


@dataclass(frozen=True)
class Vector:
    """``[a, b, ...]``; a vector of vectors is a matrix."""

    items: tuple[Expr, ...]
    span: Span


Expr = Number | Name | BinOp | UnaryOp | Transpose | Call | Vector


# ---------------------------------------------------------------- statements


@dataclass(frozen=True)
class Param:
    """``param NAME[SHAPE] = INIT : CONSTRAINT``; every part after the name is optional."""

    name: str
    name_span: Span
    shape: tuple[Expr, ...] | None
    init: Expr | None
    constraint: Expr | None
    span: Span


@dataclass(frozen=True)
class Sample:
    """``NAME ~ DIST``."""

    name: str
    name_span: Span
    dist: Expr
    span: Span


@dataclass(frozen=True)
class Assign:
    """``NAME = EXPR`` or ``[N1, N2] = EXPR``: latent sites defined by a transform."""

    targets: tuple[Name, ...]
    is_list: bool
    value: Expr
    span: Span


@dataclass(frozen=True)
class Let:
    """``let NAME = EXPR``: a local value, never a site."""

    name: str
    name_span: Span
    value: Expr
    span: Span


@dataclass(frozen=True)
class ExprStmt:
    """A bare expression (only ``factor(...)`` is ever written so; it is rejected)."""

    expr: Expr
    span: Span


@dataclass(frozen=True)
class BadStmt:
    """A statement that did not parse or build (its diagnostic is already reported).

    ``defines`` are the names it meant to define: later uses of them are not reported again.
    """

    span: Span
    defines: tuple[str, ...] = ()


Stmt = Param | Sample | Assign | Let | ExprStmt | BadStmt


@dataclass(frozen=True)
class GuideDef:
    """``guide NAME(ARGS) { ... }``; ``args`` is None when the parentheses are omitted."""

    name: str
    name_span: Span
    args: tuple[Name, ...] | None
    body: tuple[Stmt, ...]
    span: Span


@dataclass(frozen=True)
class Program:
    """A whole file: guide blocks, or bare statements (``bare`` holds them)."""

    guides: tuple[GuideDef, ...]
    bare: tuple[Stmt, ...]
    span: Span
