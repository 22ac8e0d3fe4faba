"""What VG knows by name: distributions, functions and constraints.

This is the single source of truth for the checker, the code generator, the
docs and (later) the editor grammars. Nothing here imports jax.
"""

from __future__ import annotations

import keyword
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
    """A NumPyro distribution: its argument list, the rank of one draw (0 scalar, 1 vector) and its
    support, spelt as NumPyro's constraint with argument names for bounds (``interval(low, high)``;
    :mod:`vgc.supports` evaluates them)."""

    __slots__ = ("name", "args", "event_rank", "doc", "support")
    _defaults: ClassVar[dict] = {"event_rank": 0, "doc": "", "support": "real"}
    name: str
    args: tuple[Arg, ...]
    event_rank: int
    doc: str
    support: str

    def signature(self) -> str:
        """``Normal(loc, scale=1)``-style text for hovers and messages."""
        parts = [a.name if a.required else f"{a.name}=…" for a in self.args]
        return f"{self.name}({', '.join(parts)})"


def _d(name: str, *args: Arg, event_rank: int = 0, doc: str = "", support: str = "real") -> DistSpec:
    return DistSpec(name, tuple(args), event_rank, doc, support)


_LOC = Arg("loc", required=False)
_RATE = Arg("rate", required=False, positive=True)
_C1, _C0 = Arg("concentration1", positive=True), Arg("concentration0", positive=True)
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
        _d("LogNormal", _LOC, _SCALE, support="positive"),
        _d("HalfNormal", _SCALE, support="positive"),
        _d("HalfCauchy", _SCALE, support="positive"),
        _d("Exponential", _RATE, support="positive"),
        _d("Gamma", Arg("concentration", positive=True), _RATE, support="positive"),
        _d("InverseGamma", Arg("concentration", positive=True), _RATE, support="positive"),
        _d("Chi2", Arg("df", positive=True), support="positive"),
        _d("Beta", _C1, _C0, support="unit_interval"),
        _d("Kumaraswamy", _C1, _C0, support="unit_interval"),
        _d("Uniform", Arg("low", required=False), Arg("high", required=False), support="interval(low, high)"),
        _d("Pareto", Arg("scale", positive=True), Arg("alpha", positive=True), support="greater_than(scale)"),
        _d("VonMises", Arg("loc"), Arg("concentration", positive=True), support="circular"),
        _d("Weibull", Arg("scale", positive=True), Arg("concentration", positive=True), support="positive"),
        _d("Dirichlet", Arg("concentration", rank=1, positive=True), event_rank=1, support="simplex"),
        _d(
            "MultivariateNormal",
            Arg("loc", required=False, rank=1),
            Arg("covariance_matrix", required=False, rank=2),
            Arg("precision_matrix", required=False, rank=2),
            Arg("scale_tril", required=False, rank=2),
            event_rank=1,
            support="real_vector",
        ),
        _d(
            "LowRankMultivariateNormal",
            Arg("loc", rank=1),
            Arg("cov_factor", rank=2),
            Arg("cov_diag", rank=1, positive=True),
            event_rank=1,
            support="real_vector",
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
MLP = "mlp"  # `net NAME = mlp(SIZES..., act=ACT)`
MODULE = "module"  # `net NAME = module(ARG)`: a Flax or Equinox module passed as a guide argument
CONCAT = "concat"  # `concat(a, b, ...)`: vectors joined
# A param's random starting value, drawn in its unconstrained space when SVI starts: `= uniform(-2, 2)`
RANDOM_INITS = {"uniform": ("low", "high"), "normal": ("loc", "scale")}


def is_random_init(e) -> bool:
    """Whether a param's initial value (an expression node or None) is a random starting value."""
    return type(e).__name__ == "Call" and e.func in RANDOM_INITS
# The activations an `mlp` takes (JAX's `jax.nn` elementwise functions of the same names); relu is the default.
ACTIVATIONS = ("relu", "softplus", "tanh", "sigmoid", "elu", "gelu", "silu")


class FuncSpec(Record):
    """A VG function: arity, whether it acts elementwise, and its monotonicity on its domain.

    ``monotone`` is True for bijections of their domain (usable in a transform),
    False for elementwise functions that are not (rejected on random values),
    None for functions that are not elementwise.
    ``domain`` and ``image`` are supports (spelt as NumPyro's constraints): where the function is defined
    and what it maps that onto; :mod:`vgc.supports` derives a transformed site's support from them.
    """

    __slots__ = ("name", "arity", "elementwise", "monotone", "doc", "domain", "image")
    _defaults: ClassVar[dict] = {"domain": "real", "image": "real"}
    name: str
    arity: int
    elementwise: bool
    monotone: bool | None
    doc: str
    domain: str
    image: str


FUNCTIONS: dict[str, FuncSpec] = {
    f.name: f
    for f in [
        FuncSpec("exp", 1, True, True, "e^x", image="positive"),
        FuncSpec("log", 1, True, True, "natural logarithm (x > 0)", domain="positive"),
        FuncSpec("log1p", 1, True, True, "log(1 + x)", domain="greater_than(-1)"),
        FuncSpec("expm1", 1, True, True, "e^x - 1", image="greater_than(-1)"),
        FuncSpec("sqrt", 1, True, True, "square root (x ≥ 0)", domain="nonnegative", image="nonnegative"),
        FuncSpec("tanh", 1, True, True, "hyperbolic tangent", image="interval(-1, 1)"),
        FuncSpec("sinh", 1, True, True, "hyperbolic sine"),
        FuncSpec("arcsinh", 1, True, True, "inverse hyperbolic sine"),
        FuncSpec("sigmoid", 1, True, True, "1 / (1 + e^-x)", image="unit_interval"),
        FuncSpec("logit", 1, True, True, "log(x / (1 - x)), 0 < x < 1", domain="unit_interval"),
        FuncSpec("softplus", 1, True, True, "log(1 + e^x)", image="positive"),
        FuncSpec("sin", 1, True, False, "sine", image="interval(-1, 1)"),
        FuncSpec("cos", 1, True, False, "cosine", image="interval(-1, 1)"),
        FuncSpec("tan", 1, True, False, "tangent (periodic, so not invertible)"),
        FuncSpec("abs", 1, True, False, "absolute value", image="nonnegative"),
        FuncSpec("sum", 1, False, None, "sum of all entries"),
        FuncSpec("rot", 1, False, None, "2x2 rotation [[cos θ, -sin θ], [sin θ, cos θ]]"),
        FuncSpec("diag", 1, False, None, "diagonal matrix of a vector"),
        FuncSpec("inv", 1, False, None, "matrix inverse"),
        FuncSpec("transpose", 1, False, None, "matrix transpose (also M')"),
        # Mapping functions: NumPyro's biject_to(constraints.IMAGE) applied to an unconstrained vector.
        FuncSpec("simplex", 1, False, None, "K-1 reals onto the K-simplex (StickBreakingTransform)",
                 domain="real_vector", image="simplex"),
        FuncSpec("ordered", 1, False, None, "K reals onto an increasing K-vector (OrderedTransform)",
                 domain="real_vector", image="ordered_vector"),
        FuncSpec("lower_cholesky", 1, False, None,
                 "n(n+1)/2 reals onto an n×n lower-triangular matrix with positive diagonal (LowerCholeskyTransform)",
                 domain="real_vector", image="lower_cholesky"),
        FuncSpec("corr_cholesky", 1, False, None,
                 "n(n-1)/2 reals onto the n×n Cholesky factor of a correlation matrix (CorrCholeskyTransform)",
                 domain="real_vector", image="corr_cholesky"),
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
        ConstraintSpec("softplus_positive", 0, "x > 0, learned as y with x = log(1 + e^y) (AutoNormal's scales)"),
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

KEYWORDS = ("param", "let", "guide", "plate", "net", "as")
# Python's soft keywords as of 3.12 (`type` joined then): fixed here so that a VG file means the same
# on every Python version vgc supports.
SOFT_KEYWORDS = frozenset({"_", "case", "match", "type"})


def name_problem(name: str) -> str | None:
    """Why ``name`` (NFKC-normalized) cannot be a VG name, or None when it can (the one rule: the parser's
    VG103 and the names `vgc init` makes for model sites)."""
    if name in KEYWORDS:
        return "it is a VG keyword"
    if keyword.iskeyword(name) or name in SOFT_KEYWORDS:
        return "it is a Python keyword"
    if name.startswith("__"):
        return "names starting with '__' are reserved"
    if not name.isidentifier():
        return "it is not a valid identifier"
    return None


def vg_spelling(name: str) -> str:
    """A VG name made from a NumPyro name that is not one (``"trend/alpha"`` → ``trend_alpha``, ``"lambda"`` →
    ``lambda_``): runs of other characters become ``_``, and a keyword gets a trailing ``_``. `vgc init`
    makes it unique in a guide; the model check's hints spell ``as`` with it."""
    import re

    base = re.sub(r"\W+", "_", name).strip("_") or "site"
    base = "_" + base if base[0].isdigit() else base
    return base + "_" if name_problem(base) is not None else base


def highlight_words() -> dict[str, tuple[str, ...]]:
    """The word lists editors highlight, by class: the one source for the TextMate grammar
    (``editors/generate.py``) and the Pygments lexer (:mod:`vgc.pygments_lexer`).

    ``invalid`` are names the checker always refuses in a guide: ``factor`` (VG301), improper (VG303)
    and discrete (VG304) families. ``function`` includes ``len`` (valid only as a plate's size, but a
    function wherever it is called), the network words ``mlp``, ``module`` and ``concat`` and the activations
    an mlp takes. ``plate_option`` are the plate's option names, which are not
    reserved: editors highlight them only as an option in a plate header (``subsample=K``), every other
    class wherever it appears. The mapping functions ``simplex``, ``ordered``, ``lower_cholesky`` and
    ``corr_cholesky`` are spelt like the constraints they map onto: each word has one class, so they are
    listed as constraints only (the highlighters are context-free).
    """
    return {
        "keyword": tuple(KEYWORDS),
        "distribution": tuple(sorted([*DISTRIBUTIONS, MIX])),
        "function": tuple(sorted({*FUNCTIONS, LEN, MLP, MODULE, CONCAT, *ACTIVATIONS} - set(CONSTRAINTS))),
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
