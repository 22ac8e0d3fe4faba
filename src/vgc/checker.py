"""Phase 2: AST → checked guides (IR), with every diagnostic collected.

The checker walks each guide's statements in order, one method per statement kind, and builds
the IR (:mod:`vgc.ir`). Expressions are valued by :mod:`vgc.exprs`, the right of ``~`` by
:mod:`vgc.dists`, names are resolved in :mod:`vgc.scope`, shape rules live in :mod:`vgc.shapes`
and each transform goes to :mod:`vgc.transforms` for its log-Jacobian. It never stops at the first
problem and never imports jax.
"""

from __future__ import annotations

import math

from . import diagnostics as D
from . import networks
from . import nodes as N
from . import registry as R
from . import supports as SP
from . import transforms as T
from .dists import DistChecker
from .exprs import ExprChecker
from .ir import ALL_BATCH_DIMS, GuideIR, Kind, LetIR, MixIR, ParamIR, PlateIR, PlateSize, SampleIR, Sym, TransformIR
from .scope import Scope, did_you_mean
from .shapes import Layout, PlateDim, Shape, allocate_dim
from .unparse import expr as unparse
from .values import Val, violates

# Each plate is a `with` block in the generated function, and CPython refuses more than 20 nested blocks.
MAX_PLATES = 16
_NO_PLATES = Layout()  # where values outside every plate live (immutable: one for all)


class GuideChecker:
    """Checks the statements of one guide in order."""

    def __init__(self, reporter: D.Reporter, name: str, args: tuple[N.Name, ...] | None, numeric: bool = False,
                 head: N.Span | None = None):
        self.r = reporter
        self.numeric = numeric
        self.guide = GuideIR(name, None if args is None else tuple(a.id for a in args), head)
        self.site_spans: dict[str, N.Span] = {}  # NumPyro site name -> where it is first defined
        self.scope = Scope(self.guide.symbols)
        self.x = ExprChecker(reporter, self.scope, self.guide)
        self.d = DistChecker(reporter, self.x)
        self.open_plates: list[PlateIR] = []  # the plates around the statement being checked, innermost last
        self.plates: list[N.Plate] = []  # every plate, for the name clash check in `finish`
        self.entered: dict[str, PlateIR] = {}  # the first plate of each name (later ones must agree)
        self.guide_reads: set[str] = set()  # every name the guide's statements read (see `assign`)
        self.net_values: dict[str, str] = {}  # local values that pass draws through a network -> the network
        for a in args or ():
            if a.id in self.guide.symbols:
                self.r.report(D.REDEFINED, a.span, f"argument '{a.id}' is listed twice")
            self.scope.define(Sym(a.id, Kind.ARG, a.span, None, used=True))

    # -- helpers
    @property
    def layout(self) -> Layout:
        """Where values defined here live."""
        return self.open_plates[-1].layout if self.open_plates else _NO_PLATES

    @property
    def here(self) -> frozenset:
        """The names of the open plates: what a value defined here varies over."""
        return frozenset(p.name for p in self.layout.plates)

    def emit(self, record) -> None:
        (self.open_plates[-1].items if self.open_plates else self.guide.items).append(record)

    def random_init(self, e: N.Call) -> bool:
        """``uniform(low, high)`` / ``normal(loc, scale)`` as a param's initial value: two numbers, low < high,
        scale > 0 (the draw is in the param's unconstrained space, so any constraint takes it)."""
        names = R.RANDOM_INITS[e.func]
        values = [self.x.value(a).const for a in e.args]
        if e.kwargs or len(values) != 2 or not all(isinstance(v, float) for v in values):
            self.r.report(D.BAD_ARGS, e.span, f"{e.func}() takes two numbers, its {names[0]} and {names[1]}",
                          f"e.g. `param loc[10] = {e.func}({'-2, 2' if e.func == 'uniform' else '0, 0.1'})`")
            return False
        a, b = values
        if (e.func == "uniform" and not a < b) or (e.func == "normal" and not b > 0):
            why = "low must be below high" if e.func == "uniform" else "its scale must be positive"
            self.r.report(D.BAD_ARGS, e.span, f"{e.func}({a:g}, {b:g}): {why}")
            return False
        return True

    def site_name(self, name: str, span: N.Span, site: N.SiteName | None) -> None:
        """Record the NumPyro name of the site ``name`` (``as "SITE"`` or the name itself); one site per name."""
        trace = name
        if site is not None:
            if not _printable_name(site.text):
                self.r.report(D.BAD_NAME, site.span, f"'{site.text}' cannot be a site name: it is empty, has "
                              "spaces at an end or characters that do not print", 'e.g. `as "trend/alpha"`')
                return
            trace = self.guide.site_names[name] = site.text
        first = self.site_spans.setdefault(trace, span)
        if first is not span:
            self.r.report(D.REDEFINED, site.span if site is not None else span,
                          f"site '{trace}' is defined twice (first on line {first.line})",
                          "give one of them another name: `as \"...\"` sets the NumPyro name")

    def define(self, name: str, span: N.Span) -> bool:
        """Report a redefinition; True when the name is free."""
        old = self.scope.free(name)
        if old is None:
            return True
        self.scope.shadow(name)
        self.r.report(
            D.REDEFINED,
            span,
            f"'{name}' is already defined (line {old.span.line})",
            "every name is defined once; choose a new name",
        )
        return False

    def errors_since(self, before: int) -> bool:
        return any(d.is_error for d in self.r.items[before:])

    # -- statements
    def stmt(self, s: N.Stmt) -> None:
        """Check one statement (dispatch by kind)."""
        t = type(s)
        if t is N.Param:
            self.param(s)
        elif t is N.Sample:
            self.sample(s)
        elif t is N.Assign:
            self.assign(s)
        elif t is N.Let:
            self.let(s)
        elif t is N.Net:
            self.net(s)
        elif t is N.ExprStmt:
            self.expr_stmt(s)
        elif t is N.Plate:
            self.plate(s)
        elif t is N.BadStmt:
            for name in s.defines:
                if name not in self.guide.symbols:
                    self.scope.define(Sym(name, Kind.BROKEN, s.span, None, quiet=True, used=True))

    def applies_network(self, e: N.Expr) -> bool:
        """Whether ``e`` applies a network this guide has declared (so far)."""
        return any(isinstance(x, N.Call) and x.func in self.guide.nets for x in N.walk(e))

    def let(self, s: N.Let, checked: Val | None = None) -> None:
        before = len(self.r.items)
        v = checked if checked is not None else self.x.value(s.value)
        if self.define(s.name, s.name_span):
            # A broken definition (`let a = sin()`, wrong arguments) taints the let, as a broken value
            # taints a transform (see `assign`): a transform using it is not analysed, else
            # substituting it handed transforms.py the call without its argument (VG900).
            error = v.error or self.errors_since(before)
            self.scope.define(Sym(
                s.name, Kind.LET, s.name_span, v.shape, v.params, v.randoms, const=v.const, defn=s.value,
                expanded=T.expanded(s.value, self.scope), error=error, varies=v.plates,
            ))
            if self.guide.nets and v.randoms:
                found = self.drawn_through_network(s.value)
                if found is not None:
                    self.net_values[s.name] = found[1]
            self.emit(LetIR(s, self.layout))

    def net(self, s: N.Net) -> None:
        """``net NAME = mlp(...)`` or ``module(ARG)``: declared once, at the guide's top level."""
        net = networks.declare(s, self.x, self.r, bool(self.open_plates))
        if self.define(s.name, s.name_span):
            self.scope.define(Sym(s.name, Kind.NET, s.name_span, None, used=False, quiet=True))
            if net is not None:
                self.guide.nets[s.name] = net
                for pname, _ in net.params():  # weights and biases are unconstrained
                    self.guide.supports[pname] = SP.REAL
                self.emit(net)

    def drawn_through_network(self, e: N.Expr) -> tuple[N.Expr, str] | None:
        """The first part of ``e`` that passes a draw through a network, and the network: an application whose
        input depends on draws, or a local value bound to one (``net_values``); None if there is none."""
        quiet = self.x.quiet()
        for x in N.walk(e):
            if isinstance(x, N.Call) and x.func in self.guide.nets and x.args and quiet.value(x.args[0]).randoms:
                return x, x.func
            if isinstance(x, N.Name) and x.id in self.net_values:
                return x, self.net_values[x.id]
        return None

    def through_network(self, s: N.Assign) -> bool:
        """Report (VG411) a transform whose value passes a draw through a network; True when it does."""
        found = self.drawn_through_network(s.value)
        if found is None:
            return False
        at, net = found
        self.r.report(
            D.NET_TRANSFORM, at.span,
            f"'{unparse(at)}' passes draws through network '{net}', which is not invertible: the density of the "
            "result has no closed form",
            f"let the network compute the parameters of the draw instead: `let h = {net}(...)`, then "
            "`x ~ Normal(h[0:k], exp(h[k:2k]))`",
        )
        return True

    def expr_stmt(self, s: N.ExprStmt) -> None:
        e = s.expr
        if isinstance(e, N.Call) and e.func == R.FACTOR:
            self.x.report_factor(e)
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
                v = self.x.value(d)
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
                    f"unknown constraint '{unparse(c)}'",
                    did_you_mean(cname or "", R.CONSTRAINTS) or "constraints: " + ", ".join(R.CONSTRAINTS),
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
                bounds = [self.x.value(a) for a in cargs]  # evaluated once: an error is reported once
                for a, v in zip(cargs, bounds):
                    if v.randoms:
                        self.r.report(D.RANDOM_NOT_ALLOWED, a.span, "a constraint's bounds cannot be random")
                        ok = False
                    if v.error:
                        ok = False
                if bounds:
                    low = bounds[0].const
        init_val = None
        if R.is_random_init(s.init):
            ok = self.random_init(s.init) and ok
            if shape is None and s.shape is None:
                shape = ()
        elif s.init is not None:
            before = len(self.r.items)
            init_val = self.x.value(s.init)
            if self.errors_since(before):  # e.g. 1e400 (VG104): no VG501 on top
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
            why = violates(cname, [v.const for v in bounds], init_val.const)
            if why:
                self.r.report(
                    D.BAD_INIT,
                    s.init.span,
                    f"the initial value {why}",
                    f"choose an initial value inside the '{cname}' constraint",
                )
        if self.define(s.name, s.name_span):
            self.site_name(s.name, s.name_span, s.site)
            if ok:
                self.guide.supports[s.name] = SP.param_support(cname, [v.const for v in bounds],
                                                               [unparse(a) for a in cargs])
            self.scope.define(Sym(
                s.name, Kind.PARAM, s.name_span, shape, frozenset([s.name]), constraint=cname, const_low=low,
                varies=self.here,
            ))
            self.emit(ParamIR(s, shape, cname, cargs, self.layout))

    def sample(self, s: N.Sample) -> None:
        before = len(self.r.items)
        d = self.d.dist(s.dist)
        failed = self.errors_since(before) or any(
            (sym := self.scope.get(n)) is not None and sym.kind is Kind.BROKEN for n in N.names(s.dist)
        )
        free = self.define(s.name, s.name_span)
        if free:
            self.site_name(s.name, s.name_span, s.site)
        if d is None or not free:
            if free:  # keep checking later statements against a placeholder
                self.scope.define(Sym(s.name, Kind.RANDOM, s.name_span, None, used=True, varies=self.here))
            return
        kept = self.batch_draw(s, d) if s.batch else 0
        if kept is None:
            self.scope.define(Sym(s.name, Kind.RANDOM, s.name_span, None, used=True, varies=self.here))
            return
        params, randoms = self.dist_deps(s.dist)
        self.scope.define(Sym(s.name, Kind.RANDOM, s.name_span, d.shape, params, randoms, quiet=failed,
                              varies=self.here, batch=kept))
        self.emit(SampleIR(s, d, self.layout, kept))
        self.guide.supports[s.name] = SP.draw_support(d, self.const)

    def batch_draw(self, s: N.Sample, d) -> int | None:
        """``x ~ DIST : batch`` or ``: batch(K)``: a primitive distribution. Returns how many batch dimensions the
        draw keeps (None: refused, or not known). Inside plates they are the element's, at the rightmost dims no
        plate takes (:meth:`vgc.shapes.Layout.own_dims`)."""
        if isinstance(d, MixIR):
            why, hint = "a mixture", "draw the mixture as one site (without `: batch`)"
        elif s.batch_dims is None and d.batch is None and not self.layout.plates:
            return ALL_BATCH_DIMS  # all of them, however many (a model argument's shape is known at run time)
        elif d.batch is None:
            self.r.report(D.UNKNOWN_SHAPE, s.span,
                          f"`: batch{'' if s.batch_dims is None else f'({s.batch_dims})'}` needs the distribution's "
                          "batch shape, which is not known at compile time" + (" (inside a plate its dimensions "
                          "take the dims no plate takes)" if self.layout.plates else ""),
                          "give the distribution arguments of known shape"
                          + ("" if self.layout.plates else ", or keep all of them with `: batch`"))
            return None
        elif (kept := s.batch_dims or len(d.batch)) <= len(d.batch):
            return kept
        else:
            have = f"{len(d.batch)} batch dimension{'s' * (len(d.batch) != 1)} {d.batch}" if d.batch else \
                "no batch dimensions"
            self.r.report(
                D.BAD_OPTION, s.span,
                f"`: batch({s.batch_dims})` keeps {s.batch_dims} batch dimensions, but this draw has {have}"
                + (f" (the family's own event shape {d.event} is not one)" if d.event else ""),
                f"give the distribution arguments of {s.batch_dims} or more dimensions, or keep fewer",
            )
            return None
        self.r.report(D.BAD_OPTION, s.span, f"`: batch` is not available for a draw {why}" if why[0] == "i"
                      else f"`: batch` is not available for {why}", hint)
        return None

    def dist_deps(self, e: N.Expr) -> tuple[frozenset, frozenset]:
        params, randoms = set(), set()
        for n in N.names(e):
            sym = self.scope.lookup(n)
            if sym is not None:
                params |= sym.params | ({n} if sym.kind is Kind.PARAM else set())
                randoms |= sym.randoms | ({n} if sym.is_random else set())
        return frozenset(params), frozenset(randoms)

    def assign(self, s: N.Assign) -> None:
        before = len(self.r.items)
        v = self.x.value(s.value)
        if self.errors_since(before):
            v = v._replace(error=True)
        if self.guide.net_lines and not s.is_list and self.applies_network(s.value) and (
                not v.randoms or s.targets[0].id in self.guide_reads):
            # A network computes the parameters of draws: its output is an ordinary value, never a site, and
            # `h = enc(x[data])` binds it as `let h = ...` does, even when its input reads earlier draws
            # (a conditional local guide). A name never read afterwards could only mean a site: a draw
            # passed through a network then is VG411 below.
            if s.site is not None:
                self.r.report(D.BAD_TARGET, s.site.span, f"'{s.targets[0].id}' is a network's output, a value and "
                              "not a site: it has no site name", "drop `as ...`; name the draws it parameterizes")
            self.let(N.Let(s.targets[0].id, s.targets[0].span, s.value, s.span), v)
            return
        if v.randoms and not v.error and self.guide.nets and self.through_network(s):
            v = v._replace(error=True)
        names_ok = True
        seen = set()
        for t in s.targets:
            if t.id in seen:
                self.r.report(D.REDEFINED, t.span, f"'{t.id}' appears twice on the left")
                names_ok = False
            seen.add(t.id)
            if self.define(t.id, t.span):
                self.site_name(t.id, t.span, s.site)
            else:
                names_ok = False
        if s.is_list:
            if v.shape is not None and v.shape != (len(s.targets),):
                self.r.report(
                    D.SHAPE,
                    s.value.span,
                    f"{len(s.targets)} names on the left need a vector of "
                    f"{len(s.targets)} scalars on the right; got shape {v.shape}",
                )
                names_ok = False
            shapes: list[Shape] = [()] * len(s.targets)
        else:
            shapes = [v.shape]
        plan = None
        if names_ok and not v.error and v.randoms:
            plan = T.analyze(T.Transform(s, v, self.scope, self.x.quiet(), self.here, self.numeric), self.r)
        if plan is None and v.randoms:
            names_ok = False
        if plan is None and not v.randoms and names_ok:
            plan = T.Plan((), (), False)  # a point mass (Delta without density)
        for t, shape in zip(s.targets, shapes):
            if self.scope.free(t.id) is None:
                params = v.params
                for r_ in v.randoms:
                    sym = self.scope.get(r_)
                    if sym is not None:
                        params = params | sym.params
                self.scope.define(Sym(t.id, Kind.LATENT, t.span, shape, params, used=True, quiet=plan is None,
                                      varies=self.here, batch=plan.batch if plan is not None else 0))
        if not names_ok or plan is None:
            for r_ in v.randoms:
                sym = self.scope.get(r_)
                if sym is not None:
                    sym.quiet = True
            return
        for r_ in plan.consumed:
            self.scope.get(r_).consumed_at = s.span.line
            self.guide.auxiliary.add(r_)
        self.emit(TransformIR(s, v.shape, plan, self.layout, plan.batch))
        self.transform_supports(s)

    def const(self, e: N.Expr) -> object:
        """The constant value of a checked expression, or None."""
        return self.x.quiet().value(e, pm_ok=True).const

    def transform_supports(self, s: N.Assign) -> None:
        """The support of each target: the image of the map (each item's, for a vector of items)."""
        quiet = self.x.quiet()

        def defn(n: str) -> N.Expr | None:
            sym = self.scope.get(n)
            return sym.defn if sym is not None and sym.kind is Kind.LET and sym.randoms else None

        def of_name(n: str):
            return self.guide.supports.get(n)

        def positive(n: str) -> bool:
            sup = self.guide.supports.get(n)
            return sup is not None and SP.inside(sup, SP.Support(lo=0.0)) is True

        derive = SP.Deriver(lambda e: quiet.value(e, pm_ok=True), of_name, defn, positive)
        if s.is_list and isinstance(s.value, N.Vector) and len(s.value.items) == len(s.targets):
            parts = [derive.support(i) for i in s.value.items]
        else:
            parts = [derive.support(s.value)] * len(s.targets)
        for t, sup in zip(s.targets, parts):
            self.guide.supports[t.id] = sup

    # -- plates
    def plate(self, s: N.Plate) -> None:
        """``plate NAME(SIZE, subsample=K, dim=D) { ... }``: check the header, then the body inside it."""
        if len(self.scope.open) >= MAX_PLATES:
            if any(d.code == D.TOO_DEEP.code for d in self.r.items):  # the parser said so already
                return
            self.r.report(
                D.TOO_DEEP,
                s.name_span,
                f"plates are nested more than {MAX_PLATES} deep: the generated guide could not nest its `with` "
                "blocks (Python allows 20)",
                "real models nest a few plates; nest fewer",
            )
            return
        nested_in_itself = self.scope.is_open(s.name)
        if nested_in_itself:
            outer = next(p for p in self.scope.open if p.name == s.name)
            self.r.report(
                D.NESTED_SAME_PLATE,
                s.name_span,
                f"plate '{s.name}' is nested in a plate of the same name (line {outer.span.line})",
                "NumPyro identifies plates by name: give the inner plate its own name",
            )
        if s.site is not None and not _printable_name(s.site.text):
            self.r.report(D.BAD_NAME, s.site.span, f"'{s.site.text}' cannot be a plate name: it is empty, has "
                          "spaces at an end or characters that do not print", 'e.g. `as "trend/basis"`')
        size = self.plate_size(s.size, "size") if s.size is not None else PlateSize()
        options = {o.name: o for o in s.options}
        subsample = None
        if "subsample" in options:
            o = options["subsample"]
            subsample = self.plate_size(o.value, "subsample")
            if (
                subsample.const is not None
                and size.const is not None
                and subsample.const > size.const
            ):
                self.r.report(
                    D.SUBSAMPLE_TOO_LARGE,
                    o.value.span,
                    f"subsample={subsample.const} is larger than the plate's size {size.const}",
                    f"a subsample has at most {size.const} elements; drop `subsample` to use all of them",
                )
        enclosing = self.layout.plates
        explicit = self.plate_dim(options["dim"], enclosing) if "dim" in options else None
        dim = allocate_dim(enclosing, explicit)
        info = PlateDim(s.name, dim, size.const, subsample is not None, subsample.const if subsample else None)
        layout = Layout((*enclosing, info))
        self.plates.append(s)
        record = PlateIR(s, size, subsample, dim, explicit is not None, layout, [])
        if not nested_in_itself:  # else VG704 says it
            self.same_as_before(record)
        self.emit(record)
        self.scope.push(s)
        self.open_plates.append(record)
        try:
            for st in s.body:
                self.stmt(st)
        finally:
            self.scope.pop()
            self.open_plates.pop()

    def same_as_before(self, p: PlateIR) -> None:
        """A plate entered again (siblings of one name) must be the same plate: NumPyro knows plates by name."""
        first = self.entered.setdefault(p.stmt.name, p)
        if first is p or p.size == PlateSize() or first.size == PlateSize():
            return
        diffs = [what for what, a, b in (("size", first.size, p.size), ("subsample", first.subsample, p.subsample),
                                         ("dim", first.dim, p.dim)) if a != b]
        if not diffs and p.subsample is not None:
            self.r.report(
                D.PLATE_REDECLARED,
                p.stmt.name_span,
                f"subsampled plate '{p.stmt.name}' is entered again (line {first.stmt.span.line}): each entry "
                "draws its own subsample, and the model would see only the last one",
                f"put the statements of both `plate {p.stmt.name}` blocks in one",
            )
        if diffs:
            self.r.report(
                D.PLATE_REDECLARED,
                p.stmt.name_span,
                f"plate '{p.stmt.name}' was entered on line {first.stmt.span.line} with another "
                f"{' and '.join(diffs)}: NumPyro identifies plates by name, so they must be the same plate",
                f"give this plate the header of line {first.stmt.span.line}, or its own name",
            )

    def plate_size(self, e: N.Expr, what: str) -> PlateSize:
        """A whole number, a guide argument or (for the size) ``len(ARG)``; VG701 otherwise."""
        if isinstance(e, N.Number):
            if e.value >= 1 and e.value == int(e.value):
                return PlateSize(const=int(e.value))
        elif isinstance(e, N.Name):
            sym = self.scope.lookup(e.id)
            if sym is not None and sym.kind is Kind.ARG:
                return PlateSize(arg=e.id)
            if sym is None and self.scope.get(e.id) is None:
                self.x.undefined(e)
                return PlateSize()
            if sym is not None and sym.kind is Kind.BROKEN:
                return PlateSize()
        elif isinstance(e, N.Call) and e.func == R.LEN and what == "size" and not e.kwargs and len(e.args) == 1:
            (a,) = e.args
            if isinstance(a, N.Name):
                sym = self.scope.lookup(a.id)
                if sym is not None and sym.kind is Kind.ARG:
                    return PlateSize(arg=a.id, length_of=True)
                if sym is None and self.scope.get(a.id) is None:
                    self.x.undefined(a)
                    return PlateSize()
        sizes = "a whole number ≥ 1, a guide argument, or `len(ARG)`" if what == "size" else \
            "a whole number ≥ 1 or a guide argument"
        self.r.report(
            D.BAD_PLATE_SIZE,
            e.span,
            f"a plate's {what} must be {sizes}",
            "the size must be known before the guide draws anything: a number or the model's data, "
            "e.g. `plate data(len(y), subsample=100)`",
        )
        return PlateSize()

    def plate_dim(self, o: N.Keyword, enclosing: tuple[PlateDim, ...]) -> int | None:
        """``dim=D``: a negative whole number, different from the dims of the plates around."""
        e = o.value
        value = None
        if isinstance(e, N.UnaryOp) and e.op.op == "-" and isinstance(e.operand, N.Number):
            value = -e.operand.value
        elif isinstance(e, N.Number):
            value = e.value
        number = e.operand if isinstance(e, N.UnaryOp) else e
        if isinstance(number, N.Number) and number.value == 0 and math.isinf(float(number.text)):
            return None  # 1e400: VG104 already
        if value is None or value >= 0 or value != int(value):
            self.r.report(
                D.BAD_PLATE_DIM,
                e.span,
                "a plate's dim is a negative whole number (-1 is the rightmost batch dimension)",
                "e.g. `plate rows(3, dim=-2)`; leave it out to take the next free dim",
            )
            return None
        dim = int(value)
        clash = next((p for p in enclosing if p.dim == dim), None)
        if clash is not None:
            self.r.report(
                D.BAD_PLATE_DIM,
                e.span,
                f"dim={dim} is already taken by the enclosing plate '{clash.name}'",
                "nested plates need different dims",
            )
            return None
        return dim

    def finish(self, span: N.Span) -> GuideIR:
        """Warnings that need the whole guide (unused params and empty guides only when it has no errors)."""
        for p in self.plates:
            sym = self.guide.symbols.get(p.name)
            if sym is not None and sym.kind in (Kind.PARAM, Kind.RANDOM, Kind.LATENT):
                what = {Kind.PARAM: "param", Kind.RANDOM: "draw", Kind.LATENT: "latent"}[sym.kind]
                self.r.report(
                    D.PLATE_NAMED_LIKE_SITE,
                    p.name_span,
                    f"plate '{p.name}' has the name of the {what} '{p.name}' (line {sym.span.line}): NumPyro "
                    "keeps plates and sites in one trace, so one would hide the other",
                    f"rename the plate or the {what}",
                )
        clean = not self.r.has_errors
        sites = 0
        for sym in self.guide.symbols.values():
            if sym.kind is Kind.PARAM and not sym.used and clean:
                self.r.report(
                    D.UNUSED_PARAM,
                    sym.span,
                    f"param '{sym.name}' is never used",
                    "remove it, or use it in a distribution or transform",
                )
            if sym.is_random and sym.consumed_at is None:
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
            guides.append(_check_body(reporter, g.name, g.args, g.body, g.span, numeric_jacobians, g.name_span))
    else:
        end = program.bare[-1].span if program.bare else N.Span(1, 1, 1, 1)
        head = program.bare[0].span if program.bare else None
        if head is not None and head.end_line != head.line:  # a plate: its header line
            head = N.Span(head.line, head.column, head.line, head.column + 5)
        guides.append(_check_body(reporter, default_name, None, program.bare, end, numeric_jacobians, head))
    return guides


def _reads(body) -> set[str]:
    """Every name the statements of a guide read (plates' bodies included)."""
    out: set[str] = set()
    stack = list(body)
    while stack:
        s = stack.pop()
        if isinstance(s, N.Plate):
            stack.extend(s.body)
            exprs = [s.size, *(o.value for o in s.options)]
        elif isinstance(s, N.Param):
            exprs = [*(s.shape or ()), s.init, s.constraint]
        else:
            exprs = [getattr(s, f, None) for f in ("dist", "value", "expr", "spec")]
        for e in exprs:
            if e is not None:
                out |= N.names(e)
    return out


def _check_body(reporter, name, args, body, span, numeric, head=None) -> GuideIR:
    c = GuideChecker(reporter, name, args, numeric, head)
    for s in body:  # a network applied above its declaration is VG215, not an unknown function
        if isinstance(s, N.Net):
            c.guide.net_lines.setdefault(s.name, s.span.line)
    if c.guide.net_lines:  # only networks need to know what is read later (see GuideChecker.assign)
        c.guide_reads = _reads(body)
    for s in body:
        c.stmt(s)
    return c.finish(span)


def _printable_name(text: str) -> bool:
    """Whether ``as "TEXT"`` names a NumPyro site or plate: not empty, printable, no spaces at an end."""
    return bool(text) and text.isprintable() and text == text.strip()


__all__ = ["GuideChecker", "Val", "check_program"]
