"""Phase 2: AST → checked guides (IR), with every diagnostic collected.

The checker resolves names in statement order, infers shapes, decides which
random variables are auxiliary, validates distributions, mixtures and params,
and asks :mod:`vgc.transforms` for each transform's log-Jacobian. It never
stops at the first problem and never imports jax.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import diagnostics as D
from . import nodes as N
from . import registry as R
from . import transforms as T
from .values import MAX_CONST_SIZE, Shape, Val, broadcast, const_eval, size

# ---------------------------------------------------------------- the IR


@dataclass
class Sym:
    """What a name is bound to in a guide."""

    name: str
    kind: str  # "param" | "random" | "latent" | "let" | "arg" | "broken" (a statement that did not parse)
    span: N.Span
    shape: Shape
    params: frozenset = frozenset()
    randoms: frozenset = frozenset()
    constraint: str = "real"
    const: object = None
    defn: N.Expr | None = None  # for lets: substituted into transforms
    consumed_at: int | None = None
    used: bool = False
    quiet: bool = False  # involved in a rejected statement: no follow-on warnings
    const_low: object = None  # a param's constant lower bound (greater_than, interval)
    expanded: T.Size = T.ONE  # for lets: the definition's size with lets substituted (transforms.Size)
    error: bool = False  # for lets: an error was reported in the definition


@dataclass(frozen=True)
class DistIR:
    """A primitive distribution call with arguments matched to NumPyro's names."""

    family: str
    args: tuple[N.Expr, ...]
    kwargs: tuple[tuple[str, N.Expr], ...]
    batch: Shape
    event: Shape

    @property
    def shape(self) -> Shape:
        """Shape of one draw (batch dimensions become event dimensions)."""
        return None if self.batch is None or self.event is None else self.batch + self.event


@dataclass(frozen=True)
class MixIR:
    """``Mix(...)``: same-family (``components`` has one entry) or general, and its weights."""

    weights: N.Expr | None
    components: tuple[DistIR, ...]
    k: int
    pm: bool  # the single component's ± makes the two components
    shape: Shape


@dataclass(frozen=True)
class ParamIR:
    """``numpyro.param``: init is an Expr, or None for the constraint's default."""

    stmt: N.Param
    shape: Shape
    constraint: str
    constraint_args: tuple[N.Expr, ...]


@dataclass(frozen=True)
class SampleIR:
    """``numpyro.sample`` of a base distribution; auxiliary when a transform consumes it."""

    stmt: N.Sample
    dist: DistIR | MixIR
    auxiliary: bool


@dataclass(frozen=True)
class TransformIR:
    """Latent ``Delta`` sites defined by a transform and its log-Jacobian plan."""

    stmt: N.Assign
    shape: Shape
    plan: T.Plan


@dataclass(frozen=True)
class LetIR:
    """A local value."""

    stmt: N.Let


@dataclass
class GuideIR:
    """One checked guide, ready for code generation."""

    name: str
    args: tuple[str, ...] | None
    items: list = field(default_factory=list)
    symbols: dict[str, Sym] = field(default_factory=dict)


POSITIVE_CONSTRAINTS = {"positive", "unit_interval", "simplex", "lower_cholesky", "corr_cholesky"}

# The "did you mean" hints of undefined names compare the name with every name in scope (difflib,
# quadratic in the names' lengths): 10,000 undefined uses among 10,000 names took a minute, 200 long
# similar names 25 s. Per guide, the hints stop when the estimated work (names in scope × name
# length²) reaches this budget, about 0.2 s; ordinary files never get near it.
SUGGESTION_BUDGET = 3_000_000


def _did_you_mean(name: str, options) -> str:
    import difflib  # only on the error path

    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


# ---------------------------------------------------------------- the checker


class GuideChecker:
    """Checks the statements of one guide in order."""

    def __init__(self, reporter: D.Reporter, name: str, args: tuple[N.Name, ...] | None, numeric: bool = False):
        self.r = reporter
        self.numeric = numeric
        self.guide = GuideIR(name, None if args is None else tuple(a.id for a in args))
        self.scope = self.guide.symbols
        for a in args or ():
            if a.id in self.scope:
                self.r.report(D.REDEFINED, a.span, f"argument '{a.id}' is listed twice")
            self.scope[a.id] = Sym(a.id, "arg", a.span, None, used=True)
        self.sample_items: dict[str, int] = {}
        self.suggestion_budget = SUGGESTION_BUDGET

    # -- helpers
    def define(self, name: str, span: N.Span) -> bool:
        """Report a redefinition; True when the name is free."""
        old = self.scope.get(name)
        if old is None or old.kind == "broken":
            return True
        self.r.report(
            D.REDEFINED,
            span,
            f"'{name}' is already defined (line {old.span.line})",
            "every name is defined once; choose a new name",
        )
        return False

    # -- expressions
    def value(self, e: N.Expr, pm_ok: bool = False) -> Val:
        """Abstract value of an expression: shape, random and param dependencies, constant value."""
        if isinstance(e, N.Number):
            if e.value == 0 and math.isinf(float(e.text)):  # 1e400: VG104 already, stands in as 0
                return Val((), error=True)
            return Val((), const=e.value)
        if isinstance(e, N.Name):
            return self.name_value(e)
        if isinstance(e, N.Vector):
            vals = [self.value(i, pm_ok) for i in e.items]
            shapes = [v.shape for v in vals]
            shape: Shape = None
            if not vals:
                self.r.report(D.SHAPE, e.span, "an empty vector has no use here")
            elif all(s is not None for s in shapes):
                if len(set(shapes)) > 1:
                    self.r.report(
                        D.SHAPE,
                        e.span,
                        "the entries of a vector must all have the same shape",
                        "shapes here: " + ", ".join(str(s) for s in shapes),
                    )
                else:
                    shape = (len(vals),) + shapes[0]
            # Not folded when ragged or big: `let b = [a, a]` shares a's constant, and 30 such lets
            # would make any walk over the result visit 2^30 entries.
            const = (
                [v.const for v in vals]
                if shape is not None and size(shape) <= MAX_CONST_SIZE and all(v.const is not None for v in vals)
                else None
            )
            return Val.join(shape, vals, const)
        if isinstance(e, N.UnaryOp):
            if e.op.op == "+-" and not pm_ok:
                self._pm_error(e.op)
            v = self.value(e.operand, pm_ok)
            const = const_eval("neg", v.const) if e.op.op == "-" else v.const if e.op.op == "+" else None
            return Val.join(v.shape, [v], const)
        if isinstance(e, N.BinOp):
            return self.binop(e, pm_ok)
        if isinstance(e, N.Transpose):
            v = self.value(e.operand, pm_ok)
            return Val.join(None if v.shape is None else tuple(reversed(v.shape)), [v])
        if isinstance(e, N.Call):
            return self.call_value(e, pm_ok)
        raise TypeError(type(e))

    def quiet_value(self, e: N.Expr) -> Val:
        """``value`` without reporting (for re-analysing already checked expressions)."""
        saved, self.r = self.r, D.Reporter()
        try:
            return self.value(e, pm_ok=True)
        finally:
            self.r = saved

    def name_value(self, e: N.Name) -> Val:
        sym = self.scope.get(e.id)
        if sym is None:
            if e.id in R.FUNCTIONS:
                self.r.report(D.NOT_A_VALUE, e.span, f"'{e.id}' is a function, not a value", f"call it: {e.id}(...)")
            elif e.id in R.DISTRIBUTIONS:
                self.r.report(
                    D.NOT_A_VALUE,
                    e.span,
                    f"'{e.id}' is a distribution, not a value",
                    f"draw from it: `x ~ {e.id}(...)`",
                )
            elif e.id in R.CONSTRAINTS:
                self.r.report(D.NOT_A_VALUE, e.span, f"'{e.id}' is a constraint; it only follows ':' in a param")
            else:
                suggestion = ""
                cost = len(self.scope) * max(len(e.id), 4) ** 2  # see SUGGESTION_BUDGET
                if cost <= self.suggestion_budget:
                    self.suggestion_budget -= cost
                    suggestion = _did_you_mean(e.id, self.scope)
                self.r.report(
                    D.UNDEFINED,
                    e.span,
                    f"'{e.id}' is not defined",
                    suggestion or "define it with `param`, `~`, `=` or `let` first",
                )
            return Val(None, error=True)
        if sym.kind == "broken":  # defined by a statement that did not parse: already reported
            return Val(None, error=True)
        sym.used = True
        randoms = frozenset([sym.name]) if sym.kind in ("random", "latent") else sym.randoms
        params = sym.params | ({sym.name} if sym.kind == "param" else frozenset())
        return Val(sym.shape, randoms=randoms, params=params, const=sym.const, error=sym.error)

    def _pm_error(self, op: N.Op) -> None:
        self.r.report(
            D.PM_OUTSIDE_MIX,
            op.span,
            "'±' is only allowed inside a mixture component",
            "`±` makes two components: write it inside Mix, e.g. `u ~ Mix(Normal(±b, 1))`",
        )

    def binop(self, e: N.BinOp, pm_ok: bool) -> Val:
        if e.op.op == "+-" and not pm_ok:
            self._pm_error(e.op)
        a, b = self.value(e.left, pm_ok), self.value(e.right, pm_ok)
        op = e.op.op
        if op == "@":
            shape = self.matmul_shape(e, a.shape, b.shape)
        else:
            shape = broadcast(a.shape, b.shape)
            if shape is None and a.shape is not None and b.shape is not None:
                self.r.report(D.SHAPE, e.span, f"shapes {a.shape} and {b.shape} do not broadcast for '{e.op.text}'")
        return Val.join(shape, [a, b], const_eval(op, a.const, b.const))

    def matmul_shape(self, e: N.BinOp, a: Shape, b: Shape) -> Shape:
        if a is None or b is None:
            return None
        if not a or not b or len(a) > 2 or len(b) > 2:
            self.r.report(
                D.SHAPE,
                e.op.span,
                f"'{e.op.text}' multiplies vectors and matrices; got shapes {a} and {b}",
                "use '*' for scalars",
            )
            return None
        if a[-1] != b[0]:
            self.r.report(D.SHAPE, e.op.span, f"shapes {a} and {b} do not match for '{e.op.text}'")
            return None
        return a[:-1] + b[1:]

    def call_value(self, e: N.Call, pm_ok: bool) -> Val:
        if e.func == R.FACTOR:
            self.report_factor(e)
            return Val(None, error=True)
        if e.func in R.DISTRIBUTIONS or e.func == R.MIX or e.func in R.IMPROPER_DISTRIBUTIONS:
            self.r.report(
                D.NOT_A_VALUE,
                e.span,
                "a distribution is not a value",
                f"draw from it first: `u ~ {e.func}(...)`, then use `u`",
            )
            return Val(None, error=True)
        spec = R.FUNCTIONS.get(e.func)
        if spec is None:
            self.r.report(
                D.UNKNOWN_FUNCTION,
                e.func_span,
                f"unknown function '{e.func}'",
                _did_you_mean(e.func, list(R.FUNCTIONS) + list(R.DISTRIBUTIONS))
                or "functions: " + ", ".join(R.FUNCTIONS),
            )
            return Val.join(None, [self.value(a, pm_ok) for a in e.args], error=True)
        vals = [self.value(a, pm_ok) for a in e.args]
        if e.kwargs or len(e.args) != spec.arity:
            self.r.report(
                D.BAD_ARGS,
                e.span,
                f"{e.func}() takes {spec.arity} argument, got "
                f"{len(e.args) + len(e.kwargs)}" + (" (no keywords)" if e.kwargs else ""),
            )
            return Val.join(None, vals)
        v = vals[0]
        shape = self.func_shape(e, v.shape)
        const = const_eval(e.func, v.const)
        matrix = v.const if e.func == "inv" else const if e.func == "diag" else None
        if isinstance(matrix, list):
            self.check_singular(e.args[0], matrix)
        return Val.join(shape, [v], const)

    def func_shape(self, e: N.Call, s: Shape) -> Shape:
        f = e.func
        if R.FUNCTIONS[f].elementwise:
            return s
        if f == "sum":
            return ()
        if s is None:
            return None
        bad = {
            "rot": s != (),
            "diag": len(s) != 1,
            "inv": len(s) != 2 or s[0] != s[1],
            "transpose": len(s) > 2,
        }[f]
        if bad:
            need = {
                "rot": "a scalar angle",
                "diag": "a vector",
                "inv": "a square matrix",
                "transpose": "a vector or matrix",
            }[f]
            self.r.report(D.SHAPE, e.span, f"{f}() needs {need}; got shape {s}")
            return None
        return {"rot": (2, 2), "diag": s + s, "inv": s, "transpose": tuple(reversed(s))}[f]

    def check_singular(self, where: N.Expr, matrix) -> bool:
        """Report a constant singular matrix; True when it is singular."""
        det = T.numeric_det(matrix)
        if det is not None and abs(det) <= 1e-12:
            self.r.report(
                D.SINGULAR,
                where.span,
                "this constant matrix is singular (determinant 0), so the map is not invertible",
                "use a matrix with linearly independent rows",
            )
            return True
        return False

    def report_factor(self, e: N.Call) -> None:
        self.r.report(
            D.FACTOR,
            e.span,
            "`factor` is not a sampler: in a guide it only adds a term to the ELBO, the draws stay where they were",
            "write the ansatz as primitive draws plus an invertible transform, e.g. `u ~ Normal(0, 1); x = m + s * u`",
        )

    # -- distributions
    def dist(self, e: N.Expr, in_mix: bool = False) -> DistIR | MixIR | None:
        """Check the right of '~' (or a mixture component)."""
        if not isinstance(e, N.Call) or e.func in R.FUNCTIONS or e.func == R.FACTOR:
            what = "a function call" if isinstance(e, N.Call) else "an expression"
            self.r.report(
                D.NOT_A_SAMPLER,
                e.span,
                f"the right of '~' must be a normalized distribution; {what} is at best an unnormalized density",
                "build the density from primitive distributions and invertible transforms, e.g. "
                "`u ~ Normal(0, 1); x = b + u`",
            )
            return None
        if e.func in R.IMPROPER_DISTRIBUTIONS:
            self.r.report(
                D.IMPROPER,
                e.span,
                f"{e.func} is improper: it has no normalized density and cannot be sampled",
                "a guide needs a proper distribution, e.g. Normal(m, s) with learnable m and s",
            )
            return None
        if e.func in R.DISCRETE_DISTRIBUTIONS:
            self.r.report(
                D.DISCRETE,
                e.func_span,
                f"{e.func} is discrete; VG guides draw continuous latents",
                "enumerate discrete latents in the model, or relax them (e.g. a Dirichlet)",
            )
            return None
        if e.func == R.MIX:
            if in_mix:
                self.r.report(D.BAD_MIXTURE, e.span, "mixtures cannot be nested", "list all components in one Mix")
                return None
            return self.mixture(e)
        spec = R.DISTRIBUTIONS.get(e.func)
        if spec is None:
            self.r.report(
                D.UNKNOWN_DIST,
                e.func_span,
                f"unknown distribution '{e.func}'",
                _did_you_mean(e.func, R.DISTRIBUTIONS) or "distributions: " + ", ".join(R.DISTRIBUTIONS),
            )
            return None
        return self.primitive(e, spec, in_mix)

    def primitive(self, e: N.Call, spec: R.DistSpec, in_mix: bool) -> DistIR | None:
        bound: dict[str, N.Expr] = {}
        ok = True
        if len(e.args) > len(spec.args):
            self.r.report(
                D.BAD_ARGS,
                e.args[len(spec.args)].span,
                f"{spec.name} takes at most {len(spec.args)} positional arguments, got {len(e.args)}",
                f"signature: {spec.signature()}",
            )
            ok = False
        for a, arg in zip(spec.args, e.args):
            bound[a.name] = arg
        names = {a.name: a for a in spec.args}
        for kw in e.kwargs:
            if kw.name not in names:
                self.r.report(
                    D.BAD_ARGS,
                    kw.span,
                    f"{spec.name} has no argument '{kw.name}'",
                    _did_you_mean(kw.name, names) or f"signature: {spec.signature()}",
                )
                ok = False
            elif kw.name in bound:
                self.r.report(D.BAD_ARGS, kw.span, f"argument '{kw.name}' of {spec.name} is given twice")
                ok = False
            else:
                bound[kw.name] = kw.value
        missing = [a.name for a in spec.args if a.required and a.name not in bound]
        if missing:
            self.r.report(
                D.BAD_ARGS,
                e.span,
                f"{spec.name} is missing argument {', '.join(repr(m) for m in missing)}",
                f"signature: {spec.signature()}",
            )
            ok = False
        if spec.name == "MultivariateNormal":
            given = [n for n in ("covariance_matrix", "precision_matrix", "scale_tril") if n in bound]
            if len(given) != 1:
                self.r.report(
                    D.BAD_ARGS,
                    e.span,
                    "MultivariateNormal needs exactly one of covariance_matrix, precision_matrix, scale_tril",
                    "e.g. MultivariateNormal(m, scale_tril=L)",
                )
                ok = False
        batch: Shape = ()
        event: Shape = ()
        for name, expr in bound.items():
            a = names[name]
            v = self.value(expr, pm_ok=in_mix)
            if a.positive:
                self.check_positive_arg(expr, spec.name, name)
            if v.shape is None:
                batch = None if not v.error else batch
                if spec.event_rank:
                    event = None
                continue
            if len(v.shape) < a.rank:
                self.r.report(
                    D.SHAPE, expr.span, f"'{name}' of {spec.name} needs {a.rank} dimension(s); got shape {v.shape}"
                )
                ok = False
                continue
            cut = len(v.shape) - a.rank
            if batch is not None:
                nb = broadcast(batch, v.shape[:cut])
                if nb is None:
                    self.r.report(D.SHAPE, expr.span, f"the arguments of {spec.name} have shapes that do not broadcast")
                    ok = False
                batch = nb
            if a.rank and event is not None:
                k = (v.shape[len(v.shape) - a.rank],)  # (k,) loc, (k, k) matrices, (k, r) cov_factor
                if event and event != k:
                    self.r.report(D.SHAPE, expr.span, f"the arguments of {spec.name} disagree on the event size")
                    ok = False
                event = k
        if spec.event_rank and event == ():
            event = None  # e.g. MultivariateNormal with scalar loc only: size unknown
            if ok:
                self.r.report(
                    D.UNKNOWN_SHAPE,
                    e.span,
                    f"the size of a {spec.name} draw cannot be inferred",
                    "give a vector argument",
                )
                ok = False
        if not ok:
            return None
        args = tuple(e.args)
        kwargs = tuple((k.name, k.value) for k in e.kwargs)
        return DistIR(spec.name, args, kwargs, batch, event)

    def check_positive_arg(self, expr: N.Expr, family: str, argname: str) -> None:
        if not isinstance(expr, N.Name):
            return
        sym = self.scope.get(expr.id)
        if sym is None or sym.kind != "param" or sym.constraint in POSITIVE_CONSTRAINTS:
            return
        if sym.constraint in ("greater_than", "interval") and isinstance(sym.const_low, float) and sym.const_low >= 0:
            return
        self.r.report(
            D.SCALE_NOT_POSITIVE,
            expr.span,
            f"param '{expr.id}' is the {argname} of {family} but is not constrained positive",
            f"declare it `param {expr.id} = 1.0 : positive`; an optimizer step can make it negative",
        )

    def mixture(self, e: N.Call) -> MixIR | None:
        if e.kwargs:
            self.r.report(D.BAD_ARGS, e.kwargs[0].span, "Mix takes no keyword arguments")
        args = list(e.args)
        weights = None
        if len(args) >= 2 and not (isinstance(args[0], N.Call) and args[0].func[:1].isupper()):
            weights = args.pop(0)
        if not args:
            self.r.report(
                D.BAD_MIXTURE,
                e.span,
                "Mix needs at least one component distribution",
                "e.g. Mix(Normal(±b, 1)) or Mix(Normal(0, 1), Cauchy(0, 1))",
            )
            return None
        comps = []
        for c in args:
            if not isinstance(c, N.Call):
                self.r.report(
                    D.BAD_MIXTURE,
                    c.span,
                    "a mixture component must be a distribution",
                    "e.g. Mix(w, Normal([m1, m2], s)) with weights w first",
                )
                return None
            d = self.dist(c, in_mix=True)
            if d is None:
                return None
            comps.append(d)
        pm_counts = [_count_pm(c) for c in args]
        if len(comps) == 1:
            (comp,) = comps
            if pm_counts[0] > 1:
                self.r.report(
                    D.BAD_MIXTURE,
                    args[0].span,
                    "use '±' once per mixture component",
                    "one '±' makes the two components; for more, give vector parameters",
                )
                return None
            pm = pm_counts[0] == 1
            if comp.shape is None:
                shape, k = None, (2 if pm else None)
            elif pm:
                shape, k = comp.shape, 2
            elif not comp.batch:
                self.r.report(
                    D.BAD_MIXTURE,
                    e.span,
                    "a mixture of one component",
                    "use '±' (Mix(Normal(±b, 1))) or vector parameters (Mix(Normal([m1, m2], s)))",
                )
                return None
            else:
                shape, k = comp.batch[1:] + comp.event, comp.batch[0]
        else:
            if any(pm_counts):
                bad = args[next(i for i, n in enumerate(pm_counts) if n)]
                self.r.report(
                    D.BAD_MIXTURE,
                    bad.span,
                    "'±' makes components only in a single-family mixture",
                    "write the components out: Mix(Normal(b, 1), Normal(-b, 1), ...)",
                )
                return None
            shapes = {c.shape for c in comps}
            if len(shapes) > 1:
                self.r.report(D.SHAPE, e.span, "the components of a mixture must draw values of one shape")
                return None
            shape, k, pm = comps[0].shape, len(comps), False
        if weights is not None:
            w = self.value(weights)
            if w.shape is not None and k is not None and w.shape != (k,):
                self.r.report(
                    D.BAD_MIXTURE, weights.span, f"mixture weights must be a vector of {k} entries; got shape {w.shape}"
                )
                return None
            if T.violates("simplex", [], w.const):
                self.r.report(
                    D.BAD_MIXTURE,
                    weights.span,
                    "mixture weights must be non-negative and sum to 1",
                    "normalize them, or use a `simplex` param",
                )
                return None
            if (
                isinstance(weights, N.Name)
                and weights.id in self.scope
                and self.scope[weights.id].kind == "param"
                and self.scope[weights.id].constraint != "simplex"
            ):
                self.r.report(
                    D.BAD_MIXTURE,
                    weights.span,
                    f"param '{weights.id}' is used as mixture weights but is not a simplex",
                    f"declare it `param {weights.id}[{k or 'K'}] : simplex`",
                )
                return None
            if w.params:
                self.r.report(
                    D.LEARNABLE_WEIGHTS,
                    weights.span,
                    "learnable mixture weights: drawing the component is not reparameterizable, so "
                    "Trace_ELBO's gradient for the weights is biased",
                    "fit with TraceGraph_ELBO, or keep the weights fixed",
                )
        elif k is None:
            self.r.report(
                D.UNKNOWN_SHAPE,
                e.span,
                "the number of mixture components cannot be inferred",
                "give the component parameters a known shape",
            )
            return None
        if len(comps) == 1 and comps[0].batch is None:
            # The number of components is known (from '±' or the weights) but not the component's
            # batch shape (a model argument inside), which the generated MixtureSameFamily needs:
            # the code generator used to fail on it (VG900).
            self.r.report(
                D.UNKNOWN_SHAPE,
                args[0].span,
                "the shape of this mixture component is not known at compile time",
                "give the component parameters a known shape (model arguments have none)",
            )
            return None
        return MixIR(weights, tuple(comps), k, pm, shape)

    # -- statements
    def stmt(self, s: N.Stmt, index: int) -> None:
        if isinstance(s, N.Param):
            self.param(s)
        elif isinstance(s, N.Sample):
            self.sample(s)
        elif isinstance(s, N.Assign):
            self.assign(s, index)
        elif isinstance(s, N.Let):
            before = len(self.r.items)
            v = self.value(s.value)
            if self.define(s.name, s.name_span):
                # A broken definition (`let a = sin()`, wrong arguments) taints the let, as a broken value
                # taints a transform (see `assign`): a transform using it is not analysed, else
                # substituting it handed transforms.py the call without its argument (VG900).
                error = v.error or any(d.is_error for d in self.r.items[before:])
                self.scope[s.name] = Sym(
                    s.name, "let", s.name_span, v.shape, v.params, v.randoms, const=v.const, defn=s.value,
                    expanded=T.expanded(s.value, self.scope), error=error,
                )
                self.guide.items.append(LetIR(s))
        elif isinstance(s, N.ExprStmt):
            e = s.expr
            if isinstance(e, N.Call) and e.func == R.FACTOR:
                self.report_factor(e)
            elif isinstance(e, N.Call) and e.func in ("deterministic", "Delta"):
                self.r.report(
                    D.NO_EFFECT,
                    e.span,
                    f"`{e.func}` cannot define a latent site",
                    "write `x = f(u)`: vgc emits the Delta site and its log-Jacobian",
                )
            else:
                self.r.report(
                    D.NO_EFFECT,
                    s.span,
                    "this expression is computed and thrown away",
                    "bind it: `let y = ...`, or define a latent: `x = ...`",
                )

    def param(self, s: N.Param) -> None:
        shape: Shape = None
        ok = True
        if s.shape is not None:
            dims = []
            for d in s.shape:
                v = self.value(d)
                if not (isinstance(v.const, float) and v.const >= 0 and v.const == int(v.const)):
                    self.r.report(
                        D.BAD_SHAPE,
                        d.span,
                        "a param's shape is made of non-negative whole numbers",
                        "e.g. `param w[3] : simplex`",
                    )
                    ok = False
                else:
                    dims.append(int(v.const))
            shape = tuple(dims) if ok else None
        cname, cargs, bounds = "real", (), []
        low = None
        if s.constraint is not None:
            c = s.constraint
            cname = c.id if isinstance(c, N.Name) else c.func if isinstance(c, N.Call) else None
            spec = R.CONSTRAINTS.get(cname) if cname else None
            if spec is None or (isinstance(c, N.Call) and c.kwargs):
                self.r.report(
                    D.UNKNOWN_CONSTRAINT,
                    c.span,
                    f"unknown constraint '{unparse_short(c)}'",
                    _did_you_mean(cname or "", R.CONSTRAINTS) or "constraints: " + ", ".join(R.CONSTRAINTS),
                )
                cname, ok = "real", False
            else:
                cargs = tuple(c.args) if isinstance(c, N.Call) else ()
                if len(cargs) != spec.arity:
                    self.r.report(
                        D.BAD_ARGS,
                        c.span,
                        f"{cname} takes {spec.arity} argument(s), got {len(cargs)}",
                        "e.g. interval(0, 1), greater_than(0)" if spec.arity else f"write `: {cname}`",
                    )
                    ok = False
                bounds = [self.value(a) for a in cargs]  # evaluated once: an error is reported once
                for a, v in zip(cargs, bounds):
                    if v.randoms:
                        self.r.report(D.RANDOM_NOT_ALLOWED, a.span, "a constraint's bounds cannot be random")
                        ok = False
                    if v.error:
                        ok = False
                if bounds:
                    low = bounds[0].const
        init_val = None
        if s.init is not None:
            before = len(self.r.items)
            init_val = self.value(s.init)
            if any(d.is_error for d in self.r.items[before:]):  # e.g. 1e400 (VG104): no VG501 on top
                ok = False
            if init_val.randoms:
                self.r.report(
                    D.RANDOM_NOT_ALLOWED,
                    s.init.span,
                    "a param's initial value cannot be random",
                    "initialize it with numbers",
                )
                ok = False
            if shape is None and s.shape is None:
                shape = init_val.shape
            elif shape is not None and init_val.shape not in (None, (), shape):
                self.r.report(
                    D.BAD_SHAPE, s.init.span, f"the initial value has shape {init_val.shape}, the param {shape}"
                )
                ok = False
        elif shape is None and s.shape is None:
            shape = ()
        if cname in ("simplex", "ordered") and shape is not None and len(shape) != 1:
            self.r.report(
                D.BAD_SHAPE, s.span, f"a {cname} param is a vector", f"give its size: `param {s.name}[3] : {cname}`"
            )
            ok = False
        if (
            cname in ("lower_cholesky", "corr_cholesky")
            and shape is not None
            and (len(shape) != 2 or shape[0] != shape[1])
        ):
            self.r.report(
                D.BAD_SHAPE,
                s.span,
                f"a {cname} param is a square matrix",
                f"give its size: `param {s.name}[2, 2] : {cname}`",
            )
            ok = False
        if ok and init_val is not None and init_val.const is not None:
            why = T.violates(cname, [v.const for v in bounds], init_val.const)
            if why:
                self.r.report(
                    D.BAD_INIT,
                    s.init.span,
                    f"the initial value {why}",
                    f"choose an initial value inside the '{cname}' constraint",
                )
        if self.define(s.name, s.name_span):
            self.scope[s.name] = Sym(
                s.name, "param", s.name_span, shape, frozenset([s.name]), constraint=cname, const_low=low
            )
            self.guide.items.append(ParamIR(s, shape, cname, cargs))

    def sample(self, s: N.Sample) -> None:
        before = len(self.r.items)
        d = self.dist(s.dist)
        failed = any(x.is_error for x in self.r.items[before:]) or any(
            n in self.scope and self.scope[n].kind == "broken" for n in _names(s.dist)
        )
        free = self.define(s.name, s.name_span)
        if d is None or not free:
            if free:  # keep checking later statements against a placeholder
                self.scope[s.name] = Sym(s.name, "random", s.name_span, None, used=True)
            return
        params, randoms = self.dist_deps(s.dist)
        self.scope[s.name] = Sym(s.name, "random", s.name_span, d.shape, params, randoms, quiet=failed)
        self.sample_items[s.name] = len(self.guide.items)  # where to mark it auxiliary later
        self.guide.items.append(SampleIR(s, d, False))

    def dist_deps(self, e: N.Expr) -> tuple[frozenset, frozenset]:
        params, randoms = set(), set()
        for n in _names(e):
            sym = self.scope.get(n)
            if sym is not None:
                params |= sym.params | ({n} if sym.kind == "param" else set())
                randoms |= sym.randoms | ({n} if sym.kind in ("random", "latent") else set())
        return frozenset(params), frozenset(randoms)

    def assign(self, s: N.Assign, index: int) -> None:
        before = len(self.r.items)
        v = self.value(s.value)
        if any(d.is_error for d in self.r.items[before:]):
            v = Val(v.shape, v.randoms, v.params, v.const, error=True)
        names_ok = True
        seen = set()
        for t in s.targets:
            if t.id in seen:
                self.r.report(D.REDEFINED, t.span, f"'{t.id}' appears twice on the left")
                names_ok = False
            seen.add(t.id)
            names_ok = self.define(t.id, t.span) and names_ok
        shapes: list[Shape] = []
        if s.is_list:
            if v.shape is not None and v.shape != (len(s.targets),):
                self.r.report(
                    D.SHAPE,
                    s.value.span,
                    f"{len(s.targets)} names on the left need a vector of "
                    f"{len(s.targets)} scalars on the right; got shape {v.shape}",
                )
                names_ok = False
            shapes = [()] * len(s.targets)
        else:
            shapes = [v.shape]
        plan = None
        if names_ok and not v.error and v.randoms:
            plan = T.analyze(s, v, self.scope, self.r, self.quiet_value, self.numeric)
        if plan is None and v.randoms:
            names_ok = False
        if plan is None and not v.randoms and names_ok:
            plan = T.Plan((), (), False)  # a point mass (Delta without density)
        for t, shape in zip(s.targets, shapes):
            if t.id not in self.scope:
                params = v.params
                for r_ in v.randoms:
                    sym = self.scope.get(r_)
                    if sym is not None:
                        params = params | sym.params
                self.scope[t.id] = Sym(t.id, "latent", t.span, shape, params, used=True, quiet=plan is None)
        if not names_ok or plan is None:
            for r_ in v.randoms:
                if r_ in self.scope:
                    self.scope[r_].quiet = True
            return
        for r_ in plan.consumed:
            self.scope[r_].consumed_at = s.span.line
            at = self.sample_items[r_]
            item = self.guide.items[at]
            self.guide.items[at] = SampleIR(item.stmt, item.dist, True)
        self.guide.items.append(TransformIR(s, v.shape, plan))

    def finish(self, span: N.Span) -> GuideIR:
        """Warnings that need the whole guide (unused params and empty guides only when it has no errors)."""
        clean = not self.r.has_errors
        sites = 0
        for sym in self.scope.values():
            if sym.kind == "param" and not sym.used and clean:
                self.r.report(
                    D.UNUSED_PARAM,
                    sym.span,
                    f"param '{sym.name}' is never used",
                    "remove it, or use it in a distribution or transform",
                )
            if sym.kind in ("random", "latent") and sym.consumed_at is None:
                sites += 1
                if not sym.params and sym.shape is not None and not sym.quiet:
                    self.r.report(
                        D.FIXED_SAMPLER,
                        sym.span,
                        f"'{sym.name}' has no learnable parameter on its path: SVI cannot fit it",
                        "make a location or scale a `param`",
                    )
        if sites == 0 and clean:
            self.r.report(D.EMPTY_GUIDE, span, f"guide '{self.guide.name}' defines no latent site")
        return self.guide


def _count_pm(e: N.Expr) -> int:
    return sum(1 for n in _walk(e) if isinstance(n, (N.UnaryOp, N.BinOp)) and n.op.op == "+-")


def _walk(e: N.Expr):
    yield e
    if isinstance(e, (N.BinOp,)):
        yield from _walk(e.left)
        yield from _walk(e.right)
    elif isinstance(e, (N.UnaryOp, N.Transpose)):
        yield from _walk(e.operand)
    elif isinstance(e, N.Vector):
        for i in e.items:
            yield from _walk(i)
    elif isinstance(e, N.Call):
        for a in e.args:
            yield from _walk(a)
        for k in e.kwargs:
            yield from _walk(k.value)


def _names(e: N.Expr):
    return {n.id for n in _walk(e) if isinstance(n, N.Name)}


def unparse_short(e: N.Expr) -> str:
    from .unparse import expr

    return expr(e)


def check_program(
    program: N.Program, reporter: D.Reporter, default_name: str = "guide", numeric_jacobians: bool = False
) -> list[GuideIR]:
    """Check every guide of a program; the result is meaningful only when no error was reported."""
    guides: list[GuideIR] = []
    if program.guides:
        seen: dict[str, N.GuideDef] = {}
        for g in program.guides:
            if g.name in seen:
                reporter.report(
                    D.DUPLICATE_GUIDE,
                    g.name_span,
                    f"guide '{g.name}' is already defined (line {seen[g.name].name_span.line})",
                    "give each guide its own name",
                )
            seen[g.name] = g
            guides.append(_check_body(reporter, g.name, g.args, g.body, g.span, numeric_jacobians))
    else:
        end = program.bare[-1].span if program.bare else N.Span(1, 1, 1, 1)
        guides.append(_check_body(reporter, default_name, None, program.bare, end, numeric_jacobians))
    return guides


def _check_body(reporter, name, args, body, span, numeric) -> GuideIR:
    c = GuideChecker(reporter, name, args, numeric)
    for i, s in enumerate(body):
        if isinstance(s, N.BadStmt):
            for name in s.defines:
                c.scope.setdefault(name, Sym(name, "broken", s.span, None, quiet=True, used=True))
        else:
            c.stmt(s, i)
    return c.finish(span)
