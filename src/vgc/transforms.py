"""Phase 3: transform analysis — bijectivity and the log-Jacobian of each ``=`` on random values.

For ``[x1..xk] = f(u1..um)`` the checker hands over the value expression. Here
``let`` names are substituted so the map is explicit in its random inputs, then:

* every random input must be a ``~`` draw not consumed by another transform;
* non-monotone elementwise functions (abs, sin, cos, tan, even powers) of random
  values are rejected; so are constant singular matrices;
* output and input dimensions must agree (a bijection of R^n);
* the log-Jacobian log|det J_f(u)| is derived in closed form, as a list of
  :class:`Term` (affine maps: log|det A|; elementwise maps: Σ log|f'|; their
  compositions: the sum), or left to ``jax.jacfwd`` + ``slogdet`` when no rule
  applies (with a warning, since invertibility is then not proven);
* a mapping function (``simplex(v)``, ``ordered(v)``, ``lower_cholesky(v)``,
  ``corr_cholesky(v)``: NumPyro's ``biject_to``) of random values must be the
  transform's last step; its result counts as its input's dimension, and its
  term is the NumPyro transform's ``log_abs_det_jacobian``.

Pure Python: no jax here.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from . import diagnostics as D
from . import nodes as N
from . import registry as R
from .exprs import ExprChecker
from .frontend import MAX_DEPTH
from .ir import Kind
from .nodes import Record
from .scope import Scope
from .shapes import MAPPINGS, size
from .values import Val, numeric_det

# Substituting `let`s can blow a transform up: `let b = a + a` doubles the tree, so 40 such lets make
# 2^40 nodes, and a chain of 2,000 lets makes a tree 2,000 levels deep, past Python's recursion limit
# in every phase that walks it. Each let records its size with the lets it uses substituted
# (checker.Sym.expanded, computed from theirs, so without walking anything twice); a transform whose
# substituted expression is deeper than MAX_DEPTH or larger than MAX_NODES is refused (VG107).
MAX_NODES = 5_000
_CAP = 10**9  # sizes saturate here: 2^2000 is a size too, but a slow one to add up


class Size(NamedTuple):
    """How big an expression is with lets substituted: ``nodes``/``depth`` substituting the lets that
    :func:`substitute` replaces (those that depend on random values), ``all_nodes``/``all_depth``
    substituting every let (as :meth:`Analyzer.logdet` follows them)."""

    nodes: int = 1
    depth: int = 1
    all_nodes: int = 1
    all_depth: int = 1


ONE = Size()  # a name or a number


def expanded(e: N.Expr, scope: Scope) -> Size:
    """The :class:`Size` of ``e`` given the scope's lets (``e`` itself is at most MAX_DEPTH deep)."""
    if isinstance(e, N.Name):
        sym = scope.get(e.id)
        if sym is not None and sym.kind is Kind.LET and sym.defn is not None:
            x = sym.expanded
            return x if sym.randoms else Size(1, 1, x.all_nodes, x.all_depth)
        return ONE
    parts = [expanded(c, scope) for c in N.children(e)]
    return Size(
        min(_CAP, 1 + sum(p.nodes for p in parts)),
        1 + max((p.depth for p in parts), default=0),
        min(_CAP, 1 + sum(p.all_nodes for p in parts)),
        1 + max((p.all_depth for p in parts), default=0),
    )


class Term(Record):
    """``coef × Σ_{shape} kind(expr)``; kind is ``logabs`` (log|e|), ``plain`` (e), ``slogdet`` (log|det e|) or
    ``bijector``: ``expr`` is a mapping function's call ``f(a)`` and the term NumPyro's
    ``biject_to(constraints.IMAGE).log_abs_det_jacobian(a, f(a))`` (summed over the element already).

    ``shape`` is the output's per-element shape (the sum runs over it), ``inner`` the shape of ``expr``
    itself (``()`` for a scalar counted ``size(shape)`` times).
    """

    __slots__ = ("kind", "expr", "coef", "shape", "inner")
    _defaults: ClassVar[dict] = {"inner": None}
    kind: str
    expr: N.Expr
    coef: float
    shape: tuple
    inner: tuple | None


class Plan(Record):
    """How to emit one transform: log|det J| = Σ terms, or numerically from ``value`` when ``numeric``."""

    __slots__ = ("terms", "consumed", "numeric", "value", "batch")
    _defaults: ClassVar[dict] = {"value": None, "batch": 0}
    terms: tuple[Term, ...]
    consumed: tuple[str, ...]
    numeric: bool
    value: N.Expr | None
    # per entry of `: batch` draws: their batch dimensions (the value's leftmost), over which the terms are not
    # summed (each term's ``shape`` is then the value's whole shape); 0 for other transforms
    batch: int


class Transform(Record):
    """What the analysis of one transform statement needs, handed over by the checker."""

    __slots__ = ("stmt", "value", "scope", "evaluator", "plates", "numeric")
    _defaults: ClassVar[dict] = {"numeric": False}
    stmt: N.Assign
    value: Val  # the right-hand side's value
    scope: Scope  # the names visible at the statement (lets are substituted from it)
    evaluator: ExprChecker  # a quiet evaluator of expressions in that scope
    plates: frozenset  # the plates open at the statement
    numeric: bool  # skip closed forms (tests compare the two)


class _Fallback(Exception):
    """No closed-form rule applies: use jax.jacfwd + slogdet."""


class _Rejected(Exception):
    """A diagnostic was reported; stop analysing this transform."""


def _num(x: float, span: N.Span) -> N.Number:
    return N.Number(float(x), repr(float(x)), span)


def _op(op: str, span: N.Span) -> N.Op:
    return N.Op(op, op, span)


def _bin(op: str, a: N.Expr, b: N.Expr) -> N.BinOp:
    return N.BinOp(_op(op, a.span), a, b, a.span)


def _call(f: str, a: N.Expr) -> N.Call:
    return N.Call(f, a.span, (a,), (), a.span)


def _neg(a: N.Expr) -> N.UnaryOp:
    return N.UnaryOp(_op("-", a.span), a, a.span)


def substitute(e: N.Expr, scope: Scope) -> N.Expr:
    """Replace ``let`` names that depend on random values by their definitions."""
    if isinstance(e, N.Name):
        sym = scope.get(e.id)
        if sym is not None and sym.kind is Kind.LET and sym.randoms and sym.defn is not None:
            return substitute(sym.defn, scope)
        return e
    if isinstance(e, N.BinOp):
        return N.BinOp(e.op, substitute(e.left, scope), substitute(e.right, scope), e.span)
    if isinstance(e, N.UnaryOp):
        return N.UnaryOp(e.op, substitute(e.operand, scope), e.span)
    if isinstance(e, N.Transpose):
        return N.Transpose(substitute(e.operand, scope), e.span)
    if isinstance(e, N.Vector):
        return N.Vector(tuple(substitute(i, scope) for i in e.items), e.span)
    if isinstance(e, N.Call):
        kws = tuple(N.Keyword(k.name, substitute(k.value, scope), k.span) for k in e.kwargs)
        return N.Call(e.func, e.func_span, tuple(substitute(a, scope) for a in e.args), kws, e.span)
    return e


def _is_even_int(c: float) -> bool:
    return c == int(c) and int(c) % 2 == 0


class Analyzer:
    """Analyses one transform statement."""

    def __init__(self, t: Transform, reporter: D.Reporter):
        self.t = t
        self.numeric = t.numeric
        self.scope = t.scope
        self.r = reporter
        self.evaluator = t.evaluator

    def ordered(self, plates: frozenset) -> list[str]:
        """Plate names outermost first (as open at the statement)."""
        order = [p.name for p in self.scope.open]
        return sorted(plates, key=lambda p: order.index(p) if p in order else len(order))

    def val(self, e: N.Expr) -> Val:
        """The value of an expression, without reporting (it was checked already)."""
        return self.evaluator.value(e, pm_ok=True)

    def reject(self, code: D.Code, span: N.Span, message: str, hint: str = ""):
        self.r.report(code, span, message, hint)
        raise _Rejected

    # -- checks
    def scan(self, e: N.Expr) -> None:
        """Reject non-monotone elementwise functions and non-invertible powers of random values."""
        if isinstance(e, N.Call):
            spec = R.FUNCTIONS.get(e.func)
            if spec is not None and spec.monotone is False and self.val(e.args[0]).randoms:
                self.reject(
                    D.NON_MONOTONE,
                    e.span,
                    f"{e.func}() is not monotone, so {e.func} of a random value is not invertible",
                    "a transform must be a bijection; use a monotone function (exp, sigmoid, sinh, ...)",
                )
        if isinstance(e, N.BinOp) and e.op.op == "^":
            base, power = self.val(e.left), self.val(e.right)
            if base.randoms and not power.randoms:
                if not isinstance(power.const, float):
                    self.reject(
                        D.NON_MONOTONE,
                        e.span,
                        "a power of a random value needs a constant exponent",
                        "write a number, e.g. u^3",
                    )
                if _is_even_int(power.const):
                    self.reject(
                        D.NON_MONOTONE,
                        e.span,
                        f"u^{e.right.text if isinstance(e.right, N.Number) else power.const} is not monotone "
                        "(even power), so it is not invertible",
                        "use an odd power, exp, or softplus",
                    )
            elif power.randoms and not (isinstance(base.const, float) and base.const > 0 and base.const != 1):
                self.reject(
                    D.NON_MONOTONE, e.span, "c^u is invertible only for a constant c > 0, c ≠ 1", "use exp(k * u)"
                )
        for child in N.children(e):
            self.scan(child)

    def run(self) -> Plan | None:
        stmt, value = self.t.stmt, self.t.value
        big = expanded(stmt.value, self.scope)
        if big.depth > MAX_DEPTH or big.nodes > MAX_NODES:
            self.r.report(
                D.TOO_DEEP,
                stmt.value.span,
                "with the `let`s it uses substituted, this transform "
                + (f"is nested more than {MAX_DEPTH} levels deep" if big.depth > MAX_DEPTH
                   else f"has more than {MAX_NODES:,} operations"),
                "vgc expands a transform's `let`s to derive its Jacobian: define the map with fewer, "
                "smaller steps",
            )
            return None
        expr = substitute(stmt.value, self.scope)
        # In definition order, which is source order.
        syms = {n: self.scope.get(n) for n in value.randoms if self.scope.get(n) is not None}
        consumed = sorted(syms, key=lambda n: (syms[n].span.line, syms[n].span.column))
        try:
            for n in consumed:
                sym = syms[n]
                at = N.first_use(expr, n) or stmt.value.span
                if sym.kind is Kind.LATENT:
                    self.reject(
                        D.CHAINED,
                        at,
                        f"'{n}' is already a transformed latent; a transform consumes draws",
                        f"write one transform of the draws behind '{n}', or make '{n}' a `let`",
                    )
                if sym.consumed_at is not None:
                    self.reject(
                        D.CONSUMED_TWICE,
                        at,
                        f"'{n}' is already consumed by the transform on line {sym.consumed_at}",
                        "each random variable feeds at most one transform; draw another",
                    )
                if sym.varies != self.t.plates:
                    here, there = self.ordered(self.t.plates), self.ordered(sym.varies)
                    self.reject(
                        D.CROSS_PLATE,
                        at,
                        f"'{n}' is drawn in {_plates_text(there)} but transformed in {_plates_text(here)}: "
                        "a transform is per element, so its draws must have "
                        "one value per element of the same plates",
                        f"draw '{n}' inside the plate(s) of this transform ({', '.join(here) or 'no plate'}; "
                        f"it is in {', '.join(there) or 'no plate'})",
                    )
                if sym.shape is None:
                    self.reject(
                        D.UNKNOWN_SHAPE,
                        at,
                        f"the shape of '{n}' is not known at compile time",
                        "give its distribution arguments of known shape",
                    )
            batch = [n for n in consumed if syms[n].batch]
            kept = syms[batch[0]].batch if batch else 0
            if batch:
                self.batch_checks(stmt, expr, value, consumed, syms, batch)
            self.scan(expr)
            mapping = self.mapping_checks(stmt, expr)
            if value.shape is None:
                self.reject(D.UNKNOWN_SHAPE, stmt.value.span, "the shape of this value is not known at compile time")
            # A mapping function's result counts as its input: K-1 reals make one point of the K-simplex.
            n_out = size(value.shape) if mapping is None else size(self.val(mapping.args[0]).shape)
            n_in = sum(size(syms[n].shape) for n in consumed)
            if n_out != n_in:
                inputs = ", ".join(f"{n} ({size(syms[n].shape)})" for n in consumed)
                counted = "" if mapping is None else f" ({mapping.func}() counts as its input's {n_out})"
                self.reject(
                    D.NOT_BIJECTION,
                    stmt.value.span,
                    f"not a bijection: {n_out} output dimension{'s' * (n_out != 1)}{counted} from {n_in} random "
                    f"input dimension{'s' * (n_in != 1)} ({inputs})",
                    "a transform maps its random inputs one-to-one: as many outputs as inputs"
                    + (
                        "; draw more variables"
                        if n_out > n_in
                        else "; add outputs, e.g. `[x, y] = [[1, 1], [1, -1]] · [u1, u2]`"
                    ),
                )
            try:
                terms = tuple(t._replace(inner=self.val(t.expr).shape) for t in self.terms(expr))
                if batch:  # one log-density per entry: codegen sums over the event dimensions only
                    terms = tuple(t._replace(shape=value.shape) for t in terms)
                if not self.numeric or batch or self.t.plates:  # per element: closed forms only
                    return Plan(terms, tuple(consumed), False, batch=kept)
            except _Fallback:
                pass
            if self.t.plates or batch:
                self.reject(
                    D.NUMERIC_IN_PLATE,
                    stmt.value.span,
                    "no closed form for this map's Jacobian, and inside a plate vgc does not compute it "
                    "numerically",
                    "write linear maps with a constant matrix (`[x, y] = [[1, 1], [1, -1]] · [u1, u2]`) and "
                    "compose them with monotone elementwise functions: those get exact terms",
                )
        except _Rejected:
            return None
        if self.numeric:
            return Plan((), tuple(consumed), True, expr)
        self.r.report(
            D.NUMERIC_JACOBIAN,
            stmt.value.span,
            "no closed form for this map's Jacobian: vgc computes it with jax.jacfwd and slogdet, "
            "and cannot prove the map is invertible",
            "affine maps, monotone elementwise functions and their compositions get exact terms",
        )
        return Plan((), tuple(consumed), True, expr)

    def mapping_checks(self, stmt: N.Assign, expr: N.Expr) -> N.Call | None:
        """A mapping function of random values is the transform's last step; returns that call, if any.

        Inside a larger expression its result would need other rules: ``2 * simplex(v)`` scales K entries
        of which only K-1 are free, so the elementwise rule's K·log 2 would be wrong. One site, too: the
        K entries of a simplex are not K sites.
        """
        top = None
        for e in N.walk(expr):
            if not (isinstance(e, N.Call) and e.func in MAPPINGS and len(e.args) == 1 and self.val(e.args[0]).randoms):
                continue
            if e is not expr:
                # a let's call has the span of the let: point at this statement then
                inside = (e.span.line, e.span.column) >= (stmt.value.span.line, stmt.value.span.column) and \
                    (e.span.end_line, e.span.end_column) <= (stmt.value.span.end_line, stmt.value.span.end_column)
                via = "" if inside else f" (the `let` on line {e.span.line})"
                self.reject(
                    D.NOT_BIJECTION,
                    e.span if inside else stmt.value.span,
                    f"{e.func}() of a random value{via} is used inside a larger expression: vgc derives a "
                    "mapping function's log-Jacobian only as the last step of a transform",
                    f"apply {e.func}(...) last, with the affine and elementwise steps inside it: "
                    f"`{stmt.targets[0].id} = {e.func}(m + s * u)`",
                )
            top = e
        if top is not None and stmt.is_list and top.func == "simplex":  # (Cholesky factors: VG406 already)
            self.reject(
                D.NOT_BIJECTION,
                stmt.value.span,
                "simplex(...) is one site: its entries are not free (they sum to 1), so they cannot be "
                "separate sites",
                f"define one site: `{stmt.targets[0].id} = simplex(...)` (as `x ~ Dirichlet(...)` is one site)",
            )
        return top

    def batch_checks(self, stmt, expr, value, consumed, syms, batch) -> None:
        """A transform of ``: batch`` draws is per entry: only batch draws with the same batch dimensions, only
        elementwise operations, and a mapping function last when each entry is a vector (``: batch(K)``)."""
        if len(batch) != len(consumed):
            other = next(n for n in consumed if not syms[n].batch)
            self.reject(
                D.CROSS_PLATE,
                N.first_use(expr, other) or stmt.value.span,
                f"'{other}' is not a `: batch` draw, but '{batch[0]}' is: a transform of batch draws is per "
                "entry, so all its draws must be `: batch` draws",
                f"draw '{other}' with `: batch` too, or transform the batch draws on their own",
            )
        first = syms[batch[0]]
        kept = first.shape[:first.batch]
        if stmt.is_list and self.t.plates:
            self.reject(
                D.NOT_BIJECTION, stmt.value.span,
                "inside a plate a transform of `: batch` draws defines one latent (its entries are not sites)",
                f"define one latent: `{stmt.targets[0].id} = ...`",
            )
        for n in batch[1:]:
            if syms[n].shape[:syms[n].batch] != kept:
                self.reject(
                    D.CROSS_PLATE,
                    N.first_use(expr, n) or stmt.value.span,
                    f"'{n}' has batch shape {syms[n].shape[:syms[n].batch]}, '{batch[0]}' {kept}: a transform of "
                    "batch draws is per entry, so its draws must have the same batch dimensions",
                    "draw them with the same `: batch(K)` and batch shape",
                )
        per_entry = len(first.shape) - first.batch  # the event rank of each draw's entry
        for e in N.walk(expr):
            whole = (isinstance(e, N.BinOp) and e.op.op == "@") or isinstance(e, (N.Vector, N.Transpose)) or (
                isinstance(e, N.Call) and not (R.FUNCTIONS.get(e.func) and R.FUNCTIONS[e.func].elementwise))
            if whole and isinstance(e, N.Call) and e.func in MAPPINGS and per_entry == 1:
                continue  # NumPyro's transforms act on the last axis: one vector per batch entry
            if whole and self.val(e).randoms and isinstance(e, N.Call) and e.func in MAPPINGS:
                self.reject(
                    D.NOT_BIJECTION,
                    e.span,
                    f"{e.func}() maps a whole vector, but a transform of `: batch` draws is per entry (each "
                    + ("entry is a scalar)" if not per_entry else f"entry has shape {first.shape[first.batch:]})"),
                    "keep fewer batch dimensions so that each entry is a vector (`v ~ Normal(m, 1) : batch(1)` "
                    "with `param m[9, 2]`), or drop `: batch` so that the draw is one vector site",
                )
            if whole and self.val(e).randoms:
                self.reject(
                    D.NOT_BIJECTION,
                    e.span,
                    "a transform of `: batch` draws is per entry: it may only combine them elementwise",
                    "drop `: batch` to transform the draws as one vector (a matrix, a vector literal, sum...)",
                )
        mapped = isinstance(expr, N.Call) and expr.func in MAPPINGS and value.shape is not None
        if value.shape != first.shape and not (mapped and value.shape[:first.batch] == kept):
            self.reject(
                D.NOT_BIJECTION,
                stmt.value.span,
                f"a transform of `: batch` draws is per entry: the result has shape {value.shape}, the draws "
                f"{first.shape}",
                "map each entry to one entry",
            )

    # -- closed form
    def terms(self, e: N.Expr) -> list[Term]:
        """log|det J| of ``e`` as a function of its random inputs."""
        v = self.val(e)
        if isinstance(e, N.Name):
            return []
        if isinstance(e, N.UnaryOp) and e.op.op in ("-", "+"):
            return self.terms(e.operand)
        if isinstance(e, N.Transpose):
            return self.terms(e.operand)
        if isinstance(e, N.Vector):
            seen: set = set()
            out: list[Term] = []
            for item in e.items:
                iv = self.val(item)
                if not iv.randoms or seen & iv.randoms:
                    raise _Fallback
                if size(iv.shape) != sum(size(self.scope.get(n).shape) for n in iv.randoms):
                    raise _Fallback
                seen |= iv.randoms
                out += self.terms(item)
            return out
        if isinstance(e, N.Call):
            spec = R.FUNCTIONS.get(e.func)
            if e.func in MAPPINGS:  # the last step (mapping_checks): NumPyro's log_abs_det_jacobian
                return [Term("bijector", e, 1.0, ())] + self.terms(e.args[0])
            if spec is not None and spec.elementwise and spec.monotone:
                return _derivative(e.func, e.args[0], v.shape) + self.terms(e.args[0])
            if e.func == "transpose":
                return self.terms(e.args[0])
            raise _Fallback
        if isinstance(e, N.BinOp):
            a, b = self.val(e.left), self.val(e.right)
            if a.randoms and b.randoms:
                raise _Fallback
            rnd, other = (e.left, e.right) if a.randoms else (e.right, e.left)
            rv, ov = self.val(rnd), self.val(other)
            op = e.op.op
            if op == "@":
                n = rv.shape[0] if rv.shape and len(rv.shape) == 1 else None
                if n is None or ov.shape != (n, n):
                    raise _Fallback
                if isinstance(ov.const, list):
                    det = numeric_det(ov.const)
                    if det is not None and abs(det) <= 1e-12:
                        self.reject(
                            D.SINGULAR,
                            other.span,
                            "this constant matrix is singular (determinant 0), so the map is not invertible",
                            "use a matrix with linearly independent rows",
                        )
                return self.logdet(other) + self.terms(rnd)
            if rv.shape != v.shape:
                raise _Fallback
            if op in ("+", "-"):
                return self.terms(rnd)
            if op == "*":
                return [Term("logabs", other, 1.0, v.shape)] + self.terms(rnd)
            if op == "/":
                if rnd is e.left:
                    return [Term("logabs", other, -1.0, v.shape)] + self.terms(rnd)
                return [Term("logabs", other, 1.0, v.shape), Term("logabs", rnd, -2.0, v.shape)] + self.terms(rnd)
            if op == "^":
                if rnd is e.left:
                    c = ov.const
                    out = [] if c == 1 else [Term("logabs", other, 1.0, v.shape), Term("logabs", rnd, c - 1.0, v.shape)]
                    return out + self.terms(rnd)
                log_c = _call("log", other)
                return [
                    Term("plain", _bin("*", rnd, log_c), 1.0, v.shape),
                    Term("logabs", log_c, 1.0, v.shape),
                ] + self.terms(rnd)
        raise _Fallback

    def logdet(self, m: N.Expr) -> list[Term]:
        """log|det M| of a matrix that does not depend on random values."""
        mv = self.val(m)
        n = mv.shape[0] if mv.shape else 0
        if isinstance(m, N.Name):
            sym = self.scope.get(m.id)
            # Follow a let's definition only while it stays small (see MAX_NODES): `let M2 = M1 · M1`
            # chains would make exponentially many terms, long chains recurse too deep.
            if (
                sym is not None
                and sym.kind is Kind.LET
                and sym.defn is not None
                and sym.expanded.all_nodes <= MAX_NODES
                and sym.expanded.all_depth <= MAX_DEPTH
            ):
                return self.logdet(sym.defn)
        if isinstance(m, N.Call) and m.func == "rot":
            return []
        if isinstance(m, N.Call) and m.func == "diag":
            return [Term("logabs", m.args[0], 1.0, (n,))]
        if isinstance(m, N.Call) and m.func == "inv":
            return [Term(t.kind, t.expr, -t.coef, t.shape) for t in self.logdet(m.args[0])]
        if isinstance(m, N.Call) and m.func == "transpose":
            return self.logdet(m.args[0])
        if isinstance(m, N.Transpose):
            return self.logdet(m.operand)
        if isinstance(m, N.UnaryOp) and m.op.op in ("-", "+"):
            return self.logdet(m.operand)
        if isinstance(m, N.BinOp) and m.op.op == "@":
            return self.logdet(m.left) + self.logdet(m.right)
        if isinstance(m, N.BinOp) and m.op.op in ("*", "/"):
            lv, rv = self.val(m.left), self.val(m.right)
            if m.op.op == "*" and lv.shape == ():
                return [Term("logabs", m.left, 1.0, (n,))] + self.logdet(m.right)
            if rv.shape == ():
                coef = 1.0 if m.op.op == "*" else -1.0
                return [Term("logabs", m.right, coef, (n,))] + self.logdet(m.left)
        if isinstance(m, N.Vector) and n == 1 and isinstance(m.items[0], N.Vector):
            return [Term("logabs", m.items[0].items[0], 1.0, ())]
        if isinstance(m, N.Vector) and n == 2 and all(isinstance(r, N.Vector) for r in m.items):
            (a, b), (c, d) = m.items[0].items, m.items[1].items
            return [Term("logabs", _bin("-", _bin("*", a, d), _bin("*", b, c)), 1.0, ())]
        return [Term("slogdet", m, 1.0, ())]


def _derivative(f: str, a: N.Expr, shape: tuple) -> list[Term]:
    """log|f'(a)| for a monotone elementwise f, as terms (numerically stable forms)."""
    s = a.span
    two = _num(2.0, s)
    if f == "exp" or f == "expm1":
        return [Term("plain", a, 1.0, shape)]
    if f == "log":
        return [Term("logabs", a, -1.0, shape)]
    if f == "log1p":
        return [Term("plain", _call("log1p", a), -1.0, shape)]
    if f == "sqrt":  # log(1/2) - log(a)/2
        return [Term("logabs", a, -0.5, shape), Term("plain", _call("log", two), -1.0, shape)]
    if f == "tanh":  # log(1 - tanh(a)^2) = 2 (log 2 - a - softplus(-2a))
        inner = _bin("-", _bin("-", _call("log", two), a), _call("softplus", _neg(_bin("*", two, a))))
        return [Term("plain", inner, 2.0, shape)]
    if f == "sinh":  # log cosh(a) = a + softplus(-2a) - log 2
        inner = _bin("-", _bin("+", a, _call("softplus", _neg(_bin("*", two, a)))), _call("log", two))
        return [Term("plain", inner, 1.0, shape)]
    if f == "arcsinh":  # -log(1 + a^2) / 2
        return [Term("plain", _call("log1p", _bin("^", a, two)), -0.5, shape)]
    if f == "sigmoid":  # log σ(a) + log σ(-a)
        return [Term("plain", _bin("+", _call("softplus", a), _call("softplus", _neg(a))), -1.0, shape)]
    if f == "logit":  # -log a - log(1 - a)
        return [Term("logabs", a, -1.0, shape), Term("plain", _call("log1p", _neg(a)), -1.0, shape)]
    if f == "softplus":  # log σ(a)
        return [Term("plain", _call("softplus", _neg(a)), -1.0, shape)]
    raise _Fallback


def analyze(t: Transform, reporter: D.Reporter) -> Plan | None:
    """The plan for a transform statement, or None after reporting why it is rejected.

    ``t.numeric`` uses jax.jacfwd + slogdet even where a closed form exists (for tests).
    """
    return Analyzer(t, reporter).run()


def _plates_text(names: list[str]) -> str:
    if not names:
        return "no plate"
    return ("plate " if len(names) == 1 else "plates ") + ", ".join(f"'{n}'" for n in names)


