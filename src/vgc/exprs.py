"""Phase 2a: expression values — names, shapes, dependencies and constants of VG expressions.

:class:`ExprChecker` gives every expression its :class:`vgc.values.Val`, reporting what is wrong
(undefined or out-of-plate names, shapes that do not fit, calls that are not functions). With a
throw-away reporter it is also the silent evaluator that transform analysis uses on expressions
the checker has already reported on.
"""

from __future__ import annotations

import math

from . import diagnostics as D
from . import networks
from . import nodes as N
from . import registry as R
from . import shapes as S
from .ir import GuideIR, Kind
from .scope import Scope, did_you_mean
from .values import MAX_CONST_SIZE, Val, const_eval, numeric_det, size


class ExprChecker:
    """Abstract values of expressions, in the scope of the statement being checked."""

    def __init__(self, reporter: D.Reporter, scope: Scope, guide: GuideIR):
        self.r = reporter
        self.scope = scope
        self.info = guide.info
        self.indexed = guide.indexed
        self.guide = guide  # its networks (nets, net_lines): NAME(x) applies one
        # a quiet evaluator's values so far, id(e) → (e, value): it lives for one statement, whose scope does
        # not change meanwhile, and transform analysis asks it for the value of every sub-expression of
        # expressions it has already evaluated whole (two calls in three on the bench program were repeats)
        self.memo: dict[int, tuple[N.Expr, Val]] | None = None

    def quiet(self) -> ExprChecker:
        """The same evaluator, reporting nothing (for expressions already checked)."""
        quiet = ExprChecker(D.Reporter(), self.scope, _InfoOnly(self.info, self.guide.nets, self.guide.net_lines))
        quiet.memo = {}  # what it would report is dropped, so a value does not depend on pm_ok either
        return quiet

    def value(self, e: N.Expr, pm_ok: bool = False) -> Val:
        """Abstract value of an expression: shape, random and param dependencies, constant value."""
        memo = self.memo
        if memo is not None:
            known = memo.get(id(e))
            if known is not None:  # (e is kept alive by the memo, so its id is not another node's)
                v = known[1]
                self.info[id(e)] = (e, v.shape, v.plates)
                return v
        v = self._value(e, pm_ok)
        self.info[id(e)] = (e, v.shape, v.plates)
        if memo is not None:
            memo[id(e)] = (e, v)
        return v

    def _value(self, e: N.Expr, pm_ok: bool) -> Val:
        t = type(e)
        if t is N.Number:
            if e.value == 0 and math.isinf(float(e.text)):  # 1e400: VG104 already, stands in as 0
                return Val((), error=True)
            return Val((), const=e.value)
        if t is N.Name:
            return self.name_value(e)
        if t is N.Vector:
            return self.vector(e, pm_ok)
        if t is N.UnaryOp:
            if e.op.op == "+-" and not pm_ok:
                self.pm_error(e.op)
            v = self.value(e.operand, pm_ok)
            const = const_eval("neg", v.const) if e.op.op == "-" else v.const if e.op.op == "+" else None
            return Val.join(v.shape, [v], const)
        if t is N.BinOp:
            return self.binop(e, pm_ok)
        if t is N.Transpose:
            v = self.value(e.operand, pm_ok)
            return Val.join(S.transpose(v.shape), [v])
        if t is N.Call:
            return self.call_value(e, pm_ok)
        if t is N.Index:
            return self.index(e)
        if t is N.Slice:
            return self.slice(e)
        raise TypeError(t)

    def vector(self, e: N.Vector, pm_ok: bool) -> Val:
        vals = [self.value(i, pm_ok) for i in e.items]
        shape: S.Shape = None
        if not vals:
            self.r.report(D.SHAPE, e.span, "an empty vector has no use here")
        else:
            shape, ragged = S.stack([v.shape for v in vals])
            if ragged:
                self.r.report(
                    D.SHAPE,
                    e.span,
                    "the entries of a vector must all have the same shape",
                    "shapes here: " + ", ".join(str(v.shape) for v in vals),
                )
        # Not folded when ragged or big: `let b = [a, a]` shares a's constant, and 30 such lets
        # would make any walk over the result visit 2^30 entries.
        const = (
            [v.const for v in vals]
            if shape is not None and size(shape) <= MAX_CONST_SIZE and all(v.const is not None for v in vals)
            else None
        )
        return Val.join(shape, vals, const)

    def name_value(self, e: N.Name) -> Val:
        sym = self.scope.lookup(e.id)
        if sym is None:
            hidden = self.scope.get(e.id)
            if hidden is not None and (hidden.kind is Kind.BROKEN or self.scope.shadowed(e.id)):
                return Val(None, error=True)  # its statement was reported already
            if hidden is not None:
                inner = hidden.plates[len(self.scope.open)] if len(hidden.plates) > len(self.scope.open) else \
                    hidden.plates[-1]
                self.r.report(
                    D.OUTSIDE_PLATE,
                    e.span,
                    f"'{e.id}' is local to plate '{inner.name}' (line {inner.span.line}): it has one value per "
                    "element there and none here",
                    f"use it inside `plate {inner.name}`, or define it outside the plate",
                )
                return Val(None, error=True)
            self.undefined(e)
            return Val(None, error=True)
        if sym.kind is Kind.BROKEN:  # defined by a statement that did not parse: already reported
            return Val(None, error=True)
        if sym.kind is Kind.NET:
            sym.used = True
            self.r.report(D.NOT_A_VALUE, e.span, f"'{e.id}' is a network, not a value",
                          f"apply it to an input vector: {e.id}(x)")
            return Val(None, error=True)
        sym.used = True
        randoms = frozenset([sym.name]) if sym.is_random else sym.randoms
        params = sym.params | ({sym.name} if sym.kind is Kind.PARAM else frozenset())
        return Val(sym.shape, randoms, params, sym.const, sym.error, sym.varies)

    def undefined(self, e: N.Name) -> None:
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
            self.r.report(
                D.UNDEFINED,
                e.span,
                f"'{e.id}' is not defined",
                self.scope.suggest(e.id) or "define it with `param`, `~`, `=` or `let` first",
            )

    def index(self, e: N.Index) -> Val:
        """``ARG[PLATE]``: a guide argument at the plate's current indices (its element shape is unknown)."""
        arg, plate = e.name, e.plate
        sym = self.scope.lookup(arg.id)
        if sym is None or sym.kind is not Kind.ARG:
            if sym is None and self.scope.get(arg.id) is None:
                self.undefined(arg)
            elif sym is None or sym.kind is not Kind.BROKEN:
                self.r.report(
                    D.BAD_INDEX,
                    e.span,
                    f"'{arg.id}' is not a guide argument: only the model's data can be indexed by a plate",
                    f"a value with one entry per element is defined inside the plate: write `param {arg.id}` "
                    f"(or the draw) inside `plate {plate.id}` and use `{arg.id}` there",
                )
            return Val(None, error=True)
        if not self.scope.is_open(plate.id):
            self.r.report(
                D.INDEX_OUTSIDE_PLATE,
                plate.span,
                f"no plate '{plate.id}' is open here: `{arg.id}[{plate.id}]` reads {arg.id} at that plate's "
                "current indices",
                self.scope.suggest_plate(plate.id) or f"use it inside `plate {plate.id}(...) {{ ... }}`",
            )
            return Val(None, error=True)
        self.indexed.add(id(next(p for p in reversed(self.scope.open) if p.name == plate.id)))
        return Val(None, plates=frozenset([plate.id]))

    def slice(self, e: N.Slice) -> Val:
        """``v[i:j]``: entries i..j-1 of a vector (bounds: whole numbers, or arithmetic of guide arguments);
        ``v[i]``: entry i."""
        v = self.value(e.value)
        bounds = [self.value(b) if b is not None else None for b in (e.start, e.stop)]
        parts = [v, *(b for b in bounds if b is not None)]
        if v.error or any(b is not None and b.error for b in bounds):
            return Val.join(None, parts, error=True)
        if v.shape is not None and len(v.shape) != 1:
            self.r.report(D.BAD_SLICE, e.span, f"only a vector can be sliced; got shape {v.shape}",
                          "slice a vector: `h[0:8]` is its entries 0..7")
            return Val.join(None, parts, error=True)
        n = v.shape[0] if v.shape is not None else None
        ends = []
        for b, bv, default in ((e.start, bounds[0], 0), (e.stop, bounds[1], n)):
            if b is None:
                ends.append(default)
            elif bv.randoms or bv.params or (bv.const is None and not N.names(b)):
                self.r.report(D.BAD_SLICE, b.span, "a slice's bounds are fixed: whole numbers or guide arguments",
                              "params and draws cannot bound a slice")
                return Val.join(None, parts, error=True)
            elif bv.const is None:
                ends.append(None)  # a guide argument's: known when the guide runs
            elif isinstance(bv.const, list) or not float(bv.const).is_integer() or bv.const < 0:
                self.r.report(D.BAD_SLICE, b.span, f"a slice's bound must be a whole number ≥ 0, not {bv.const}")
                return Val.join(None, parts, error=True)
            else:
                ends.append(int(bv.const))
        lo, hi = ends
        if e.single:  # `v[i]`: one entry
            if lo is not None and n is not None and lo >= n:
                self.r.report(D.BAD_SLICE, e.span, f"entry {lo} is past the end of a vector of {n}",
                              f"its entries are 0..{n - 1}")
                return Val.join(None, parts, error=True)
            const = v.const[lo] if isinstance(v.const, list) and lo is not None else None
            return Val.join((), parts, const)
        if hi is not None and n is not None and hi > n:
            self.r.report(D.BAD_SLICE, e.span, f"the slice ends at {hi}, past the end of a vector of {n}",
                          f"its entries are 0..{n - 1}: slice within `[0:{n}]`")
            return Val.join(None, parts, error=True)
        if lo is not None and hi is not None and lo >= hi:
            self.r.report(D.BAD_SLICE, e.span, f"the slice [{lo}:{hi}] is empty", "a slice [i:j] needs i < j")
            return Val.join(None, parts, error=True)
        shape = (hi - lo,) if lo is not None and hi is not None else None
        const = v.const[lo:hi] if isinstance(v.const, list) and shape is not None else None
        return Val.join(shape, parts, const)

    def concat(self, e: N.Call, pm_ok: bool) -> Val:
        """``concat(a, b, ...)``: vectors joined end to end."""
        vals = [self.value(a, pm_ok) for a in e.args]
        if e.kwargs or len(e.args) < 2:
            self.r.report(D.BAD_ARGS, e.span, "concat() joins two or more vectors", "e.g. `concat(x[data], [mu])`")
            return Val.join(None, vals, error=True)
        widths = []
        for a, v in zip(e.args, vals):
            if v.shape is not None and len(v.shape) != 1:
                self.r.report(D.SHAPE, a.span, f"concat() joins vectors; got shape {v.shape}",
                              "make a scalar a vector of one: `[mu]`")
                return Val.join(None, vals, error=True)
            widths.append(v.shape[0] if v.shape is not None else None)
        shape = (sum(widths),) if None not in widths else None
        const = [c for v in vals for c in v.const] if all(isinstance(v.const, list) for v in vals) else None
        return Val.join(shape, vals, const)

    def pm_error(self, op: N.Op) -> None:
        self.r.report(
            D.PM_OUTSIDE_MIX,
            op.span,
            "'±' is only allowed inside a mixture component",
            "`±` makes two components: write it inside Mix, e.g. `u ~ Mix(Normal(±b, 1))`",
        )

    def binop(self, e: N.BinOp, pm_ok: bool) -> Val:
        if e.op.op == "+-" and not pm_ok:
            self.pm_error(e.op)
        a, b = self.value(e.left, pm_ok), self.value(e.right, pm_ok)
        op = e.op.op
        if op == "@":
            shape, why = S.matmul(a.shape, b.shape)
            if why == "rank":
                self.r.report(
                    D.SHAPE,
                    e.op.span,
                    f"'{e.op.text}' multiplies vectors and matrices; got shapes {a.shape} and {b.shape}",
                    "use '*' for scalars",
                )
            elif why:
                self.r.report(D.SHAPE, e.op.span, f"shapes {a.shape} and {b.shape} do not match for '{e.op.text}'")
        else:
            shape = S.broadcast(a.shape, b.shape)
            if shape is None and a.shape is not None and b.shape is not None:
                self.r.report(D.SHAPE, e.span, f"shapes {a.shape} and {b.shape} do not broadcast for '{e.op.text}'")
        return Val.join(shape, [a, b], const_eval(op, a.const, b.const))

    def call_value(self, e: N.Call, pm_ok: bool) -> Val:
        sym = self.scope.lookup(e.func)
        if sym is not None and sym.kind is Kind.NET:
            sym.used = True
            net = self.guide.nets.get(e.func)
            vals = [self.value(a, pm_ok) for a in e.args]
            if net is None:  # its declaration was reported; its name stands for its params (no VG601 after)
                out = Val.join(None, vals, error=True)
                return out._replace(params=out.params | {e.func})
            return networks.apply(e, net, vals[0] if len(vals) == 1 else None, self.r)
        if e.func == R.CONCAT:
            return self.concat(e, pm_ok)
        if e.func in (R.MLP, R.MODULE):
            self.r.report(D.BAD_NET, e.span, f"{e.func}(...) declares a network; it is not a value",
                          f"declare it at the top of the guide, `net enc = {e.func}(...)`, then apply it: enc(x)")
            return Val(None, error=True)
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
            if e.func == R.LEN:
                self.r.report(
                    D.UNKNOWN_FUNCTION,
                    e.func_span,
                    "len() only gives the size of a plate",
                    "write `plate NAME(len(ARG)) { ... }`",
                )
            elif e.func in self.guide.net_lines:
                line = self.guide.net_lines[e.func]
                self.r.report(
                    D.NET_BEFORE_DECLARATION, e.func_span,
                    f"network '{e.func}' is applied before its declaration (line {line})",
                    f"move `net {e.func} = ...` above its first use",
                )
                out = Val.join(None, [self.value(a, pm_ok) for a in e.args], error=True)
                return out._replace(params=out.params | {e.func})  # its params: no VG601 after this
            else:
                self.r.report(
                    D.UNKNOWN_FUNCTION,
                    e.func_span,
                    f"unknown function '{e.func}'",
                    did_you_mean(e.func, list(R.FUNCTIONS) + list(R.DISTRIBUTIONS))
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
        kept = self.batch_dims(v) if e.func in S.MAPPINGS else 0
        entry = v.shape[kept:] if 0 < kept < len(v.shape) else v.shape  # of `: batch(K)` draws: per batch entry
        shape, bad = S.function(e.func, entry, spec.elementwise)
        if entry is not v.shape and shape is not None:  # NumPyro's transforms act on the last axis
            shape = v.shape[:kept] + shape
        if bad and e.func in S.MAPPINGS:
            self.r.report(D.SHAPE, e.span, *S.mapping_needs(e.func, entry))
        elif bad:
            self.r.report(D.SHAPE, e.span, f"{e.func}() needs {S.FUNCTION_NEEDS[e.func]}; got shape {v.shape}")
        const = const_eval(e.func, v.const)
        matrix = v.const if e.func == "inv" else const if e.func == "diag" else None
        if isinstance(matrix, list):
            self.check_singular(e.args[0], matrix)
        return Val.join(shape, [v], const)

    def batch_dims(self, v: Val) -> int:
        """How many leftmost dimensions of ``v`` are the batch dimensions of the ``: batch`` draws it depends on."""
        if v.shape is None:
            return 0
        return max((sym.batch for n in v.randoms if (sym := self.scope.get(n)) is not None), default=0)

    def check_singular(self, where: N.Expr, matrix) -> bool:
        """Report a constant singular matrix; True when it is singular."""
        det = numeric_det(matrix)
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


class _InfoOnly:
    """Stands in for the guide in a quiet evaluator: shares its expression table only."""

    def __init__(self, info: dict, nets: dict | None = None, net_lines: dict | None = None):
        self.info = info
        self.indexed: set[int] = set()
        self.nets = nets if nets is not None else {}
        self.net_lines = net_lines if net_lines is not None else {}
