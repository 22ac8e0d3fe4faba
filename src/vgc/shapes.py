"""Shapes: the one home of every shape rule (pure Python, no jax).

VG keeps two kinds of dimensions apart:

* **event** (per-element) dimensions are the shapes the user writes and the checker checks: a
  ``Shape`` is a tuple of ints, or None when it is not known at compile time (model arguments);
* **batch** (plate) dimensions are added on the left by the plates a value lives in. They are never
  written: a :class:`Layout` says which plates, at which NumPyro ``dim``, and codegen lays the arrays
  out so that NumPy broadcasting lines them up (a plate at ``dim=-2`` gives a size-1 axis at -1).

Rules here return a shape, or a reason the shapes do not fit (the checker turns it into VG406).
"""

from __future__ import annotations

import math
from typing import ClassVar

from .nodes import Record

Shape = tuple | None  # tuple[int, ...]; None: not known at compile time


def size(shape: tuple) -> int:
    """Number of entries of a known shape."""
    return math.prod(shape)


def broadcast(a: Shape, b: Shape) -> Shape:
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


def matmul(a: Shape, b: Shape) -> tuple[Shape, str | None]:
    """Shape of ``a · b`` (vectors and matrices), or why it is undefined."""
    if a is None or b is None:
        return None, None
    if not a or not b or len(a) > 2 or len(b) > 2:
        return None, "rank"
    if a[-1] != b[0]:
        return None, "mismatch"
    return a[:-1] + b[1:], None


# What each shape-changing function needs, for the message when it gets something else.
FUNCTION_NEEDS = {
    "rot": "a scalar angle",
    "diag": "a vector",
    "inv": "a square matrix",
    "transpose": "a vector or matrix",
}


# The mapping functions (vg-language.md, "Mapping onto a constrained support"): an unconstrained vector onto
# a support, as NumPyro's biject_to(constraints.X). Their per-element input is a vector (a plate's or a
# batch's axes stay on the left: NumPyro's transforms act on the last axis).
MAPPINGS = ("simplex", "ordered", "lower_cholesky", "corr_cholesky")


def triangular_side(m: int, diagonal: bool) -> int | None:
    """n with m = n(n+1)/2 (``diagonal``) or m = n(n-1)/2, n ≥ 1 (≥ 2 without the diagonal); None when none."""
    if m < 1:
        return None
    r = math.isqrt(8 * m + 1)  # 8m + 1 = (2n ± 1)^2
    n = (r - 1) // 2 if diagonal else (r + 1) // 2
    return n if n * (n + (1 if diagonal else -1)) == 2 * m else None


def mapped(f: str, s: tuple) -> tuple | None:
    """Shape of the mapping function ``f`` of a per-element shape ``s``; None when ``s`` does not fit."""
    if len(s) != 1 or s[0] < 1:
        return None
    m = s[0]
    if f == "simplex":
        return (m + 1,)
    if f == "ordered":
        return (m,)
    n = triangular_side(m, diagonal=f == "lower_cholesky")
    return None if n is None else (n, n)


def _got(s: Shape) -> str:
    return "got a scalar" if s == () else f"got a {s[0]}-vector" if s is not None and len(s) == 1 else \
        f"got shape {s}"


def mapping_needs(f: str, s: Shape) -> tuple[str, str]:
    """The message and hint when the mapping function ``f`` gets an argument of shape ``s``."""
    if f == "simplex":
        return (f"simplex() maps a vector of K-1 ≥ 1 reals onto the K-simplex; {_got(s)}",
                "e.g. `x = simplex(v)` with v a 2-vector is a point of the 3-simplex")
    if f == "ordered":
        return (f"ordered() maps a vector of K ≥ 1 reals onto an increasing K-vector; {_got(s)}",
                "e.g. `x = ordered(v)` with v a 3-vector")
    diagonal = f == "lower_cholesky"
    formula, first = ("n(n+1)/2", 1) if diagonal else ("n(n-1)/2", 2)
    works = [(n, n * (n + 1) // 2 if diagonal else n * (n - 1) // 2) for n in range(first, first + 5)]
    lengths = ", ".join(f"{m} ({n}x{n})" for n, m in works)
    got = _got(s)
    if s is not None and len(s) == 1 and s[0] >= 1:
        got = f"got a {s[0]}-vector, and {s[0]} is not {formula} for any n" + (" ≥ 2" if not diagonal else "")
    what = "an n×n lower-triangular matrix with positive diagonal" if diagonal else \
        "the n×n Cholesky factor of a correlation matrix"
    return (f"{f}() maps a vector of {formula} reals onto {what}; {got}",
            f"lengths that work: {lengths}, ...")


def function(f: str, s: Shape, elementwise: bool) -> tuple[Shape, bool]:
    """Shape of ``f(x)`` for ``x`` of shape ``s``, and whether ``s`` is wrong for ``f``."""
    if elementwise:
        return s, False
    if f == "sum":
        return (), False
    if s is None:
        return None, False
    if f in MAPPINGS:
        out = mapped(f, s)
        return out, out is None
    bad = {
        "rot": s != (),
        "diag": len(s) != 1,
        "inv": len(s) != 2 or s[0] != s[1],
        "transpose": len(s) > 2,
    }[f]
    if bad:
        return None, True
    return {"rot": (2, 2), "diag": s + s, "inv": s, "transpose": tuple(reversed(s))}[f], False


def transpose(s: Shape) -> Shape:
    """Shape of ``x'``."""
    return None if s is None else tuple(reversed(s))


def stack(items: list[Shape]) -> tuple[Shape, bool]:
    """Shape of the vector literal ``[a, b, ...]``, and whether its entries disagree."""
    if any(s is None for s in items):
        return None, False
    if len(set(items)) > 1:
        return None, True
    return (len(items),) + items[0], False


class DistShape(Record):
    """One draw of a primitive distribution: ``batch`` (from broadcasting its arguments) and ``event``."""

    __slots__ = ("batch", "event")
    batch: Shape
    event: Shape

    @property
    def shape(self) -> Shape:
        """Shape of one draw: outside a plate a distribution's batch dimensions become event dimensions."""
        return None if self.batch is None or self.event is None else self.batch + self.event

    @property
    def event_dim(self) -> int | None:
        """The site's event dimension: ``.to_event(len(batch))`` on top of the family's own."""
        return None if self.shape is None else len(self.shape)


# ---------------------------------------------------------------- plates


class PlateDim(Record):
    """One plate as the shapes see it: its name, its NumPyro ``dim``, its size when constant, and whether it
    is subsampled (then ``subsample`` is the subsample size when constant)."""

    __slots__ = ("name", "dim", "size", "subsampled", "subsample")
    _defaults: ClassVar[dict] = {"subsampled": False, "subsample": None}
    name: str
    dim: int
    size: int | None
    subsampled: bool
    subsample: int | None

    @property
    def step_size(self) -> int | None:
        """How many elements one run of the guide visits (the subsample size when subsampled)."""
        return self.subsample if self.subsampled else self.size


def allocate_dim(enclosing: tuple[PlateDim, ...], explicit: int | None) -> int:
    """The plate's ``dim``: as written, else the rightmost dim no enclosing plate occupies (as NumPyro
    allocates it: −1 for an outer plate, the next one to the left inside)."""
    if explicit is not None:
        return explicit
    taken = {p.dim for p in enclosing}
    dim = -1
    while dim in taken:
        dim -= 1
    return dim


class Layout(Record):
    """Where a value's batch dimensions are: the plates it lives in, each at its ``dim``.

    The full array shape is ``batch + event`` where ``batch`` has ``-min(dim)`` axes, a plate's size at
    its dim and 1 elsewhere (NumPy broadcasting then lines up values of different plates).
    """

    __slots__ = ("plates",)
    _defaults: ClassVar[dict] = {"plates": ()}
    plates: tuple[PlateDim, ...]

    @property
    def rank(self) -> int:
        """Number of batch axes."""
        return max((-p.dim for p in self.plates), default=0)

    def batch_axes(self) -> list[str | None]:
        """For each batch axis, left to right, the plate name on it (None: a size-1 axis)."""
        out: list[str | None] = [None] * self.rank
        for p in self.plates:
            out[self.rank + p.dim] = p.name
        return out

    def own_dims(self, k: int) -> tuple[int, ...]:
        """The dims, left to right, of a ``: batch(k)`` draw's own k batch dimensions inside these plates: the
        k rightmost that no plate takes, as NumPyro gives a site's batch dimensions that no plate declares
        (and as it allocates a plate's dim: the rightmost free one)."""
        taken = {p.dim for p in self.plates}
        out: list[int] = []
        dim = -1
        while len(out) < k:
            if dim not in taken:
                out.append(dim)
            dim -= 1
        return tuple(reversed(out))

    def site_axes(self, k: int) -> list[str | int | None]:
        """NumPyro's batch axes of a draw with ``k`` own batch dimensions in these plates, left to right: a
        plate's name, the index of one of the draw's own dimensions, or None (a size-1 axis)."""
        own = self.own_dims(k)
        width = max(self.rank, -own[0] if own else 0)
        out: list[str | int | None] = [None] * width
        for p in self.plates:
            out[width + p.dim] = p.name
        for i, d in enumerate(own):
            out[width + d] = i
        return out


def event_axes(rank: int) -> tuple[int, ...]:
    """The (negative) axes of a value's event dimensions: what a per-element sum reduces."""
    return tuple(range(-rank, 0))
