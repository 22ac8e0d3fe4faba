"""Abstract values: what the checker knows about an expression, and constant folding (pure Python)."""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

from .shapes import Shape, size

_EMPTY: frozenset = frozenset()


class Val(NamedTuple):
    """What the checker knows about an expression's value.

    ``shape`` is the shape of one element: inside plates, the plates in ``plates`` add batch
    dimensions on the left (see :mod:`vgc.shapes`).
    """

    shape: Shape
    randoms: frozenset = _EMPTY  # random sites it depends on
    params: frozenset = _EMPTY  # params it depends on
    const: object = None  # a float or nested lists of floats when known
    error: bool = False  # an error was already reported inside
    plates: frozenset = _EMPTY  # the plates it varies over

    @staticmethod
    def join(shape, parts, const=None, error: bool = False) -> Val:
        """A value computed from ``parts``."""
        if not parts:
            return Val(shape, const=const, error=error)
        # the same unions as the general case below, without its generators (the checker joins ~2 values
        # per operator): one part or two
        if len(parts) == 1:
            p = parts[0]
            return Val(shape, _EMPTY.union(p.randoms), _EMPTY.union(p.params), const, error or bool(p.error),
                       _EMPTY.union(p.plates))
        if len(parts) == 2:
            a, b = parts
            return Val(shape, _EMPTY.union(a.randoms, b.randoms), _EMPTY.union(a.params, b.params), const,
                       error or bool(a.error or b.error), _EMPTY.union(a.plates, b.plates))
        return Val(
            shape,
            _EMPTY.union(*(p.randoms for p in parts)),
            _EMPTY.union(*(p.params for p in parts)),
            const,
            error or any(p.error for p in parts),
            _EMPTY.union(*(p.plates for p in parts)),
        )


_UNARY = {
    "neg": lambda x: -x,
    "exp": math.exp,
    "log": math.log,
    "log1p": math.log1p,
    "expm1": math.expm1,
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "tanh": math.tanh,
    "sinh": math.sinh,
    "arcsinh": math.asinh,
    "abs": abs,
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
    "logit": lambda x: math.log(x / (1 - x)),
    "softplus": lambda x: math.log1p(math.exp(x)),
}
_BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "^": lambda a, b: a**b,
}


def _map(f, x):
    return [_map(f, i) for i in x] if isinstance(x, list) else f(x)


def _rank(x) -> int:
    return 1 + _rank(x[0]) if isinstance(x, list) and x else int(isinstance(x, list))


def _map2(f, a, b):
    """``f`` elementwise with NumPy broadcasting: axes line up from the last one, so
    ``[1, 2] + [[0, 0], [0, 0]]`` is ``[[1, 2], [1, 2]]`` (not ``[[1, 1], [2, 2]]``)."""
    ra, rb = _rank(a), _rank(b)
    if ra > rb:
        return [_map2(f, x, b) for x in a]
    if rb > ra:
        return [_map2(f, a, y) for y in b]
    if not isinstance(a, list):
        return f(a, b)
    if len(a) == len(b):
        return [_map2(f, x, y) for x, y in zip(a, b)]
    if len(a) == 1:
        return [_map2(f, a[0], y) for y in b]
    if len(b) == 1:
        return [_map2(f, x, b[0]) for x in a]
    raise ValueError


# Constants with more entries are not folded (their value is left to the generated code): folding
# is for small literals, and a `let` that doubles a vector (`let b = [a, a]`) 30 times would
# otherwise make the checker walk 2^30 entries, or `diag` of a long vector build n^2 of them.
MAX_CONST_SIZE = 10_000


def const_shape(x) -> tuple | None:
    """Shape of a folded constant; None when it is not a rectangular array of floats."""
    if isinstance(x, float):
        return ()
    if not isinstance(x, list) or not x:
        return None
    shapes = {const_shape(i) for i in x}
    if len(shapes) != 1 or None in shapes:
        return None
    return (len(x),) + shapes.pop()


def const_eval(op: str, *args):
    """Fold a constant operation; None when an argument is unknown, the result is not finite, is not a
    rectangular array, or has more than MAX_CONST_SIZE entries."""
    if any(a is None for a in args):
        return None
    try:
        if op in _UNARY:
            out = _map(_UNARY[op], args[0])
        elif op in _BINARY:
            out = _map2(_BINARY[op], args[0], args[1])
        elif op == "sum":
            out = sum(flat(args[0]))
        elif op == "rot":
            t = args[0]
            if not isinstance(t, float):  # rot of a vector is a shape error (VG406), not a constant
                return None
            out = [[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]
        elif op == "diag":
            v = args[0]
            # diag of a matrix is a shape error (VG406); folding it made a ragged "matrix" whose
            # determinant raised TypeError (VG900)
            if not (isinstance(v, list) and all(isinstance(x, float) for x in v)) or len(v) ** 2 > MAX_CONST_SIZE:
                return None
            out = [[v[i] if i == j else 0.0 for j in range(len(v))] for i in range(len(v))]
        elif op == "transpose":
            m = args[0]
            out = [list(r) for r in zip(*m)] if m and isinstance(m[0], list) else m
        else:
            return None
    except (ArithmeticError, ValueError, TypeError, IndexError):
        return None
    shape = const_shape(out)
    if shape is None or size(shape) > MAX_CONST_SIZE:
        return None
    return out if all(isinstance(x, float) and math.isfinite(x) for x in flat(out)) else None


def flat(x):
    """The entries of a folded constant (nested lists), in order."""
    if isinstance(x, list):
        for i in x:
            yield from flat(i)
    else:
        yield x


def numeric_det(m) -> float | None:
    """Determinant of a constant square matrix (nested lists), by Gaussian elimination."""
    # Only a square matrix of floats: `inv([[R]])` with R a 2x2 constant is a shape error (VG406),
    # but its constant is a list of lists of matrices, whose entries float() refused (VG900).
    if not (isinstance(m, list) and const_shape(m) == (len(m), len(m))):
        return None
    a = [list(map(float, r)) for r in m]
    n, det = len(a), 1.0
    scale = max((abs(x) for r in a for x in r), default=0.0) or 1.0
    for i in range(n):
        p = max(range(i, n), key=lambda k: abs(a[k][i]))
        if abs(a[p][i]) <= 1e-12 * scale:
            return 0.0
        if p != i:
            a[i], a[p] = a[p], a[i]
            det = -det
        det *= a[i][i]
        for k in range(i + 1, n):
            f = a[k][i] / a[i][i]
            for j in range(i, n):
                a[k][j] -= f * a[i][j]
    return det


def violates(constraint: str, args: list, value) -> str | None:
    """Why a constant initial value lies outside a constraint, or None."""
    entries = list(flat(value))
    if not entries or not all(isinstance(x, float) for x in entries):
        return None
    lo = args[0] if args and isinstance(args[0], float) else None
    hi = args[1] if len(args) > 1 and isinstance(args[1], float) else None
    if constraint in ("positive", "softplus_positive") and min(entries) <= 0:
        return "must be > 0"
    if constraint == "unit_interval" and (min(entries) <= 0 or max(entries) >= 1):
        return "must lie strictly between 0 and 1"
    if constraint == "interval" and lo is not None and hi is not None and (min(entries) <= lo or max(entries) >= hi):
        return f"must lie strictly between {lo:g} and {hi:g}"
    if constraint == "greater_than" and lo is not None and min(entries) <= lo:
        return f"must be > {lo:g}"
    if constraint == "less_than" and lo is not None and max(entries) >= lo:
        return f"must be < {lo:g}"
    if constraint == "simplex" and (min(entries) < 0 or abs(sum(entries) - 1) > 1e-6):
        return "must be non-negative and sum to 1"
    if constraint == "ordered" and any(b <= a for a, b in itertools.pairwise(entries)):
        return "must be strictly increasing"
    return None
