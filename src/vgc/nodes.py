"""The VG abstract syntax tree: immutable nodes, each carrying its source span.

Built from the Lark parse tree by :class:`vgc.frontend.AstBuilder`. Names are
NFKC-normalized there, so two spellings of one identifier are one name here.
Operators are normalized to their ASCII spelling (``±`` → ``+-``, ``·`` → ``@``,
``**`` → ``^``); the spelling used in the source is kept in ``Op.text``.

The nodes are slotted classes on one small :class:`Node` base rather than frozen
dataclasses: ``vgc check`` imports this module on every start, and creating a
frozen dataclass execs half a dozen generated methods (about 0.35 ms a class).
They behave like frozen dataclasses: keyword or positional construction,
field-wise equality and hashing, a readable ``repr``, no assignment.
"""

from __future__ import annotations

from typing import ClassVar


class Node:
    """Base of the AST nodes and records: ``__slots__`` lists the fields, in order; ``_defaults`` the defaults."""

    __slots__ = ()
    _defaults: ClassVar[dict] = {}

    def __init__(self, *args, **kwargs):
        fields = self.__slots__
        if kwargs or len(args) != len(fields):
            args = self._complete(args, kwargs)
        set_field = object.__setattr__
        for f, v in zip(fields, args):
            set_field(self, f, v)

    def _complete(self, args: tuple, kwargs: dict) -> tuple:
        """All field values in order, from positional and keyword arguments and the defaults."""
        fields = self.__slots__
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__} takes {len(fields)} fields, got {len(args)}")
        values = dict(zip(fields, args))
        for k, v in kwargs.items():
            if k not in fields or k in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated field {k!r}")
            values[k] = v
        for f in fields:
            if f not in values:
                if f not in self._defaults:
                    raise TypeError(f"{type(self).__name__} is missing field {f!r}")
                values[f] = self._defaults[f]
        return tuple(values[f] for f in fields)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple:
        return tuple(getattr(self, f) for f in self.__slots__)

    def __eq__(self, other):
        return type(self) is type(other) and self._values() == other._values()

    def __hash__(self):
        return hash((type(self).__name__, *self._values()))

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__slots__) + ")"

    def __reduce__(self):
        return (type(self), self._values())

    def _replace(self, **changes):
        """A copy with some fields changed (as ``NamedTuple._replace``)."""
        return type(self)(**{f: changes.pop(f, getattr(self, f)) for f in self.__slots__}, **changes)


Record = Node  # the base of the compiler's other immutable records (IR, specs): same cheap class creation


def fields(node: Node) -> tuple[str, ...]:
    """The field names of a node, in order."""
    return type(node).__slots__


class Span(Node):
    """A source range: 1-based line and column; ``end_column`` is one past the last character."""

    __slots__ = ("line", "column", "end_line", "end_column")
    line: int
    column: int
    end_line: int
    end_column: int


# ---------------------------------------------------------------- expressions


class Number(Node):
    """A numeric literal; ``text`` is the spelling in the source."""

    __slots__ = ("value", "text", "span")
    value: float
    text: str
    span: Span


class Name(Node):
    """A reference to a param, random variable, latent, local, model argument or constraint."""

    __slots__ = ("id", "span")
    id: str
    span: Span


class Op(Node):
    """An operator token: ``op`` is canonical (``+ - * / @ ^ +-``), ``text`` as written."""

    __slots__ = ("op", "text", "span")
    op: str
    text: str
    span: Span


class BinOp(Node):
    """``left op right``."""

    __slots__ = ("op", "left", "right", "span")
    op: Op
    left: Expr
    right: Expr
    span: Span


class UnaryOp(Node):
    """``op operand`` for ``-``, ``+`` and ``±``."""

    __slots__ = ("op", "operand", "span")
    op: Op
    operand: Expr
    span: Span


class Transpose(Node):
    """``operand'``."""

    __slots__ = ("operand", "span")
    operand: Expr
    span: Span


class Keyword(Node):
    """A keyword argument ``name=value`` in a call (or an option of a plate)."""

    __slots__ = ("name", "value", "span")
    name: str
    value: Expr
    span: Span


class Call(Node):
    """``func(args..., kw=value...)``: a function, a distribution, ``Mix``, ``factor`` or ``len``."""

    __slots__ = ("func", "func_span", "args", "kwargs", "span")
    func: str
    func_span: Span
    args: tuple[Expr, ...]
    kwargs: tuple[Keyword, ...]
    span: Span


class Vector(Node):
    """``[a, b, ...]``; a vector of vectors is a matrix."""

    __slots__ = ("items", "span")
    items: tuple[Expr, ...]
    span: Span


class Index(Node):
    """``ARG[PLATE]``: guide argument ``ARG`` at plate ``PLATE``'s current (sub)sampled indices."""

    __slots__ = ("name", "plate", "span")
    name: Name
    plate: Name
    span: Span


class Slice(Node):
    """``value[start:stop]``: entries start..stop-1 of a vector (either bound may be omitted), or with
    ``single`` ``value[start]``: entry ``start``, a scalar."""

    __slots__ = ("value", "start", "stop", "span", "single")
    _defaults: ClassVar[dict] = {"single": False}
    value: Expr
    start: Expr | None
    stop: Expr | None
    span: Span
    single: bool


Expr = Number | Name | BinOp | UnaryOp | Transpose | Call | Vector | Index | Slice


def children(e: Expr) -> tuple:
    """The sub-expressions of ``e``, in source order (the one definition of expression structure)."""
    t = type(e)
    if t is BinOp:
        return (e.left, e.right)
    if t is UnaryOp or t is Transpose:
        return (e.operand,)
    if t is Vector:
        return e.items
    if t is Call:
        return e.args + tuple(k.value for k in e.kwargs) if e.kwargs else e.args
    if t is Slice:
        return tuple(x for x in (e.value, e.start, e.stop) if x is not None)
    return ()


def walk(e: Expr):
    """``e`` and every sub-expression, pre-order (iterative: deep trees do not hit the recursion limit)."""
    stack = [e]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(reversed(children(x)))


def names(e: Expr) -> set[str]:
    """The names ``e`` reads (an ``ARG[PLATE]`` reads ``ARG``)."""
    out = set()
    for x in walk(e):
        if type(x) is Name:
            out.add(x.id)
        elif type(x) is Index:
            out.add(x.name.id)
    return out


def first_use(e: Expr, name: str) -> Span | None:
    """Where ``e`` first reads ``name``."""
    for x in walk(e):
        if type(x) is Name and x.id == name:
            return x.span
    return None


def has_pm(e: Expr) -> bool:
    """Whether ``e`` contains a ``±``."""
    return any(type(x) in (UnaryOp, BinOp) and x.op.op == "+-" for x in walk(e))


# ---------------------------------------------------------------- statements


class SiteName(Node):
    """``as "SITE"``: the NumPyro name of the site a statement defines, when it is not a VG name."""

    __slots__ = ("text", "span")
    text: str
    span: Span


class Param(Node):
    """``param NAME[SHAPE] = INIT : CONSTRAINT as "SITE"``; every part after the name is optional."""

    __slots__ = ("name", "name_span", "shape", "init", "constraint", "span", "site")
    _defaults: ClassVar[dict] = {"site": None}
    name: str
    name_span: Span
    shape: tuple[Expr, ...] | None
    init: Expr | None
    constraint: Expr | None
    span: Span
    site: SiteName | None


class Sample(Node):
    """``NAME ~ DIST``, or ``NAME ~ DIST : batch`` (``batch``: no ``.to_event``, one value per batch entry), or
    ``NAME ~ DIST : batch(K)`` (``batch_dims`` K: the leftmost K batch dimensions kept, the rest event)."""

    __slots__ = ("name", "name_span", "dist", "span", "batch", "site", "batch_dims")
    _defaults: ClassVar[dict] = {"batch": False, "site": None, "batch_dims": None}
    name: str
    name_span: Span
    dist: Expr
    span: Span
    batch: bool
    site: SiteName | None
    batch_dims: int | None  # K of `: batch(K)`; None: all of them (`: batch`)


class Assign(Node):
    """``NAME = EXPR`` or ``[N1, N2] = EXPR``: latent sites defined by a transform (one name: ``as "SITE"``)."""

    __slots__ = ("targets", "is_list", "value", "span", "site")
    _defaults: ClassVar[dict] = {"site": None}
    targets: tuple[Name, ...]
    is_list: bool
    value: Expr
    span: Span
    site: SiteName | None


class Let(Node):
    """``let NAME = EXPR``: a local value, never a site."""

    __slots__ = ("name", "name_span", "value", "span")
    name: str
    name_span: Span
    value: Expr
    span: Span


class Net(Node):
    """``net NAME = mlp(SIZES..., act=ACT)`` or ``net NAME = module(ARG)``: a network, applied as ``NAME(x)``."""

    __slots__ = ("name", "name_span", "spec", "span")
    name: str
    name_span: Span
    spec: Expr  # a Call of mlp or module when well formed (the checker says what else it is)
    span: Span


class ExprStmt(Node):
    """A bare expression (only ``factor(...)`` is ever written so; it is rejected)."""

    __slots__ = ("expr", "span")
    expr: Expr
    span: Span


class BadStmt(Node):
    """A statement that did not parse or build (its diagnostic is already reported).

    ``defines`` are the names it meant to define: later uses of them are not reported again.
    """

    __slots__ = ("span", "defines")
    _defaults: ClassVar[dict] = {"defines": ()}
    span: Span
    defines: tuple[str, ...]


class Plate(Node):
    """``plate NAME(SIZE, subsample=K, dim=D) { ... }``: NumPyro's ``numpyro.plate``; options may be absent.
    ``site``: ``as "NAME"`` after the parenthesis, the plate's NumPyro name when it is not a VG name."""

    __slots__ = ("name", "name_span", "size", "options", "body", "span", "site")
    _defaults: ClassVar[dict] = {"site": None}
    name: str
    name_span: Span
    size: Expr | None  # None: the header did not parse (recovery)
    options: tuple[Keyword, ...]
    body: tuple[Stmt, ...]
    span: Span
    site: SiteName | None


Stmt = Param | Sample | Assign | Let | Net | ExprStmt | BadStmt | Plate


class GuideDef(Node):
    """``guide NAME(ARGS) { ... }``; ``args`` is None when the parentheses are omitted."""

    __slots__ = ("name", "name_span", "args", "body", "span")
    name: str
    name_span: Span
    args: tuple[Name, ...] | None
    body: tuple[Stmt, ...]
    span: Span


class Program(Node):
    """A whole file: guide blocks, or bare statements (``bare`` holds them)."""

    __slots__ = ("guides", "bare", "span")
    guides: tuple[GuideDef, ...]
    bare: tuple[Stmt, ...]
    span: Span
