"""Abstract values for the checker: shapes, dependencies and constant folding (pure Python)."""

from __future__ import annotations

import math
from dataclasses import dataclass

Shape = "tuple[int, ...] | None"  # None: not known at compile time (model arguments)


@dataclass(frozen=True)
class Val:
    """What the checker knows about an expression's value."""

    shape: tuple | None
    randoms: frozenset = frozenset()  # random sites it depends on
    params: frozenset = frozenset()  # params it depends on
    const: object = None  # a float or nested lists of floats when known
    error: bool = False  # an error was already reported inside

    @staticmethod
    def join(shape, parts, const=None, error: bool = False) -> Val:
        """A value computed from ``parts``."""
        return Val(
            shape,
            frozenset().union(*(p.randoms for p in parts)) if parts else frozenset(),
            frozenset().union(*(p.params for p in parts)) if parts else frozenset(),
            const,
            error or any(p.error for p in parts),
        )


def size(shape) -> int:
    """Number of entries of a known shape."""
    return math.prod(shape)


def broadcast(a, b):
    """NumPy broadcasting of two shapes; None when unknown or incompatible."""
    if a is None or b is None:
        return None
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y) if 1 not in (x, y) else x * y)
    return tuple(reversed(out))


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
            out = sum(_flat(args[0]))
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
    return out if all(isinstance(x, float) and math.isfinite(x) for x in _flat(out)) else None


def _flat(x):
    if isinstance(x, list):
        for i in x:
            yield from _flat(i)
    else:
        yield x
