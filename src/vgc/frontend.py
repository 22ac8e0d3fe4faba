"""Phase 1, shared by both parsing paths: the Lark parser and the one parse tree → AST builder.

Lark (LALR, contextual lexer) parses with ``grammar/vg.lark``; one
:class:`AstBuilder` Transformer turns the parse tree into :mod:`vgc.nodes`.
:mod:`vgc.parser` (the fast path) and :mod:`vgc.recovery` (after a syntax error)
both build on this module and never on each other.
"""

from __future__ import annotations

import math
import os
import threading
import unicodedata
from functools import lru_cache
from itertools import accumulate
from types import SimpleNamespace
from typing import ClassVar

from lark import Lark, Token, Tree

from . import diagnostics as D
from . import nodes as N
from .nodes import Record
from .registry import PLATE_OPTIONS, name_problem

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




class AstBuilder:
    """Parse tree → :mod:`vgc.nodes`. Name and number errors are reported, not raised.

    One method per grammar rule (``?`` rules that only pass their child on have none), called as
    ``rule(span, c)``: ``c`` the rule's children, subtrees already built, tokens as Lark gives them
    (``None`` for an absent ``[...]``); ``span`` the rule's source range, as ``propagate_positions``
    computes it (from the start of its first child to the end of its last). The same methods build the
    AST from a parse tree (:meth:`transform`, used after a syntax error and by ``vgc fmt``) and straight
    from Lark's reductions, without a tree (:func:`parse_ast`, the fast path).
    """

    def __init__(self, reporter: D.Reporter):
        self.reporter = reporter

    def transform(self, tree: Tree):
        """The node of ``tree`` (of any rule, as Lark's ``Transformer.transform``: bottom-up, in source order)."""

        def build(t: Tree):
            c = [build(x) if isinstance(x, Tree) else x for x in t.children]
            meta = t.meta
            return getattr(self, t.data)(None if meta.empty else _span(meta), c)

        return build(tree)

    # -- tokens
    def _name(self, tok: Token) -> str:
        name = unicodedata.normalize("NFKC", str(tok))
        why = name_problem(name)
        if why:
            self.reporter.report(
                D.BAD_NAME, _span(tok), f"'{name}' cannot be used as a name: {why}", "choose another name"
            )
        return name

    def _op(self, tok: Token) -> N.Op:
        return N.Op(_OPS.get(tok, str(tok)), str(tok), _span(tok))

    # -- expressions
    def number(self, span, c):
        tok = c[0]
        value = float(tok)
        if not math.isfinite(value):
            self.reporter.report(
                D.BAD_NUMBER,
                span,
                f"the number {tok} is too large",
                "numbers must be finite double-precision values (below about 1.8e308)",
            )
            value = 0.0
        return N.Number(value, str(tok), span)

    def name(self, span, c):
        return N.Name(self._name(c[0]), span)

    def binop(self, span, c):
        left, op, right = c
        return N.BinOp(self._op(op), left, right, span)

    def unop(self, span, c):
        return N.UnaryOp(self._op(c[0]), c[1], span)

    def transpose(self, span, c):
        return N.Transpose(c[0], span)

    def paren(self, span, c):
        return c[1]

    def call(self, span, c):
        func, _lpar, *rest = c
        args, kwargs = [], []
        for x in rest:
            if isinstance(x, N.Keyword):
                kwargs.append(x)
            elif x is not None and not isinstance(x, Token):
                args.append(x)
        return N.Call(self._name(func), _span(func), tuple(args), tuple(kwargs), span)

    def kwarg(self, span, c):
        name, _eq, value = c
        return N.Keyword(self._name(name), value, span)

    def vector(self, span, c):
        items = tuple(x for x in c if x is not None and not isinstance(x, Token))
        return N.Vector(items, span)

    # -- statements
    def param_stmt(self, span, c):
        _kw, name, *rest = c
        site = rest.pop() if rest and isinstance(rest[-1], N.SiteName) else None
        shape = init = constraint = None
        it = iter(rest)
        for x in it:
            if isinstance(x, tuple):
                shape = x
            elif isinstance(x, Token) and x.type == "EQUAL":
                init = next(it)
            elif isinstance(x, Token) and x.type == "COLON":
                constraint = next(it)
        return N.Param(self._name(name), _span(name), shape, init, constraint, span, site)

    def shape(self, span, c):
        return tuple(x for x in c if x is not None and not isinstance(x, Token))

    def let_stmt(self, span, c):
        _kw, name, _eq, value = c
        return N.Let(self._name(name), _span(name), value, span)

    def site_name(self, span, c):
        text = c[1]
        return N.SiteName(str(text)[1:-1], _span(text))

    def sample_stmt(self, span, c):
        site = c.pop() if isinstance(c[-1], N.SiteName) else None
        target, _tilde, dist, *option = c
        kind = option[1] if option else None
        dims = None
        if len(option) > 2:  # `: batch(K)`: K a whole number ≥ 1
            k = option[3]
            dims = int(str(k)) if str(k).isdigit() and int(str(k)) >= 1 else None
            if dims is None:
                self.reporter.report(
                    D.BAD_OPTION, _span(k), f"`: batch({k})` needs a whole number of batch dimensions, at least 1",
                    "`: batch(1)` keeps the leftmost dimension as a batch dimension; without `: batch` there is none",
                )
        if not isinstance(target, N.Name):
            self.reporter.report(
                D.BAD_TARGET,
                target.span,
                "the left of '~' must be one name",
                "write `x ~ Normal(0, 1)`; to define several values from one draw, sample a vector",
            )
            return N.BadStmt(span, tuple(n.id for n in _walk_names(target)))
        if kind is not None and str(kind) != "batch":
            self.reporter.report(
                D.BAD_OPTION, _span(kind), f"unknown draw option '{kind}'",
                "the only one is `: batch` (keep the distribution's batch dimensions; no .to_event)",
            )
        batch = kind is not None and str(kind) == "batch"
        return N.Sample(target.id, target.span, dist, span, batch, site, dims if batch else None)

    def assign_stmt(self, span, c):
        target, _eq, value, *rest = c
        site = rest[0] if rest else None
        if isinstance(target, N.Name):
            return N.Assign((target,), False, value, span, site)
        if isinstance(target, N.Vector) and target.items and all(isinstance(t, N.Name) for t in target.items):
            if site is not None:
                self.reporter.report(
                    D.BAD_TARGET, site.span, "`as \"SITE\"` names one site; this statement defines several",
                    "name the vector instead: `v = ... as \"SITE\"`, or give each its own statement",
                )
            return N.Assign(tuple(target.items), True, value, span)
        self.reporter.report(
            D.BAD_TARGET,
            target.span,
            "the left of '=' must be a name or a list of names",
            "write `x = ...` or `[x, y] = ...`",
        )
        return N.BadStmt(span, tuple(n.id for n in _walk_names(target)))

    def net_stmt(self, span, c):
        _kw, name, _eq, spec = c
        return N.Net(self._name(name), _span(name), spec, span)

    def expr_stmt(self, span, c):
        return N.ExprStmt(c[0], span)

    def guide_args(self, span, c):
        return tuple(N.Name(self._name(t), _span(t)) for t in c if isinstance(t, Token) and t.type == "NAME")

    def guide_head(self, span, c):
        name = c[1]
        args = next((x for x in c if isinstance(x, tuple)), None)
        return GuideHead(self._name(name), _span(name), args, span)

    def guide_def(self, span, c):
        head, *rest = c
        body = tuple(x for x in rest if not isinstance(x, Token) and x is not None)
        return N.GuideDef(head.name, head.name_span, head.args, body, span)

    def subscript(self, span, c):
        name, _l, sub, _r = c
        value = N.Name(self._name(name), _span(name))
        if isinstance(sub, SliceBounds):
            return N.Slice(value, sub.start, sub.stop, span)
        if isinstance(sub, N.Name):
            return N.Index(value, sub, span)
        if isinstance(sub, N.Number):  # `h[0]`: one entry
            return N.Slice(value, sub, None, span, True)
        self.reporter.report(
            D.BAD_INDEX, span,
            "only a guide argument can be indexed, by a plate's name (`y[data]`), and a vector by a number "
            "(`v[0]`) or sliced (`v[0:8]`)",
            "read data as `ARG[PLATE]` inside the plate; entry i of a vector is `v[i]`, entries i..j-1 `v[i:j]`",
        )
        return N.Slice(value, None, None, span)  # stands in (already reported)

    def slice_bounds(self, span, c):
        return SliceBounds(c[0], c[2])

    def plate_opt(self, span, c):
        name, _eq, value = c
        return N.Keyword(self._name(name), value, span)

    def plate_head(self, span, c):
        name, size = c[1], c[3]
        options = tuple(x for x in c[4:] if isinstance(x, N.Keyword))
        site = next((x for x in c[4:] if isinstance(x, N.SiteName)), None)
        return PlateHead(self._name(name), _span(name), size, self.plate_options(options), span, site)

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

    def plate_def(self, span, c):
        head, *rest = c
        body = tuple(x for x in rest if not isinstance(x, Token) and x is not None)
        return N.Plate(head.name, head.name_span, head.size, head.options, body, span, head.site)

    def statement(self, span, c):
        return c[0]

    def start(self, span, c):
        return build_program([x for x in c if not isinstance(x, Token)], self.reporter)


def _walk_names(e: N.Expr):
    """The names written in a rejected target (``[x, f(y)]``: x)."""
    if isinstance(e, N.Name):
        yield e
    elif isinstance(e, N.Vector):
        for item in e.items:
            yield from _walk_names(item)


# the rules AstBuilder builds (the others are `?` rules that pass their one child on, or inlined `_` rules)
_RULES = [name for name in vars(AstBuilder) if not name.startswith("_") and name not in ("transform", "plate_options")]


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

    __slots__ = ("name", "name_span", "size", "options", "span", "site")
    _defaults: ClassVar[dict] = {"site": None}
    name: str
    name_span: N.Span
    size: N.Expr | None
    options: tuple[N.Keyword, ...]
    span: N.Span
    site: N.SiteName | None


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


class _Inline(AstBuilder):
    """Builds the AST at Lark's reductions, so that no parse tree is made (the fast path, :func:`parse_ast`).

    Lark calls one function per rule with the rule's children (:meth:`callbacks`); this computes the span
    that ``propagate_positions`` would have given the rule's tree and calls the rule's method. Lark
    cannot give spans to such callbacks itself: it sets positions only on trees. Two things a tree's
    extent has that the node standing for it has not are kept aside, in ``outer``: the parentheses
    around an expression (``paren`` returns the expression itself) and the brackets of a shape (a
    tuple). One instance serves the process's inline parser; :func:`parse_ast` resets it for each text.
    """

    def __init__(self):
        super().__init__(D.Reporter())
        # id(x) → (x, x's extent in the tree, the parentheses around it); keeps x alive
        self.outer: dict[int, tuple[object, N.Span, int]] = {}
        self.open = 0  # guide and plate blocks open at the current reduction
        self.maybe_deep = False
        self.text = ""
        self.line_starts: list[int] | None = None

    def begin(self, text: str, reporter: D.Reporter) -> None:
        self.reporter, self.text = reporter, text
        self.outer, self.open, self.maybe_deep, self.line_starts = {}, 0, False, None

    def callbacks(self) -> SimpleNamespace:
        """The transformer to give Lark: a function per rule, ``callback(children) → node``."""
        wrap = {**dict.fromkeys(_STATEMENTS, self._statement), "guide_head": self._head, "plate_head": self._head,
                "guide_def": self._block, "plate_def": self._block}
        return SimpleNamespace(**{
            rule: getattr(self, "_at_" + rule, None) or wrap.get(rule, self._spanned)(getattr(self, rule))
            for rule in _RULES
        })

    def end(self) -> None:
        """Let go of the last text and its nodes."""
        self.begin("", D.Reporter())

    def _spanned(self, method):
        span_of = self._span_of

        def callback(c):
            return method(span_of(c), c)

        return callback

    def _span_of(self, c: list) -> N.Span:
        """From the start of the first child to the end of the last (never None in rules that need a span)."""
        first, last = c[0], c[-1]
        if type(first) is Token:
            line, column = first.line, first.column
        else:
            s = self.outer[id(first)][1] if id(first) in self.outer else first.span
            line, column = s.line, s.column
        if type(last) is Token:
            return N.Span(line, column, last.end_line, last.end_column)
        s = self.outer[id(last)][1] if id(last) in self.outer else last.span
        return N.Span(line, column, s.end_line, s.end_column)

    # the hot single-token rules, without the generic span
    def _at_name(self, c):
        tok = c[0]
        return N.Name(self._name(tok), N.Span(tok.line, tok.column, tok.end_line, tok.end_column))

    def _at_number(self, c):
        tok = c[0]
        return self.number(N.Span(tok.line, tok.column, tok.end_line, tok.end_column), c)

    def _at_paren(self, c):
        expr = c[1]
        inner = self.outer.get(id(expr))
        self.outer[id(expr)] = (expr, self._span_of(c), inner[2] + 1 if inner else 1)  # and how many pairs
        return expr

    def _at_shape(self, c):
        span = self._span_of(c)
        dims = self.shape(span, c)
        self.outer[id(dims)] = (dims, span, 0)  # may be the one empty tuple: read by its param_stmt, next
        return dims

    def _at_slice_bounds(self, c):
        return self.slice_bounds(None, c)

    def _at_start(self, c):
        return self.start(None, c)

    # statements and headers: the depth check, and the blocks open around them
    def _check_depth(self, parts: list, span: N.Span, depth: int) -> None:
        """Set ``maybe_deep`` unless the tree below a statement or header at ``depth`` (its levels as
        :func:`too_deep` counts them) surely ends above MAX_DEPTH: by too_deep's own bound (every level owns
        at least one character) or, for wider ones, by :meth:`_levels` of its children ``parts``."""
        if span.end_line == span.line:
            width = span.end_column - span.column
        else:
            if self.line_starts is None:
                self.line_starts = list(accumulate((len(line) + 1 for line in self.text.split("\n")), initial=0))
            starts = self.line_starts
            width = (starts[span.end_line - 1] + span.end_column) - (starts[span.line - 1] + span.column)
        if depth + width + 2 > MAX_DEPTH and depth - 1 + self._levels(parts) > MAX_DEPTH:
            self.maybe_deep = True

    def _levels(self, parts: list) -> int:
        """An upper bound on the levels of the parse tree of a rule with the children ``parts`` (built):
        each node two (its rule's, and one of the wrappers some have: kwarg, shape, slice_bounds, subscript,
        site_name, guide_args), each pair of parentheses around it one more. Where the builder dropped a
        subtree (the bounds of an index it rejected), the bound is unknown: MAX_DEPTH + 1."""
        outer, best = self.outer, 0
        stack: list = [(parts, 0)]
        while stack:
            x, d = stack.pop()
            d += 2 + (outer[id(x)][2] if id(x) in outer else 0)
            best = max(best, d)
            t = type(x)
            if t is list or t is tuple:
                below = x
            elif t is N.Keyword:
                below = (x.value,)
            elif t is N.Slice and x.start is None and x.stop is None:  # `v[:]`, or a rejected index
                return MAX_DEPTH + 1
            else:
                below = N.children(x)  # () for a SiteName
            stack.extend((b, d) for b in below if b is not None and type(b) is not Token)
        return best

    def _statement(self, method):
        span_of = self._span_of

        def callback(c):
            span = span_of(c)
            parts = [x for x in c if x is not None and type(x) is not Token]  # before the method takes c apart
            node = method(span, c)
            self._check_depth(parts, span, 2 + self.open)  # below start and each open block
            return node

        return callback

    def _head(self, method):
        span_of = self._span_of

        def callback(c):
            span = span_of(c)
            parts = [x for x in c if x is not None and type(x) is not Token]
            self._check_depth(parts, span, 3 + self.open)  # below start, the blocks around and its own
            self.open += 1
            return method(span, c)

        return callback

    def _block(self, method):
        span_of = self._span_of

        def callback(c):
            self.open -= 1
            return method(span_of(c), c)

        return callback


_STATEMENTS = ("param_stmt", "let_stmt", "net_stmt", "sample_stmt", "assign_stmt", "expr_stmt")


@lru_cache(maxsize=1)
def ast_parser() -> tuple[Lark, _Inline]:
    """:func:`lark_parser`'s parser (grammar, lexer, post-lexer) with :class:`_Inline`'s callbacks in place of
    building a tree; without ``propagate_positions``, which only ever sets positions on trees. Built once per
    process, cached on disk by Lark; the one parser `vgc check` loads for a file without syntax errors (use
    :func:`parse_ast` to parse with it)."""
    inline = _Inline()
    lark = Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        propagate_positions=False,
        maybe_placeholders=True,
        postlex=_POSTLEX,
        start="start",
        cache=True,
        transformer=inline.callbacks(),
    )
    return lark, inline


_AST_LOCK = threading.Lock()  # the one _Inline holds the state of one parse at a time


def parse_ast(text: str, reporter: D.Reporter) -> N.Program | None:
    """The Program of a whole file, parsed without a parse tree: the same nodes and diagnostics as
    ``AstBuilder(reporter).transform(lark_parser().parse(text))``, about twice as fast.

    Raises Lark's ``UnexpectedInput`` on a syntax error (nothing reported). Returns None, reporting
    nothing, when the tree of some statement or header could be nested more than MAX_DEPTH levels
    (:meth:`_Inline._check_depth`, an upper bound): then the caller parses a tree and checks it with
    :func:`too_deep`, which finds the exact place.
    """
    lark, inline = ast_parser()
    with _AST_LOCK:
        mine = D.Reporter(reporter.file)  # kept only when the parse succeeds
        inline.begin(text, mine)
        try:
            program = lark.parse(text, start="start")
            if inline.maybe_deep:
                return None
        finally:
            inline.end()
    reporter.items.extend(mine.items)
    return program


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


__all__ = ["AstBuilder", "GuideHead", "PlateHead", "Tree", "ast_parser", "build_program", "grammar_text", "lark_parser",
           "parse_ast", "recovery_parser"]
