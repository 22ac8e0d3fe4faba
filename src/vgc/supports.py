"""Supports: where each guide site's values lie, derived at compile time (pure Python, no jax).

A :class:`Support` is spelt as NumPyro's constraints are (``real``, ``positive``, ``unit_interval``,
``interval(a, b)``, ``greater_than(a)``, ``simplex``, ...). Elementwise supports are intervals whose
bounds are numbers (``±inf`` for none), text naming a value known only when the guide runs (a param,
an argument: ``greater_than(a)`` for ``a + exp(u)``) or ``None`` when no bound is derived.

* a draw's support is its family's (:data:`vgc.registry.DISTRIBUTIONS`), with constant bounds
  evaluated (``Uniform(0, 2)`` → ``interval(0, 2)``); a mixture's is its components' common support
  (:func:`mixture_problem` says why components may not be mixed);
* a transformed latent's is the image of its map, by interval arithmetic over the expression with
  the consumed draws' supports: monotone functions map bounds to bounds (``exp`` → positive,
  ``sigmoid`` → unit interval), adding or scaling by a fixed value shifts or scales them, and a linear
  map of real draws is onto the reals. Rules that give only an enclosing interval (two random operands
  combined) mark the support ``exact=False``: a model check may then say it cannot prove containment,
  never that the guide is wrong.

:func:`inside` is the one containment test (guide support within a model's), used by the model check.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import ClassVar

from . import nodes as N
from . import registry as R
from .nodes import Record
from .unparse import expr as unparse

INF = math.inf
Bound = float | str | None  # a number, the text of a value known at run time, or not derived

# Supports with structure beyond elementwise bounds, and the interval each entry lies in.
STRUCTURED = {
    "simplex": (0.0, 1.0),
    "ordered_vector": (-INF, INF),
    "positive_ordered_vector": (0.0, INF),
    "lower_cholesky": (-INF, INF),
    "corr_cholesky": (-1.0, 1.0),
    "positive_definite": (-INF, INF),
    "corr_matrix": (-1.0, 1.0),
    "sphere": (-1.0, 1.0),
}
# Which structured supports lie inside which (besides themselves).
_SUBSET = {("corr_cholesky", "lower_cholesky"), ("positive_ordered_vector", "ordered_vector"),
           ("corr_matrix", "positive_definite")}


class Support(Record):
    """A set of values: an interval ``(lo, hi)`` per entry (``kind`` "interval"), or a structured set
    (``kind`` one of :data:`STRUCTURED`). ``exact``: derived as the set itself, not an enclosing one."""

    __slots__ = ("kind", "lo", "hi", "exact")
    _defaults: ClassVar[dict] = {"kind": "interval", "lo": -INF, "hi": INF, "exact": True}
    kind: str
    lo: Bound
    hi: Bound
    exact: bool

    @property
    def known(self) -> bool:
        """Both bounds are numbers (or it is a structured support)."""
        return self.kind != "interval" or (_is_num(self.lo) and _is_num(self.hi))

    def hull(self) -> Support:
        """The interval each entry lies in."""
        if self.kind == "interval":
            return self
        lo, hi = STRUCTURED[self.kind]
        return Support("interval", lo, hi, self.exact)

    def name(self) -> str:
        """NumPyro's spelling: ``real``, ``positive``, ``interval(0, 2)``, ``greater_than(a)``, ``simplex``."""
        if self.kind != "interval":
            return self.kind
        lo, hi = self.lo, self.hi
        if lo is None and hi is None:
            return "unknown"
        if lo == -INF and hi == INF:
            return "real"
        if lo == 0 and hi == INF:
            return "positive"
        if lo == 0 and hi == 1:
            return "unit_interval"
        if lo == -math.pi and hi == math.pi:
            return "circular"
        if hi == INF:
            return f"greater_than({bound_text(lo)})"
        if lo == -INF:
            return f"less_than({bound_text(hi)})"
        return f"interval({bound_text(lo)}, {bound_text(hi)})"

    def __str__(self) -> str:
        name = self.name()
        return name + ("" if self.exact or name in ("real", "unknown") else " (at most)")


REAL = Support()
UNKNOWN = Support("interval", None, None, False)


def _is_num(b: Bound) -> bool:
    return isinstance(b, float | int) and not isinstance(b, bool)


def bound_text(b: Bound) -> str:
    """A bound as shown in a support's name: ``2``, ``0.5``, ``a``, ``?`` (not derived)."""
    if b is None:
        return "?"
    if isinstance(b, str):
        return b
    if math.isinf(b):
        return "inf" if b > 0 else "-inf"
    if b == int(b) and abs(b) < 1e15:
        return str(int(b))
    return f"{b:.6g}"


# ---------------------------------------------------------------- parsing NumPyro-style names

_CALL = re.compile(r"(\w+)\((.*)\)$")


# the supports named without arguments (built once: parse runs for every draw's family)
_SIMPLE = {
    "real": REAL, "real_vector": REAL, "real_matrix": REAL,
    "positive": Support(lo=0.0), "nonnegative": Support(lo=0.0), "softplus_positive": Support(lo=0.0),
    "unit_interval": Support(lo=0.0, hi=1.0), "circular": Support(lo=-math.pi, hi=math.pi),
}


def parse(spec: str, arg: Callable[[str], Bound] = lambda s: None) -> Support:
    """``"interval(low, high)"`` → Support; bound texts that are not numbers go through ``arg``
    (a distribution's argument name → its value)."""
    spec = spec.strip()
    simple = _SIMPLE.get(spec)
    if simple is not None:
        return simple
    if spec in STRUCTURED:
        return Support(spec)
    m = _CALL.match(spec)
    if m:
        parts = [_bound(p, arg) for p in m.group(2).split(",")]
        if m.group(1) == "interval" and len(parts) == 2:
            return Support(lo=parts[0], hi=parts[1])
        if m.group(1) == "greater_than" and len(parts) == 1:
            return Support(lo=parts[0])
        if m.group(1) == "less_than" and len(parts) == 1:
            return Support(hi=parts[0])
    raise ValueError(f"unknown support {spec!r}")


def _bound(text: str, arg: Callable[[str], Bound]) -> Bound:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        return arg(text)


# ---------------------------------------------------------------- containment


def inside(guide: Support, model: Support) -> bool | None:
    """True when every value of ``guide`` lies in ``model``; False when some does not (or, for an
    enclosing ``guide`` support, may not); None when a bound is not a number, so it cannot be decided."""
    if model.kind != "interval":
        return guide.kind == model.kind or (guide.kind, model.kind) in _SUBSET
    g = guide.hull()
    lo_ok = _le(model.lo, g.lo)
    hi_ok = _le(g.hi, model.hi)
    if lo_ok is False or hi_ok is False:
        return False
    if lo_ok is None or hi_ok is None:
        return None
    return True


def _le(a: Bound, b: Bound) -> bool | None:
    """a ≤ b, when both are numbers (−inf ≤ anything, anything ≤ inf)."""
    if a == -INF or b == INF:
        return True
    if _is_num(a) and _is_num(b):
        return a <= b
    return None


# ---------------------------------------------------------------- distributions


def dist_support(family: str, bound: dict[str, N.Expr], const: Callable[[N.Expr], object]) -> Support:
    """The support of one primitive draw: its family's, bounds given by its (bound) arguments.

    ``const`` gives an expression's constant value (a float, nested lists, or None); a bound that is not
    constant is the argument's text, or None when it is not a scalar.
    """
    spec = R.DISTRIBUTIONS[family]
    defaults = {"low": 0.0, "high": 1.0}

    def arg(name: str) -> Bound:
        e = bound.get(name)
        if e is None:
            return defaults.get(name)
        c = const(e)
        if isinstance(c, float | int):
            return float(c)
        if isinstance(c, list):
            flat = _flatten(c)
            return float(min(flat) if name in ("low", "scale") else max(flat)) if flat else None
        return unparse(e)

    return parse(spec.support, arg)


def _flatten(c) -> list[float]:
    if isinstance(c, list):
        return [x for item in c for x in _flatten(item)]
    return [float(c)]


def draw_support(d, const: Callable[[N.Expr], object]) -> Support:
    """The support of a draw: a primitive distribution (an ``ir.DistIR``) or a mixture (``ir.MixIR``, whose
    components the checker has already found compatible: the first one's support)."""
    if hasattr(d, "components"):
        return draw_support(d.components[0], const)
    spec = R.DISTRIBUTIONS[d.family]
    bound = {a.name: e for a, e in zip(spec.args, d.args)}
    bound.update(dict(d.kwargs))
    return dist_support(d.family, bound, const)


def param_support(constraint: str, consts: list, texts: list[str]) -> Support:
    """The support of a param with this constraint (bounds: constant values, else their text)."""
    name = "ordered_vector" if constraint == "ordered" else constraint
    if not consts:
        return parse(name)
    bounds = iter([float(c) if isinstance(c, float | int) else t for c, t in zip(consts, texts)])
    return parse(f"{name}({', '.join('_' * len(consts))})", lambda _placeholder: next(bounds))


def parameter_free(family: str) -> bool:
    """The family's support does not depend on its arguments (NumPyro's ParameterFreeConstraint)."""
    return "(" not in R.DISTRIBUTIONS[family].support


def mixture_problem(components: list[tuple[str, Support]], same_family: bool) -> str | None:
    """Why these components cannot be mixed (NumPyro's MixtureSameFamily needs a support free of
    parameters; MixtureGeneral reports the first component's support for every draw), or None."""
    if same_family:
        family, _ = components[0]
        if not parameter_free(family):
            return (f"{family}'s support ({R.DISTRIBUTIONS[family].support}) depends on its arguments, and "
                    "NumPyro's same-family mixture needs one that does not")
        return None
    unknown = [f for f, s in components if not s.known]
    if unknown:
        return (f"{unknown[0]}'s support ({R.DISTRIBUTIONS[unknown[0]].support}) depends on arguments that are not "
                "constant, so vgc cannot check that the components share one support")
    names = {s.name() for _, s in components}
    if len(names) > 1:
        listed = ", ".join(f"{f} → {s.name()}" for f, s in components)
        return f"the components have different supports ({listed}); a mixture's draws must all lie in one support"
    return None


# ---------------------------------------------------------------- transforms


class Deriver:
    """The support of a transform's value, given the supports of the draws it consumes.

    ``value(e)`` is the checker's quiet evaluator (for constants and random dependencies);
    ``of_name(n)`` the support of a random name (None for a name that is not random);
    ``defn(n)`` the definition of a random ``let`` (substituted) or None.
    """

    def __init__(self, value, of_name: Callable[[str], Support | None], defn: Callable[[str], N.Expr | None],
                 positive: Callable[[str], bool]):
        self.value = value
        self.of_name = of_name
        self.defn = defn
        self.positive = positive  # a param constrained to positive values

    def support(self, e: N.Expr) -> Support:
        """The image of ``e`` (an expression of random values)."""
        v = self.value(e)
        if not v.randoms:  # a point mass `x = m`, or a fixed operand's range
            c = v.const
            if isinstance(c, float | int):
                return Support(lo=float(c), hi=float(c))
            known = self.of_name(e.id) if isinstance(e, N.Name) else None
            return UNKNOWN if known is None else known
        t = type(e)
        if t is N.Name:
            d = self.defn(e.id)
            if d is not None:
                return self.support(d)
            s = self.of_name(e.id)
            return UNKNOWN if s is None else s
        if t is N.UnaryOp:
            s = self.support(e.operand)
            return _neg(s) if e.op.op == "-" else s if e.op.op == "+" else UNKNOWN
        if t is N.Transpose:
            return self.support(e.operand)
        if t is N.Vector:
            return _union([self.support(i) for i in e.items])
        if t is N.Call:
            return self.call(e)
        if t is N.BinOp:
            return self.binop(e)
        return UNKNOWN

    def call(self, e: N.Call) -> Support:
        spec = R.FUNCTIONS.get(e.func)
        if spec is None or not e.args:
            return UNKNOWN
        if not spec.elementwise:
            if e.func == "transpose":
                return self.support(e.args[0])
            if spec.image != "real" and "(" not in spec.image:  # simplex(v), corr_cholesky(v), ...
                return parse(spec.image)
            arg = self.support(e.args[0])
            if e.func == "sum" and arg.name() == "real":
                return Support(exact=arg.exact)
            return UNKNOWN
        arg = self.support(e.args[0]).hull()
        if spec.monotone:
            return Support(lo=_apply(e.func, arg.lo), hi=_apply(e.func, arg.hi), exact=arg.exact)
        return parse(spec.image)._replace(exact=False)

    def binop(self, e: N.BinOp) -> Support:
        op = e.op.op
        lv, rv = self.value(e.left), self.value(e.right)
        if lv.randoms and rv.randoms:
            a, b = self.support(e.left).hull(), self.support(e.right).hull()
            if op == "+":
                return Support(lo=_add(a.lo, b.lo), hi=_add(a.hi, b.hi), exact=False)
            if op == "-":
                return Support(lo=_add(a.lo, _negb(b.hi)), hi=_add(a.hi, _negb(b.lo)), exact=False)
            if op == "@" and a.name() == "real" and b.name() == "real":
                return Support(exact=False)
            return UNKNOWN
        rnd, fixed = (e.left, e.right) if lv.randoms else (e.right, e.left)
        s = self.support(rnd)
        c = self.value(fixed).const
        c = float(c) if isinstance(c, float | int) else None
        text = unparse(fixed, 4)
        if op == "@":
            # A linear bijection of the reals is onto the reals; other images need more than bounds.
            return Support(exact=s.exact) if s.name() == "real" else UNKNOWN
        s = s.hull()
        if op == "+":
            return Support(lo=_shift(s.lo, c, text), hi=_shift(s.hi, c, text), exact=s.exact)
        if op == "-":
            if rnd is e.left:
                return Support(lo=_shift(s.lo, _negc(c), "-" + text), hi=_shift(s.hi, _negc(c), "-" + text),
                               exact=s.exact)
            n = _neg(s)
            return Support(lo=_shift(n.lo, c, text), hi=_shift(n.hi, c, text), exact=s.exact)
        if op in ("*", "/"):
            if op == "/" and rnd is e.right:
                return self.reciprocal(s, c, text)
            div = op == "/"
            if div:
                c = None if c in (None, 0.0) else 1.0 / c
            sign = _sign(c, fixed, self.positive) if op == "*" else (None if c is None else math.copysign(1.0, c))
            if sign is None and op == "/":
                sign = _sign(None, fixed, self.positive)
            if s.name() == "real" and (c is None or c != 0):
                return Support(exact=s.exact)
            if sign is None:
                return UNKNOWN
            lo, hi = _scale(s.lo, c, text, div), _scale(s.hi, c, text, div)
            return Support(lo=lo, hi=hi, exact=s.exact) if sign > 0 else Support(lo=hi, hi=lo, exact=s.exact)
        if op == "^":
            if c is None:
                return UNKNOWN
            if rnd is e.left:  # u^c: odd powers are increasing; powers of positive values monotone
                f = lambda x: _pow(x, c)  # noqa: E731
                if s.lo is not None and _is_num(s.lo) and s.lo >= 0:
                    lo, hi = f(s.lo), f(s.hi) if _is_num(s.hi) else None
                    return Support(lo=lo, hi=hi, exact=s.exact) if c > 0 else Support(lo=hi, hi=lo, exact=s.exact)
                if c == int(c) and int(c) % 2 == 1 and _is_num(s.lo) and _is_num(s.hi):
                    return Support(lo=f(s.lo), hi=f(s.hi), exact=s.exact)
                return UNKNOWN
            if c > 0 and _is_num(s.lo) and _is_num(s.hi):  # c^u
                lo, hi = _pow(c, s.lo), _pow(c, s.hi)
                return Support(lo=lo, hi=hi, exact=s.exact) if c > 1 else Support(lo=hi, hi=lo, exact=s.exact)
        return UNKNOWN

    def reciprocal(self, s: Support, c: float | None, text: str) -> Support:
        """c / u: monotone on each side of 0, so only for u of one sign and a constant c."""
        if c is None or not (_is_num(s.lo) and _is_num(s.hi)) or s.lo < 0 < s.hi or (s.lo < 0 and s.hi > 0):
            return UNKNOWN
        inv_lo, inv_hi = _recip(s.hi, s.lo >= 0), _recip(s.lo, s.lo >= 0)
        lo, hi = c * inv_lo, c * inv_hi
        if math.isnan(lo) or math.isnan(hi):
            return UNKNOWN
        return Support(lo=min(lo, hi), hi=max(lo, hi), exact=s.exact)


def _recip(x: float, positive_side: bool) -> float:
    if x == 0:
        return INF if positive_side else -INF
    return 1.0 / x


def _pow(x: float, c: float) -> float:
    try:
        return float(x**c)
    except (OverflowError, ZeroDivisionError):
        return INF


def _sign(c: float | None, fixed: N.Expr, positive: Callable[[str], bool]) -> float | None:
    """+1 or -1 when the sign of a fixed factor is known."""
    if c is not None:
        return None if c == 0 else math.copysign(1.0, c)
    if isinstance(fixed, N.Name) and positive(fixed.id):
        return 1.0
    if isinstance(fixed, N.Call) and fixed.func in ("exp", "softplus", "sigmoid"):
        return 1.0
    return None


def _neg(s: Support) -> Support:
    s = s.hull()
    return Support(lo=_negb(s.hi), hi=_negb(s.lo), exact=s.exact)


def _negb(b: Bound) -> Bound:
    if b is None:
        return None
    if isinstance(b, str):
        return f"-({b})" if " " in b else f"-{b}"
    return -b


def _negc(c: float | None) -> float | None:
    return None if c is None else -c


def _add(a: Bound, b: Bound) -> Bound:
    if a is None or b is None:
        return None
    if _is_num(a) and _is_num(b):
        s = a + b
        return None if math.isnan(s) else s
    if a in (INF, -INF):
        return a
    if b in (INF, -INF):
        return b
    return f"{bound_text(a)} + {bound_text(b)}"


def _shift(b: Bound, c: float | None, text: str) -> Bound:
    """A bound plus a fixed value (``c`` when constant, else known by its text)."""
    if b is None or b in (INF, -INF):
        return b
    if c is not None:
        return _add(b, c)
    if b == 0:
        return text
    return f"{text} + {bound_text(b)}" if not (isinstance(b, float) and b < 0) else f"{text} - {bound_text(-b)}"


def _scale(b: Bound, c: float | None, text: str, div: bool = False) -> Bound:
    """A bound times (``div``: divided by) a fixed factor of known sign (``c``: the factor, constant)."""
    if b is None:
        return None
    if b == 0:
        return 0.0
    if b in (INF, -INF):
        return b if (c is None or c > 0) else -b
    if c is not None and _is_num(b):
        return b * c
    if div:
        return f"{bound_text(b)} / {text}"
    return f"{text} * {bound_text(b)}" if b != 1 else text


def _union(parts: list[Support]) -> Support:
    hulls = [p.hull() for p in parts]
    exact = all(p.exact for p in parts)
    if any(h.lo is None or h.hi is None or isinstance(h.lo, str) or isinstance(h.hi, str) for h in hulls):
        return Support("interval", None, None, False)
    return Support(lo=min(h.lo for h in hulls), hi=max(h.hi for h in hulls), exact=exact)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _logit(x: float) -> float:
    if x <= 0:
        return -INF
    if x >= 1:
        return INF
    return math.log(x / (1 - x))


_MONOTONE: dict[str, Callable[[float], float]] = {
    "exp": lambda x: math.exp(x) if x < 709 else INF,
    "log": lambda x: -INF if x <= 0 else math.log(x),
    "log1p": lambda x: -INF if x <= -1 else math.log1p(x),
    "expm1": lambda x: math.expm1(x) if x < 709 else INF,
    "sqrt": lambda x: math.sqrt(max(x, 0.0)),
    "tanh": math.tanh,
    "sinh": lambda x: math.sinh(x) if abs(x) < 709 else math.copysign(INF, x),
    "arcsinh": math.asinh,
    "sigmoid": _sigmoid,
    "logit": _logit,
    "softplus": lambda x: INF if x == INF else _softplus(x),
}


def _apply(f: str, b: Bound) -> Bound:
    """A monotone increasing function at a bound (text bounds stay text)."""
    if b is None:
        return None
    if isinstance(b, str):
        return f"{f}({b})"
    return _MONOTONE[f](b)
