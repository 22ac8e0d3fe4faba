"""Phase 1, shared by both parsing paths: the Lark parser and the one parse tree → AST builder.

Lark (LALR, contextual lexer) parses with ``grammar/vg.lark``; one
:class:`AstBuilder` Transformer turns the parse tree into :mod:`vgc.nodes`.
:mod:`vgc.parser` (the fast path) and :mod:`vgc.recovery` (after a syntax error)
both build on this module and never on each other.
"""

from __future__ import annotations

import keyword
import math
import os
import unicodedata
from functools import lru_cache

from lark import Lark, Token, Transformer, Tree, v_args

from . import diagnostics as D
from . import nodes as N
from .nodes import Record
from .registry import KEYWORDS, PLATE_OPTIONS

_OPS = {"±": "+-", "·": "@", "**": "^"}

def grammar_text() -> str:
    """The grammar shipped in the wheel (``vgc/grammar/vg.lark``), or the checkout's ``grammar/``."""
    # os.path, not importlib.resources: `vgc check` would import zipfile and pathlib for it (issue 8)
    here = os.path.dirname(os.path.abspath(__file__))
    packaged = os.path.join(here, "grammar", "vg.lark")
    path = packaged if os.path.isfile(packaged) else os.path.join(here, "..", "..", "grammar", "vg.lark")
    with open(path, encoding="utf-8") as f:
        return f.read()


class _BracketNewlines:
    """Post-lexer: newlines inside () and [] continue the statement, as in Python."""

    always_accept = ("NEWLINE",)

    def process(self, stream):
        depth = 0
        for tok in stream:
            if tok.type in ("LPAR", "LSQB"):
                depth += 1
            elif tok.type in ("RPAR", "RSQB"):
                depth = max(0, depth - 1)
            elif tok.type == "NEWLINE" and depth:
                continue
            yield tok


_POSTLEX = _BracketNewlines()


def _lark(lexer: str, start) -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer=lexer,
        propagate_positions=True,
        maybe_placeholders=True,
        postlex=_POSTLEX,
        start=start,
        cache=True,
    )


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The parser of whole files, built once per process and cached on disk by Lark between processes.

    A basic lexer and one start symbol: it loads and lexes fastest (`vgc check` start-up, issue 8). On a
    file it parses, a contextual lexer would give the same tokens (it only narrows each choice to the
    terminals the parser accepts there); on a file it does not, :func:`recovery_parser` takes over.
    """
    return _lark("basic", "start")


@lru_cache(maxsize=1)
def recovery_parser() -> Lark:
    """The parser error recovery reparses statements and headers with: a contextual lexer (a keyword where a
    name is expected is still lexed as a name, so `param let` gets VG103, not a syntax error) and the
    extra start symbols ``statement``, ``guide_head`` and ``plate_head``."""
    return _lark("contextual", ["start", "statement", "guide_head", "plate_head"])


def _span(x) -> N.Span:
    if isinstance(x, Token):
        return N.Span(x.line, x.column, x.end_line, x.end_column)
    return N.Span(x.line, x.column, x.end_line, x.end_column)  # a Lark Meta


# Python's soft keywords as of 3.12 (`type` joined then): fixed here so that a VG file means the same
# on every Python version vgc supports.
_SOFT_KEYWORDS = frozenset({"_", "case", "match", "type"})


class AstBuilder(Transformer):
    """Parse tree → :mod:`vgc.nodes`. Name and number errors are reported, not raised."""

    def __init__(self, reporter: D.Reporter):
        super().__init__(visit_tokens=False)  # no token callbacks: skip Lark's per-token hook
        self.reporter = reporter
        # Lark's v_args wrappers are descriptors that build a new wrapper (functools.update_wrapper) on every
        # attribute lookup, i.e. once per tree node: bind each once.
        for rule in _CALLBACKS:
            setattr(self, rule, getattr(self, rule))

    # -- tokens
    def _name(self, tok: Token) -> str:
        name = unicodedata.normalize("NFKC", str(tok))
        why = (
            "it is a VG keyword" if name in KEYWORDS
            else "it is a Python keyword" if keyword.iskeyword(name) or name in _SOFT_KEYWORDS
            else "names starting with '__' are reserved" if name.startswith("__")
            else "it is not a valid identifier" if not name.isidentifier()
            else None
        )
        if why:
            self.reporter.report(
                D.BAD_NAME, _span(tok), f"'{name}' cannot be used as a name: {why}", "choose another name"
            )
        return name

    def _op(self, tok: Token) -> N.Op:
        return N.Op(_OPS.get(str(tok), str(tok)), str(tok), _span(tok))

    # -- expressions
    @v_args(inline=True, meta=True)
    def number(self, meta, tok):
        value = float(tok)
        if not math.isfinite(value):
            self.reporter.report(
                D.BAD_NUMBER,
                _span(tok),
                f"the number {tok} is too large",
                "numbers must be finite double-precision values (below about 1.8e308)",
            )
            value = 0.0
        return N.Number(value, str(tok), _span(tok))

    @v_args(inline=True)
    def name(self, tok):
        return N.Name(self._name(tok), _span(tok))

    @v_args(inline=True, meta=True)
    def binop(self, meta, left, op, right):
        return N.BinOp(self._op(op), left, right, _span(meta))

    @v_args(inline=True, meta=True)
    def unop(self, meta, op, operand):
        return N.UnaryOp(self._op(op), operand, _span(meta))

    @v_args(inline=True, meta=True)
    def transpose(self, meta, operand, _tick):
        return N.Transpose(operand, _span(meta))

    @v_args(inline=True)
    def paren(self, _l, expr, _r):
        return expr

    @v_args(meta=True)
    def call(self, meta, children):
        func, _lpar, *rest = children
        args, kwargs = [], []
        for c in rest:
            if isinstance(c, N.Keyword):
                kwargs.append(c)
            elif c is not None and not isinstance(c, Token):
                args.append(c)
        return N.Call(self._name(func), _span(func), tuple(args), tuple(kwargs), _span(meta))

    @v_args(inline=True, meta=True)
    def kwarg(self, meta, name, _eq, value):
        return N.Keyword(self._name(name), value, _span(meta))

    @v_args(meta=True)
    def vector(self, meta, children):
        items = tuple(c for c in children if c is not None and not isinstance(c, Token))
        return N.Vector(items, _span(meta))

    # -- statements
    @v_args(meta=True)
    def param_stmt(self, meta, children):
        _kw, name, *rest = children
        site = rest.pop() if rest and isinstance(rest[-1], N.SiteName) else None
        shape = init = constraint = None
        it = iter(rest)
        for c in it:
            if isinstance(c, tuple):
                shape = c
            elif isinstance(c, Token) and c.type == "EQUAL":
                init = next(it)
            elif isinstance(c, Token) and c.type == "COLON":
                constraint = next(it)
        return N.Param(self._name(name), _span(name), shape, init, constraint, _span(meta), site)

    def shape(self, children):
        return tuple(c for c in children if c is not None and not isinstance(c, Token))

    @v_args(inline=True, meta=True)
    def let_stmt(self, meta, _kw, name, _eq, value):
        return N.Let(self._name(name), _span(name), value, _span(meta))

    @v_args(inline=True)
    def site_name(self, _as, text):
        return N.SiteName(str(text)[1:-1], _span(text))

    @v_args(meta=True)
    def sample_stmt(self, meta, children):
        site = children.pop() if isinstance(children[-1], N.SiteName) else None
        target, _tilde, dist, *option = children
        kind = option[1] if option else None
        if not isinstance(target, N.Name):
            self.reporter.report(
                D.BAD_TARGET,
                target.span,
                "the left of '~' must be one name",
                "write `x ~ Normal(0, 1)`; to define several values from one draw, sample a vector",
            )
            return N.BadStmt(_span(meta), tuple(n.id for n in _walk_names(target)))
        if kind is not None and str(kind) != "batch":
            self.reporter.report(
                D.BAD_OPTION, _span(kind), f"unknown draw option '{kind}'",
                "the only one is `: batch` (keep the distribution's batch dimensions; no .to_event)",
            )
        return N.Sample(target.id, target.span, dist, _span(meta), kind is not None and str(kind) == "batch", site)

    @v_args(inline=True, meta=True)
    def assign_stmt(self, meta, target, _eq, value, site=None):
        if isinstance(target, N.Name):
            return N.Assign((target,), False, value, _span(meta), site)
        if isinstance(target, N.Vector) and target.items and all(isinstance(t, N.Name) for t in target.items):
            if site is not None:
                self.reporter.report(
                    D.BAD_TARGET, site.span, "`as \"SITE\"` names one site; this statement defines several",
                    "name the vector instead: `v = ... as \"SITE\"`, or give each its own statement",
                )
            return N.Assign(tuple(target.items), True, value, _span(meta))
        self.reporter.report(
            D.BAD_TARGET,
            target.span,
            "the left of '=' must be a name or a list of names",
            "write `x = ...` or `[x, y] = ...`",
        )
        return N.BadStmt(_span(meta), tuple(n.id for n in _walk_names(target)))

    @v_args(inline=True, meta=True)
    def net_stmt(self, meta, _kw, name, _eq, spec):
        return N.Net(self._name(name), _span(name), spec, _span(meta))

    @v_args(inline=True, meta=True)
    def expr_stmt(self, meta, expr):
        return N.ExprStmt(expr, _span(meta))

    @v_args(meta=True)
    def guide_args(self, meta, children):
        return tuple(N.Name(self._name(t), _span(t)) for t in children if isinstance(t, Token) and t.type == "NAME")

    @v_args(meta=True)
    def guide_head(self, meta, children):
        name = children[1]
        args = next((c for c in children if isinstance(c, tuple)), None)
        return GuideHead(self._name(name), _span(name), args, _span(meta))

    @v_args(meta=True)
    def guide_def(self, meta, children):
        head, *rest = children
        body = tuple(c for c in rest if not isinstance(c, Token) and c is not None)
        return N.GuideDef(head.name, head.name_span, head.args, body, _span(meta))

    @v_args(inline=True, meta=True)
    def subscript(self, meta, name, _l, sub, _r):
        value = N.Name(self._name(name), _span(name))
        if isinstance(sub, SliceBounds):
            return N.Slice(value, sub.start, sub.stop, _span(meta))
        if isinstance(sub, N.Name):
            return N.Index(value, sub, _span(meta))
        if isinstance(sub, N.Number):  # `h[0]`: one entry
            return N.Slice(value, sub, None, _span(meta), True)
        self.reporter.report(
            D.BAD_INDEX, _span(meta),
            "only a guide argument can be indexed, by a plate's name (`y[data]`), and a vector by a number "
            "(`v[0]`) or sliced (`v[0:8]`)",
            "read data as `ARG[PLATE]` inside the plate; entry i of a vector is `v[i]`, entries i..j-1 `v[i:j]`",
        )
        return N.Slice(value, None, None, _span(meta))  # stands in (already reported)

    @v_args(inline=True)
    def slice_bounds(self, start, _colon, stop):
        return SliceBounds(start, stop)

    @v_args(inline=True, meta=True)
    def plate_opt(self, meta, name, _eq, value):
        return N.Keyword(self._name(name), value, _span(meta))

    @v_args(meta=True)
    def plate_head(self, meta, children):
        name, size = children[1], children[3]
        options = tuple(c for c in children[4:] if isinstance(c, N.Keyword))
        return PlateHead(self._name(name), _span(name), size, self.plate_options(options), _span(meta))

    def plate_options(self, options: tuple[N.Keyword, ...]) -> tuple[N.Keyword, ...]:
        """Keep the known options, once each; report the others (VG109)."""
        kept: dict[str, N.Keyword] = {}
        for o in options:
            if o.name not in PLATE_OPTIONS:
                from .scope import did_you_mean

                self.reporter.report(
                    D.BAD_OPTION, o.span, f"a plate has no option '{o.name}'",
                    did_you_mean(o.name, PLATE_OPTIONS)
                    or "a plate takes its size, then optionally `subsample=K` and `dim=D`",
                )
            elif o.name in kept:
                self.reporter.report(D.BAD_OPTION, o.span, f"the option '{o.name}' is given twice",
                                     "give each option once")
            else:
                kept[o.name] = o
        return tuple(kept.values())

    @v_args(meta=True)
    def plate_def(self, meta, children):
        head, *rest = children
        body = tuple(c for c in rest if not isinstance(c, Token) and c is not None)
        return N.Plate(head.name, head.name_span, head.size, head.options, body, _span(meta))

    @v_args(inline=True)
    def statement(self, stmt):
        return stmt

    def start(self, children):
        return build_program([c for c in children if not isinstance(c, Token)], self.reporter)


def _walk_names(e: N.Expr):
    """The names written in a rejected target (``[x, f(y)]``: x)."""
    if isinstance(e, N.Name):
        yield e
    elif isinstance(e, N.Vector):
        for item in e.items:
            yield from _walk_names(item)


_CALLBACKS = [name for name in vars(AstBuilder) if not name.startswith("_") and name != "plate_options"]


class GuideHead(Record):
    """``guide NAME(ARGS) {``: parsed on its own when recovering from a syntax error."""

    __slots__ = ("name", "name_span", "args", "span")
    name: str
    name_span: N.Span
    args: tuple[N.Name, ...] | None
    span: N.Span


class SliceBounds(Record):
    """The ``i:j`` of a slice, before the builder knows what it slices."""

    __slots__ = ("start", "stop")
    start: N.Expr | None
    stop: N.Expr | None


class PlateHead(Record):
    """``plate NAME(SIZE, OPTIONS) {``: parsed on its own when recovering from a syntax error."""

    __slots__ = ("name", "name_span", "size", "options", "span")
    name: str
    name_span: N.Span
    size: N.Expr | None
    options: tuple[N.Keyword, ...]
    span: N.Span


def build_program(items: list, reporter: D.Reporter) -> N.Program:
    """Guides or bare statements (VG106 when a file has both)."""
    guides = tuple(c for c in items if isinstance(c, N.GuideDef))
    bare = tuple(c for c in items if not isinstance(c, N.GuideDef))
    if guides and bare:
        first = bare[0] if items.index(bare[0]) > items.index(guides[0]) else guides[0]
        reporter.report(
            D.MIXED_PROGRAM,
            first.span,
            "a file holds either guide blocks or bare statements, not both",
            "move the bare statements into a `guide NAME { ... }` block",
        )
    return N.Program(guides, bare if not guides else (), N.Span(1, 1, 1, 1))


# Deeper expressions are refused (VG107) rather than risking Python's recursion limit in the
# recursive phases after parsing; real guides nest a few levels.
MAX_DEPTH = 100


def too_deep(tree: Tree, depth: int = 1) -> Tree | None:
    """The first subtree nested more than MAX_DEPTH levels below ``tree``, if any.

    Every level of the parse tree owns at least one character, so subtrees shorter than the
    depth still allowed are skipped without a walk.
    """
    stack = [(tree, depth)]
    while stack:
        t, d = stack.pop()
        if d > MAX_DEPTH:
            return t
        meta = t.meta
        if not meta.empty and d + (meta.end_pos - meta.start_pos) + 2 <= MAX_DEPTH:
            continue
        stack.extend((c, d + 1) for c in t.children if isinstance(c, Tree))
    return None


def normalize_newlines(text: str) -> str:
    """CRLF and CR become LF (columns are unchanged: CR only ever ends a line)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


__all__ = ["AstBuilder", "GuideHead", "PlateHead", "Tree", "build_program", "grammar_text", "lark_parser",
           "recovery_parser"]
