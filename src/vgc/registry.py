"""What VG knows by name: distributions, functions and constraints.

This is the single source of truth for the checker, the code generator, the
docs and (later) the editor grammars. Nothing here imports jax.
"""

from __future__ import annotations

from typing import ClassVar

from .nodes import Record

# Python keywords and the names the generated module binds must never be VG names
# used as-is; see codegen.NameMap for how clashes with the latter are avoided.


class Arg(Record):
    """A distribution argument: its NumPyro name, its event rank, and whether it must be > 0."""

    __slots__ = ("name", "required", "rank", "positive")
    _defaults: ClassVar[dict] = {"required": True, "rank": 0, "positive": False}
    name: str
    required: bool
    rank: int
    positive: bool


class DistSpec(Record):
    """A NumPyro distribution: its argument list and the rank of one draw (0 scalar, 1 vector)."""

    __slots__ = ("name", "args", "event_rank", "doc")
    _defaults: ClassVar[dict] = {"event_rank": 0, "doc": ""}
    name: str
    args: tuple[Arg, ...]
    event_rank: int
    # For event_rank 1: which arguments carry the event size in their last axis.
    doc: str

    def signature(self) -> str:
        """``Normal(loc, scale=1)``-style text for hovers and messages."""
        parts = [a.name if a.required else f"{a.name}=…" for a in self.args]
        return f"{self.name}({', '.join(parts)})"


def _d(name: str, *args: Arg, event_rank: int = 0, doc: str = "") -> DistSpec:
    return DistSpec(name, tuple(args), event_rank, doc)


_LOC = Arg("loc", required=False)
_SCALE = Arg("scale", required=False, positive=True)

DISTRIBUTIONS: dict[str, DistSpec] = {
    d.name: d
    for d in [
        _d("Normal", _LOC, _SCALE, doc="Gaussian"),
        _d("Cauchy", _LOC, _SCALE),
        _d("StudentT", Arg("df", positive=True), _LOC, _SCALE),
        _d("Laplace", _LOC, _SCALE),
        _d("Logistic", _LOC, _SCALE),
        _d("Gumbel", _LOC, _SCALE),
        _d("LogNormal", _LOC, _SCALE),
        _d("HalfNormal", _SCALE),
        _d("HalfCauchy", _SCALE),
        _d("Exponential", Arg("rate", required=False, positive=True)),
        _d("Gamma", Arg("concentration", positive=True), Arg("rate", required=False, positive=True)),
        _d("InverseGamma", Arg("concentration", positive=True), Arg("rate", required=False, positive=True)),
        _d("Chi2", Arg("df", positive=True)),
        _d("Beta", Arg("concentration1", positive=True), Arg("concentration0", positive=True)),
        _d("Kumaraswamy", Arg("concentration1", positive=True), Arg("concentration0", positive=True)),
        _d("Uniform", Arg("low", required=False), Arg("high", required=False)),
        _d("Pareto", Arg("scale", positive=True), Arg("alpha", positive=True)),
        _d("VonMises", Arg("loc"), Arg("concentration", positive=True)),
        _d("Weibull", Arg("scale", positive=True), Arg("concentration", positive=True)),
        _d("Dirichlet", Arg("concentration", rank=1, positive=True), event_rank=1),
        _d(
            "MultivariateNormal",
            Arg("loc", required=False, rank=1),
            Arg("covariance_matrix", required=False, rank=2),
            Arg("precision_matrix", required=False, rank=2),
            Arg("scale_tril", required=False, rank=2),
            event_rank=1,
        ),
        _d(
            "LowRankMultivariateNormal",
            Arg("loc", rank=1),
            Arg("cov_factor", rank=2),
            Arg("cov_diag", rank=1, positive=True),
            event_rank=1,
        ),
    ]
}

# Names a user may reach for that VG refuses, with the reason.
IMPROPER_DISTRIBUTIONS = {"ImproperUniform", "Unit"}
DISCRETE_DISTRIBUTIONS = {
    "Bernoulli",
    "Binomial",
    "Categorical",
    "Poisson",
    "Geometric",
    "NegativeBinomial",
    "Multinomial",
    "DiscreteUniform",
    "BetaBinomial",
    "ZeroInflatedPoisson",
    "OrderedLogistic",
}
MIX = "Mix"
FACTOR = "factor"
LEN = "len"  # only as a plate's size: `plate data(len(y))`
PLATE_OPTIONS = ("subsample", "dim")  # `plate NAME(SIZE, subsample=K, dim=D)`; not reserved words


class FuncSpec(Record):
    """A VG function: arity, whether it acts elementwise, and its monotonicity on its domain.

    ``monotone`` is True for bijections of their domain (usable in a transform),
    False for elementwise functions that are not (rejected on random values),
    None for functions that are not elementwise.
    """

    __slots__ = ("name", "arity", "elementwise", "monotone", "doc")
    name: str
    arity: int
    elementwise: bool
    monotone: bool | None
    doc: str


FUNCTIONS: dict[str, FuncSpec] = {
    f.name: f
    for f in [
        FuncSpec("exp", 1, True, True, "e^x"),
        FuncSpec("log", 1, True, True, "natural logarithm (x > 0)"),
        FuncSpec("log1p", 1, True, True, "log(1 + x)"),
        FuncSpec("expm1", 1, True, True, "e^x - 1"),
        FuncSpec("sqrt", 1, True, True, "square root (x ≥ 0)"),
        FuncSpec("tanh", 1, True, True, "hyperbolic tangent"),
        FuncSpec("sinh", 1, True, True, "hyperbolic sine"),
        FuncSpec("arcsinh", 1, True, True, "inverse hyperbolic sine"),
        FuncSpec("sigmoid", 1, True, True, "1 / (1 + e^-x)"),
        FuncSpec("logit", 1, True, True, "log(x / (1 - x)), 0 < x < 1"),
        FuncSpec("softplus", 1, True, True, "log(1 + e^x)"),
        FuncSpec("sin", 1, True, False, "sine"),
        FuncSpec("cos", 1, True, False, "cosine"),
        FuncSpec("tan", 1, True, False, "tangent (periodic, so not invertible)"),
        FuncSpec("abs", 1, True, False, "absolute value"),
        FuncSpec("sum", 1, False, None, "sum of all entries"),
        FuncSpec("rot", 1, False, None, "2x2 rotation [[cos θ, -sin θ], [sin θ, cos θ]]"),
        FuncSpec("diag", 1, False, None, "diagonal matrix of a vector"),
        FuncSpec("inv", 1, False, None, "matrix inverse"),
        FuncSpec("transpose", 1, False, None, "matrix transpose (also M')"),
    ]
}


class ConstraintSpec(Record):
    """A param constraint: how many numeric arguments it takes and its default initial value."""

    __slots__ = ("name", "arity", "doc")
    name: str
    arity: int
    doc: str


CONSTRAINTS: dict[str, ConstraintSpec] = {
    c.name: c
    for c in [
        ConstraintSpec("real", 0, "any real number (default)"),
        ConstraintSpec("positive", 0, "x > 0"),
        ConstraintSpec("unit_interval", 0, "0 < x < 1"),
        ConstraintSpec("simplex", 0, "a vector of non-negative entries summing to 1"),
        ConstraintSpec("interval", 2, "a < x < b"),
        ConstraintSpec("greater_than", 1, "x > a"),
        ConstraintSpec("less_than", 1, "x < a"),
        ConstraintSpec("ordered", 0, "an increasing vector"),
        ConstraintSpec("lower_cholesky", 0, "a lower-triangular matrix with positive diagonal"),
        ConstraintSpec("corr_cholesky", 0, "the Cholesky factor of a correlation matrix"),
    ]
}

KEYWORDS = ("param", "let", "guide", "plate")


def highlight_words() -> dict[str, tuple[str, ...]]:
    """The word lists editors highlight, by class: the one source for the TextMate grammar
    (``editors/generate.py``) and the Pygments lexer (:mod:`vgc.pygments_lexer`).

    ``invalid`` are names the checker always refuses in a guide: ``factor`` (VG301), improper (VG303)
    and discrete (VG304) families. ``function`` includes ``len`` (valid only as a plate's size, but a
    function wherever it is called). ``plate_option`` are the plate's option names, which are not
    reserved: editors highlight them only as an option in a plate header (``subsample=K``), every other
    class wherever it appears.
    """
    return {
        "keyword": tuple(KEYWORDS),
        "distribution": tuple(sorted([*DISTRIBUTIONS, MIX])),
        "function": tuple(sorted([*FUNCTIONS, LEN])),
        "constraint": tuple(sorted(CONSTRAINTS)),
        "invalid": tuple(sorted({FACTOR, *IMPROPER_DISTRIBUTIONS, *DISCRETE_DISTRIBUTIONS})),
        "plate_option": tuple(PLATE_OPTIONS),
    }


# Operators by class, each in every spelling the lexer accepts (grammar/vg.lark).
OPERATORS: dict[str, tuple[str, ...]] = {
    "sampling": ("~",),
    "pm": ("±", "+-"),
    "matmul": ("·", "@"),
    "power": ("^", "**"),
    "transpose": ("'",),
    "arithmetic": ("+", "-", "*", "/"),
    "assignment": ("=",),
    "constraint": (":",),
}
