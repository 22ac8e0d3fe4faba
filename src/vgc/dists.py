"""Phase 2b: distributions and mixtures — the right of ``~``.

:class:`DistChecker` rejects what is not a normalized sampler (factors, densities, improper and
discrete families), binds a call's arguments to the family's NumPyro names, infers the batch and
event shapes of one draw, and checks mixtures (components, ``±``, weights).
"""

from __future__ import annotations

from . import diagnostics as D
from . import nodes as N
from . import registry as R
from . import supports as SP
from .exprs import ExprChecker
from .ir import DistIR, Kind, MixIR
from .scope import did_you_mean
from .shapes import Shape, broadcast
from .values import violates

POSITIVE_CONSTRAINTS = {"positive", "softplus_positive", "unit_interval", "simplex", "lower_cholesky", "corr_cholesky"}


class DistChecker:
    """Checks distribution expressions with an expression checker for their arguments."""

    def __init__(self, reporter: D.Reporter, x: ExprChecker):
        self.r = reporter
        self.x = x
        self.scope = x.scope

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
                did_you_mean(e.func, R.DISTRIBUTIONS) or "distributions: " + ", ".join(R.DISTRIBUTIONS),
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
                    did_you_mean(kw.name, names) or f"signature: {spec.signature()}",
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
            v = self.x.value(expr, pm_ok=in_mix)
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
        sym = self.scope.lookup(expr.id)
        if sym is None or sym.kind is not Kind.PARAM or sym.constraint in POSITIVE_CONSTRAINTS:
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
        quiet = self.x.quiet()
        supports = [(c.family, SP.draw_support(c, lambda x: quiet.value(x, pm_ok=True).const)) for c in comps]
        problem = SP.mixture_problem(supports, len(comps) == 1)
        if problem:
            self.r.report(
                D.MIXED_SUPPORTS,
                e.span,
                problem,
                "mix families with one support (e.g. Normal with Cauchy, or Gamma with LogNormal), or transform "
                "a real mixture onto the support (`u ~ Mix(...); x = exp(u)`)",
            )
            return None
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
            w = self.x.value(weights)
            if w.shape is not None and k is not None and w.shape != (k,):
                self.r.report(
                    D.BAD_MIXTURE, weights.span, f"mixture weights must be a vector of {k} entries; got shape {w.shape}"
                )
                return None
            if violates("simplex", [], w.const):
                self.r.report(
                    D.BAD_MIXTURE,
                    weights.span,
                    "mixture weights must be non-negative and sum to 1",
                    "normalize them, or use a `simplex` param",
                )
                return None
            if (
                isinstance(weights, N.Name)
                and self.scope.lookup(weights.id) is not None
                and self.scope.lookup(weights.id).kind is Kind.PARAM
                and self.scope.lookup(weights.id).constraint != "simplex"
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


def _count_pm(e: N.Expr) -> int:
    return sum(1 for n in N.walk(e) if isinstance(n, (N.UnaryOp, N.BinOp)) and n.op.op == "+-")
