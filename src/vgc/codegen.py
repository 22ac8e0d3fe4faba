"""Phase 4: checked guides (IR) → readable, deterministic NumPyro source.

Output depends only on the IR: no timestamps, fresh names from counters, imports
in a fixed order and only those used. Every emitted statement is preceded by a
comment with its ``.vg`` line, printed from the AST (never copied from the
source text). VG names become Python names unchanged unless they would shadow
a name the generated module binds, in which case ``_`` is appended.
"""

from __future__ import annotations

import itertools
import keyword
import unicodedata

from . import ir as C
from . import nodes as N
from . import registry as R
from . import unparse
from .prelude import prelude
from .shapes import MAPPINGS, event_axes, mapped, size
from .transforms import Plan, Term
from .writer import Writer, doc_text

# Names the generated module binds at top level, and names ruff rejects (E741).
MODULE_NAMES = {
    "jax", "jnp", "numpyro", "dist", "constraints", "_rot", "_subsample", "_biject", "_biject_log_det", "_lecun",
    "_concat", "_module", "sys", "isinstance", "int", "TypeError", "l", "I", "O"
}

# VG constraint names that NumPyro spells otherwise.
_NUMPYRO_CONSTRAINT = {"ordered": "ordered_vector"}

_JNP = {
    "exp",
    "log",
    "log1p",
    "expm1",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sinh",
    "arcsinh",
    "abs",
    "sum",
    "diag",
    "transpose",
}
_PY = {"+": 10, "-": 10, "*": 11, "/": 11, "@": 11, "^": 13}
_UNARY, _POW, _ATOM = 12, 13, 14


class NameMap:
    """VG name → Python name, and fresh temporaries that collide with nothing.

    ``vg_names`` are all the names the guide defines: they are reserved up front, so neither a
    renamed name (``jnp`` → ``jnp_``) nor a temporary (``_t1``) can take the spelling of another
    VG name, whichever comes first in the guide.
    """

    def __init__(self, taken: set[str], vg_names=()):
        self.taken = set(taken)  # module-level names: a VG name may shadow a guide function, never a module
        self.reserved = set(vg_names)
        self.map: dict[str, str] = {}
        self.used: set[str] = set()  # Python names already given out in this guide
        self.counter: dict[str, int] = {}

    def py(self, name: str) -> str:
        """The Python name of a VG name (stable within a guide, distinct for distinct names)."""
        if name not in self.map:
            out = name
            if out in MODULE_NAMES or keyword.iskeyword(out) or out in self.used:
                out += "_"
                while (
                    out in MODULE_NAMES
                    or keyword.iskeyword(out)
                    or out in self.used
                    or out in self.taken
                    or out in self.reserved
                ):
                    out += "_"
            self.map[name] = out
            self.used.add(out)
        return self.map[name]

    def local(self, base: str) -> str:
        """A readable local name (``data_idx``) that no VG name, module name or other local uses."""
        name = base
        while name in self.taken or name in self.used or name in self.reserved or name in MODULE_NAMES \
                or keyword.iskeyword(name):
            name += "_"
        self.used.add(name)
        return name

    def fresh(self, prefix: str) -> str:
        """``_t1``, ``_t2``, ...: a temporary that no VG name uses."""
        while True:
            self.counter[prefix] = self.counter.get(prefix, 0) + 1
            name = f"_{prefix}{self.counter[prefix]}"
            if name not in self.taken and name not in self.used and name not in self.reserved:
                self.used.add(name)
                return name


class ExprGen:
    """VG expressions → Python expressions.

    Outside plates the output is plain NumPy-style code. A value that varies over plates carries batch
    axes on the left of its per-element (event) axes, so where per-element shapes of different ranks
    meet, the lower-rank batched operand gets size-1 axes before its event axes, matrix products become
    ``jnp.einsum`` over ``...``, vectors stack along the last axis and sums run over event axes only.
    """

    def __init__(self, names: NameMap, uses: set[str], guide: C.GuideIR | None = None,
                 indices: dict[str, str] | None = None):
        self.names = names
        self.uses = uses  # which imports/helpers the module needs
        self.guide = guide
        self.indices = indices if indices is not None else {}  # plate name -> (its index variable, its dim)

    def info(self, e: N.Expr) -> tuple:
        """(per-element shape, plates) of an expression the checker evaluated; ``(None, ∅)`` otherwise."""
        return self.guide.shape_of(e) if self.guide is not None else (None, frozenset())

    def batched(self, e: N.Expr) -> bool:
        return bool(self.info(e)[1])

    def __call__(self, e: N.Expr, prec: int = 0, pm: int = 0) -> str:
        """Render ``e``; ``pm`` = +1/-1 picks a side of ``±`` (mixture expansion)."""
        if isinstance(e, N.Number):
            return repr(float(e.value))
        if isinstance(e, N.Name):
            return self.names.py(e.id)
        if isinstance(e, N.Index):
            self.uses.add("jnp")
            index, dim = self.indices[e.plate.id]
            text = f"jnp.asarray({self.names.py(e.name.id)})[{index}]"
            if dim != -1:  # the data's first axis goes to the plate's dim: size-1 axes after it
                text = f"jnp.expand_dims({text}, {tuple(range(1, -dim))!r})"
            return text
        if isinstance(e, N.Vector):
            self.uses.add("jnp")
            if self.batched(e):
                return self.stack(e, pm)
            return f"jnp.array({self.rows(e, pm)})"
        if isinstance(e, N.UnaryOp):
            if e.op.op == "+" or (e.op.op == "+-" and pm > 0):
                return self(e.operand, prec, pm)
            text = "-" + self(e.operand, _UNARY, pm)
            return f"({text})" if prec > _UNARY else text
        if isinstance(e, N.BinOp):
            op = e.op.op
            if op == "+-":
                op = "+" if pm >= 0 else "-"
            if op == "@" and (self.batched(e.left) or self.batched(e.right)) and None not in (
                    self.info(e.left)[0], self.info(e.right)[0]):
                return self.einsum(e, pm)
            p = _PY[op]
            left, right = self.align(e.left, e.right), self.align(e.right, e.left)
            if op == "^":
                text = f"{left(_ATOM, pm)} ** {right(_UNARY, pm)}"
            else:
                r = right(p + 1, pm)
                if r.startswith("-"):  # `a - (-b)` reads better than `a - -b`
                    r = f"({r})"
                text = f"{left(p, pm)} {op} {r}"
            return f"({text})" if prec > p else text
        if isinstance(e, N.Transpose):
            # not `.T`: a scalar param's initial value and a model argument may be Python floats
            self.uses.add("jnp")
            if self.batched(e.operand):
                return self.batched_call("transpose", e.operand, pm)
            return f"jnp.transpose({self(e.operand, 0, pm)})"
        if isinstance(e, N.Slice) and e.single:
            return f"{self(e.value, _ATOM, pm)}[..., {_int(self(e.start))}]"
        if isinstance(e, N.Slice):  # the last (event) axis: batch axes stay on the left
            lo = self(e.start) if e.start is not None else ""
            hi = self(e.stop) if e.stop is not None else ""
            return f"{self(e.value, _ATOM, pm)}[..., {_int(lo)}:{_int(hi)}]"
        if isinstance(e, N.Call):
            if self.guide is not None and e.func in self.guide.nets:
                return f"{self.names.py(e.func)}({self(e.args[0], 0, pm)})"
            if e.func == R.CONCAT:  # batch axes broadcast, vectors joined on the last axis
                self.uses.update({"concat", "jnp"})
                text = self(e.args[0], 0, pm)
                for a in e.args[1:]:
                    text = f"_concat({text}, {self(a, 0, pm)})"
                return text
            if e.func in MAPPINGS:  # NumPyro's transforms act on the last axis: batch axes broadcast
                return f"_biject({self.support(e.func)}, {self(e.args[0], 0, pm)})"
            if e.args and self.batched(e.args[0]) and e.func in _BATCHED:
                return self.batched_call(e.func, e.args[0], pm)
            args = ", ".join(self(a, 0, pm) for a in e.args)
            return f"{self.func(e.func)}({args})"
        raise TypeError(type(e))

    def align(self, e: N.Expr, other: N.Expr):
        """A renderer for ``e`` as an operand next to ``other``: a batched operand of lower per-element rank
        gets size-1 axes before its event axes (NumPy would line its batch axes up with the event axes)."""
        (shape, plates), (oshape, _) = self.info(e), self.info(other)
        if not plates or shape is None or oshape is None or len(shape) >= len(oshape):
            return lambda prec, pm: self(e, prec, pm)
        gap = len(oshape) - len(shape)
        if not shape:
            return lambda prec, pm: f"{self(e, _ATOM, pm)}[..., {', '.join(['None'] * gap)}]"
        self.uses.add("jnp")
        axes = tuple(range(-len(oshape), -len(shape)))
        return lambda prec, pm: f"jnp.expand_dims({self(e, 0, pm)}, {axes!r})"

    def einsum(self, e: N.BinOp, pm: int) -> str:
        """``a · b`` when a side is batched: contract the event axes, broadcast the batch axes."""
        self.uses.add("jnp")
        a, b = self.info(e.left)[0], self.info(e.right)[0]
        spec = {(2, 1): "...ij,...j->...i", (1, 2): "...j,...jk->...k", (2, 2): "...ij,...jk->...ik",
                (1, 1): "...j,...j->..."}[(len(a), len(b))]
        return f'jnp.einsum("{spec}", {self(e.left, 0, pm)}, {self(e.right, 0, pm)})'

    def stack(self, e: N.Vector, pm: int) -> str:
        """A vector literal of batched entries: entries broadcast against each other, stacked last."""
        shape = self.info(e)[0]
        axis = -len(shape) if shape else -1
        items = ", ".join(self(i, 0, pm) for i in e.items)
        return f"jnp.stack(jnp.broadcast_arrays({items}), axis={axis})"

    def batched_call(self, f: str, a: N.Expr, pm: int) -> str:
        """A shape-changing function of a batched value: it acts on the event axes only."""
        self.uses.add("jnp")
        shape = self.info(a)[0] or ()
        x = self(a, 0, pm)
        if f == "sum":
            return f"jnp.sum({x}, axis={event_axes(len(shape))!r})" if shape else x
        if f == "transpose":
            return f"jnp.swapaxes({x}, -1, -2)" if len(shape) == 2 else x
        if f == "diag":
            return f'jnp.vectorize(jnp.diag, signature="(n)->(n,n)")({x})'
        if f == "rot":
            self.uses.add("rot")
            return f'jnp.vectorize(_rot, signature="()->(2,2)")({x})'
        raise KeyError(f)

    def support(self, f: str) -> str:
        """``constraints.simplex``...: the support the mapping function ``f`` maps onto (its image)."""
        self.uses.update({"biject", "constraints"})
        return f"constraints.{R.FUNCTIONS[f].image}"

    def rows(self, e: N.Vector, pm: int) -> str:
        return "[" + ", ".join(self.rows(i, pm) if isinstance(i, N.Vector) else self(i, 0, pm) for i in e.items) + "]"

    def func(self, f: str) -> str:
        if f in _JNP:
            self.uses.add("jnp")
            return f"jnp.{f}"
        if f == "sigmoid":
            self.uses.add("sigmoid")
            return "_sigmoid"
        if f == "softplus":
            self.uses.add("jax")
            return "jax.nn.softplus"
        if f == "logit":
            self.uses.add("jax")
            return "jax.scipy.special.logit"
        if f == "inv":
            self.uses.add("jnp")
            return "jnp.linalg.inv"
        if f == "rot":
            self.uses.update({"rot", "jnp"})
            return "_rot"
        raise KeyError(f)


# Functions that change shape: of a batched value they must act on its event axes only.
_BATCHED = {"sum", "transpose", "diag", "rot"}


def _item_exprs(item) -> list:
    if isinstance(item, C.ParamIR):
        s = item.stmt
        return [x for x in (s.init,) if x is not None] + list(item.constraint_args)
    if isinstance(item, C.SampleIR):
        return [item.stmt.dist]
    if isinstance(item, C.TransformIR):
        return [item.stmt.value] + [t.expr for t in item.plan.terms] + ([item.plan.value] if item.plan.value else [])
    if isinstance(item, C.LetIR):
        return [item.stmt.value]
    if type(item).__name__ == "NetIR":
        return list(item.sizes) if item.module is None else list(item.stmt.spec.args)
    if isinstance(item, C.PlateIR):
        s = item.stmt
        return [e for e in (s.size, *(o.value for o in s.options)) if e is not None]
    return []


def names_read(g: C.GuideIR) -> set[str]:
    """Every name the guide's statements read (its arguments among them)."""
    read: set[str] = set()
    for it in g.walk():
        for e in _item_exprs(it):
            read |= N.names(e)
    return read


class GuideGen:
    """Emits one guide function."""

    def __init__(self, w: Writer, g: C.GuideIR, names: NameMap, uses: set[str]):
        self.w, self.g, self.names = w, g, names
        self.indices: dict[str, tuple[str, int]] = {}  # open plate -> (its (subsampled) indices, its dim)
        self.open: dict[str, C.PlateIR] = {}  # the plates around the statement being emitted
        self.x = ExprGen(names, uses, g, self.indices)
        self.uses = uses
        self.read: set[str] = set()
        for it in g.walk():
            for e in _item_exprs(it):
                self.read |= N.names(e)

    def emit(self, fname: str) -> None:
        # Every argument defaults to None: SVI and Predictive call the guide as the model is called, and a
        # model's optional arguments (`y=None` when predicting, a batch size) may be left out.
        args = "*args, **kwargs" if self.g.args is None else ", ".join(f"{self.names.py(a)}=None" for a in self.g.args)
        with self.w.block(f"def {fname}({args})"):
            self.w.line(f'"""The variational guide `{doc_text(self.g.name)}`."""')
            self.emit_items(self.g.items)

    def emit_items(self, items: list) -> None:
        for it in items:
            stmt = it.stmt
            self.w.line(f"# line {stmt.span.line}: {unparse.stmt(stmt)}")
            getattr(self, "emit_" + type(it).__name__)(it)

    def size_text(self, size: C.PlateSize) -> str:
        if size.const is not None:
            return str(size.const)
        arg = self.names.py(size.arg)
        if size.length_of:  # len(ARG): the generated module has no builtins
            self.uses.add("jnp")
            return f"jnp.shape({arg})[0]"
        return arg

    def emit_PlateIR(self, it: C.PlateIR) -> None:
        s = it.stmt
        site = s.site.text if s.site is not None else s.name  # NumPyro's name: `as "SITE"` or the VG name
        args = [_q(site), self.size_text(it.size)]
        if it.subsample is not None:
            args.append(f"subsample_size={self.size_text(it.subsample)}")
        if it.explicit_dim or it.dim != -1:
            args.append(f"dim={it.dim}")
        head = f"with numpyro.plate({', '.join(args)})"
        if it.subsample is not None:
            # NumPyro draws a subsample on the CPU by shuffling all of arange(size): O(size) per step.
            # `_subsample` draws the same uniform subset in O(k^2); `substitute` hands it to the plate.
            self.uses.update({"subsample", "jax", "jnp"})
            sub = self.names.local(f"{s.name}_subsample")
            self.w.line(f"{sub} = _subsample({self.size_text(it.size)}, {self.size_text(it.subsample)})")
            head = f"with numpyro.handlers.substitute(data={{{_q(site)}: {sub}}}), {head[5:]}"
        if id(s) in self.g.indexed:
            index = self.names.local(f"{s.name}_idx")
            self.indices[s.name] = (index, it.dim)
            head += f" as {index}"
        self.open[s.name] = it
        with self.w.block(head):
            start = len(self.w.lines)
            self.emit_items(it.items)
            if all(line.lstrip().startswith("#") for line in self.w.lines[start:]):  # nothing but comments
                self.w.line("pass")
        del self.open[s.name]
        self.indices.pop(s.name, None)

    def bind(self, name: str, rhs: str) -> None:
        if name in self.read:
            self.w.line(f"{self.names.py(name)} = {rhs}")
        else:
            self.w.line(rhs)

    def emit_ParamIR(self, it: C.ParamIR) -> None:
        s = it.stmt
        init = self.param_init(it) if not R.is_random_init(s.init) else ""
        extra, c = "", None
        if it.constraint != "real":
            self.uses.add("constraints")
            c = f"constraints.{_NUMPYRO_CONSTRAINT.get(it.constraint, it.constraint)}"
            if it.constraint_args:
                c += "(" + ", ".join(self.x(a) for a in it.constraint_args) + ")"
            extra = f", constraint={c}"
        if R.is_random_init(s.init):  # drawn when SVI starts, from the param's own key, then mapped onto its support
            init = self.random_init(it, c if it.constraint != "real" else "constraints.real")
            if it.layout.plates:
                extra += f", event_dim={len(it.shape or ())}"
        elif it.layout.plates:
            init = self.batched_init(it, init)
            extra += f", event_dim={len(it.shape or ())}"
        self.bind(s.name, f"numpyro.param({_q(self.g.site(s.name))}, {init}{extra})")

    def random_init(self, it: C.ParamIR, support: str) -> str:
        """``uniform(a, b)`` / ``normal(m, s)``: a lazy initial value of the param's full shape (plate sizes, then
        the element's), drawn in its unconstrained space (as NumPyro's init_to_uniform) and mapped onto it."""
        self.uses.update({"random_init", "constraints", "jax"})
        e = it.stmt.init
        axes = [self.size_text(self.open[a].size) if a is not None else "1" for a in it.layout.batch_axes()]
        dims = axes + [str(d) for d in it.shape or ()]
        full = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
        a, b = (self.x(v) for v in e.args)
        return f'_random_init("{e.func}", {a}, {b}, {support}, {full})'

    def batched_init(self, it: C.ParamIR, init: str) -> str:
        """A per-element param's initial value broadcast to its full shape (plate sizes, then the element's):
        NumPyro's plates then slice it with ``event_dim`` when they subsample."""
        self.uses.add("jnp")
        axes = [self.size_text(self.open[a].size) if a is not None else "1" for a in it.layout.batch_axes()]
        full = "(" + ", ".join(axes + [str(d) for d in it.shape or ()]) + ("," if len(axes) + len(it.shape or ()) == 1
                                                                          else "") + ")"
        element = it.stmt.init
        if element is not None and self.x.info(element)[0] == ():  # one number for every entry
            return f"jnp.full({full}, {self.x(element)})"
        if (it.shape or ()) == ():
            return f"jnp.full({full}, {init})"
        return f"jnp.broadcast_to({init}, {full})"

    def param_init(self, it: C.ParamIR) -> str:
        shape = it.shape or ()
        s = it.stmt
        if s.init is not None:
            text = self.x(s.init)
            if shape and not isinstance(s.init, N.Vector) and it.stmt.shape is not None:
                self.uses.add("jnp")
                return f"jnp.full({shape!r}, {text})"
            return text
        c, a = it.constraint, [self.x(arg) for arg in it.constraint_args]
        scalar = {"real": "0.0", "positive": "1.0", "softplus_positive": "1.0", "unit_interval": "0.5"}.get(c)
        if c == "interval":
            scalar = f"({a[0]} + {a[1]}) / 2"
        elif c == "greater_than":
            scalar = f"{a[0]} + 1.0"
        elif c == "less_than":
            scalar = f"{a[0]} - 1.0"
        if scalar is not None:
            if not shape:
                return scalar
            self.uses.add("jnp")
            return f"jnp.full({shape!r}, {scalar})"
        self.uses.add("jnp")
        n = shape[0]
        if c == "simplex":
            return f"jnp.ones({n}) / {n}"
        if c == "ordered":
            return f"jnp.linspace(-1.0, 1.0, {n})"
        return f"jnp.eye({n})"  # lower_cholesky, corr_cholesky

    def dist(self, d, pm: int = 0, event: bool = True, kept: int = 0, own: tuple = ()) -> str:
        """A distribution's NumPyro text: its batch dimensions become event dimensions (``event``), but for the
        leftmost ``kept`` (a ``: batch(K)`` draw's); ``own``: inside plates, the dims those K take (see
        :meth:`to_site`)."""
        if isinstance(d, C.MixIR):
            return self.mixture(d)
        ranks = self.arg_ranks(d)
        parts = [self.dist_arg(a, ranks[i], d, pm, own) for i, a in enumerate(d.args)] + \
            [f"{k}={self.dist_arg(v, ranks.get(k, 0), d, pm, own)}" for k, v in d.kwargs]
        text = f"dist.{d.family}({', '.join(parts)})"
        if event and d.batch and len(d.batch) > kept:
            text += f".to_event({len(d.batch) - kept})"
        return text

    @staticmethod
    def arg_ranks(d: C.DistIR) -> dict:
        """Each argument's own rank in the family (0 for loc and scale, 1 for a vector loc...), by position
        and by name."""
        from .registry import DISTRIBUTIONS

        spec = DISTRIBUTIONS[d.family].args
        return {**{i: a.rank for i, a in enumerate(spec)}, **{a.name: a.rank for a in spec}}

    def dist_arg(self, e: N.Expr, rank: int, d: C.DistIR, pm: int, own: tuple = ()) -> str:
        """A distribution argument; a batched one of lower per-element batch rank than the draw gets size-1
        axes, so that its batch axes stay left of the draw's per-element batch axes. ``own``: the dims the
        draw's own batch dimensions take inside plates, where a batched argument's move (:meth:`to_site`), and
        an unbatched one's too when they are not simply the rightmost (they would not broadcast there)."""
        shape, plates = self.x.info(e)
        moves = bool(own) and d.batch is not None and bool(
            plates or (not _rightmost(own) and shape is not None and len(shape) > rank))
        if not (plates or moves) or shape is None or d.batch is None or len(shape) - rank >= len(d.batch):
            text = self.x(e, 0, pm)
        else:
            have = len(shape) - rank
            axes = tuple(range(-(len(d.batch) + rank), -(have + rank)))
            if not shape:
                text = f"{self.x(e, _ATOM, pm)}[..., {', '.join(['None'] * len(axes))}]"
            else:
                self.uses.add("jnp")
                text = f"jnp.expand_dims({self.x(e, 0, pm)}, {axes!r})"
        if moves:
            text = self.to_site(text, own, len(d.batch) + rank)  # the argument's per-element axes, as padded above
        return text

    def mixture(self, m: C.MixIR) -> str:
        self.uses.add("jnp")
        probs = self.x(m.weights) if m.weights is not None else f"jnp.ones({m.k}) / {m.k}"
        mix = f"dist.Categorical(probs={probs})"
        if len(m.components) > 1:
            comps = ", ".join(self.dist(c) for c in m.components)
            return f"dist.MixtureGeneral({mix}, [{comps}])"
        (c,) = m.components
        if m.pm:
            ranks = self.arg_ranks(c)
            parts = [self.pm_arg(a, ranks[i], c) for i, a in enumerate(c.args)] + \
                [f"{k}={self.pm_arg(v, ranks.get(k, 0), c)}" for k, v in c.kwargs]
            comp = f"dist.{c.family}({', '.join(parts)})"
            rest = len(c.batch)
        else:
            comp = self.dist(c, event=False)
            rest = len(c.batch) - 1
        if rest:
            comp += f".to_event({rest})"
        return f"dist.MixtureSameFamily({mix}, {comp})"

    def pm_arg(self, e: N.Expr, rank: int, c: C.DistIR) -> str:
        """An argument of a ``±`` component: stacked on the components' axis when it holds the ``±``; else,
        when batched, given a size-1 axis there (and wherever its element has fewer axes)."""
        shape, plates = self.x.info(e)
        if not N.has_pm(e):
            if not plates or shape is None or c.batch is None or len(shape) >= len(c.batch) + rank + 1:
                return self.x(e)
            self.uses.add("jnp")
            axes = tuple(range(-(len(c.batch) + rank + 1), -len(shape) if shape else 0))
            return f"jnp.expand_dims({self.x(e, 0)}, {axes!r})"
        if plates and shape is not None:  # the components' axis goes right of the batch axes
            return f"jnp.stack([{self.x(e, 0, +1)}, {self.x(e, 0, -1)}], axis={-1 - len(shape)})"
        return f"jnp.stack([{self.x(e, 0, +1)}, {self.x(e, 0, -1)}])"

    def emit_SampleIR(self, it: C.SampleIR) -> None:
        s = it.stmt
        infer = ', infer={"is_auxiliary": True}' if s.name in self.g.auxiliary else ""
        own = it.layout.own_dims(it.batch) if it.layout.plates else ()
        text = f"numpyro.sample({_q(self.g.site(s.name))}, {self.dist(it.dist, kept=it.batch, own=own)}{infer})"
        if own and s.name in self.read:
            text = self.from_site(text, own, len(it.dist.shape or ()), it.layout.rank)
        self.bind(s.name, text)

    def to_site(self, text: str, own: tuple, rank: int) -> str:
        """Inside plates, a ``: batch(K)`` value from VG's layout (the plates' axes, then the element's ``rank``
        axes, the first K of them the draw's own batch dimensions) to NumPyro's, where those K sit at the dims
        ``own`` no plate takes. Right of every plate's dim they replace the plates' trailing size-1 axes (a
        squeeze); elsewhere the prelude's ``_to_site`` pads, squeezes and moves them."""
        self.uses.add("jnp")
        k = len(own)
        if _rightmost(own):
            return f"jnp.squeeze({text}, {tuple(range(-(rank + k), -rank))!r})"
        self.uses.add("to_site")
        squeeze, source = tuple(d - rank for d in own), tuple(range(-rank, -rank + k))
        return f"_to_site({text}, {rank - own[0]}, {squeeze!r}, {source!r}, {tuple(d - rank + k for d in own)!r})"

    def from_site(self, text: str, own: tuple, rank: int, plates: int) -> str:
        """The inverse of :meth:`to_site` for a site's value (NumPyro's layout to VG's): the K own axes move
        right of the batch axes, and a size-1 axis is left wherever one of them was among the ``plates``
        axes of VG's layout (its plates' rank)."""
        self.uses.add("jnp")
        k = len(own)
        event = rank - k
        if not _rightmost(own):
            text = f"jnp.moveaxis({text}, {tuple(d - event for d in own)!r}, {tuple(range(-rank, -event))!r})"
        inside = tuple(d - rank for d in own if -d <= plates)
        return f"jnp.expand_dims({text}, {inside!r})" if inside else text

    def emit_NetIR(self, it) -> None:
        """An mlp: its params (weights drawn lazily from the param's key, biases 0) where it is declared, and a
        local function of the input that applies it (batch axes on the left broadcast through ``@``)."""
        s = it.stmt
        if it.module is not None:  # numpyro.contrib.module registers it when first applied (Flax needs a width)
            self.uses.update({"module", "jax", "jnp"})
            self.w.line(f"{self.names.py(s.name)} = _module({_q(s.name)}, {self.names.py(it.module)})")
            return
        self.uses.update({"lecun", "jax", "jnp"})
        sizes = [str(w) if w is not None else _int(self.x(e)) for w, e in zip(it.widths, it.sizes)]
        layers = []
        for i, (m, n) in enumerate(itertools.pairwise(sizes)):
            w, b = self.names.local(f"{s.name}_w{i}"), self.names.local(f"{s.name}_b{i}")
            self.w.line(f'{w} = numpyro.param("{s.name}.w{i}", _lecun({m}, {n}))')
            self.w.line(f'{b} = numpyro.param("{s.name}.b{i}", jnp.zeros({n}))')
            layers.append((w, b))
        x = self.names.local("x")
        with self.w.block(f"def {self.names.py(s.name)}({x})"):
            for w, b in layers[:-1]:
                self.w.line(f"{x} = jax.nn.{it.act}({x} @ {w} + {b})")
            self.w.line(f"return {x} @ {layers[-1][0]} + {layers[-1][1]}")

    def emit_LetIR(self, it: C.LetIR) -> None:
        if it.stmt.name in self.read:
            self.w.line(f"{self.names.py(it.stmt.name)} = {self.x(it.stmt.value)}")
        else:
            self.w.line("# (unused, not emitted)")

    def emit_TransformIR(self, it: C.TransformIR) -> None:
        s, plan = it.stmt, it.plan
        value = self.x(s.value)
        mapping = None  # (the argument, the result) of a mapping function: its log-Jacobian reads both
        if any(t.kind == "bijector" for t in plan.terms):
            result = self.names.fresh("t")  # computed once
            self.w.line(f"{result} = {value}")
            value = result
            top = s.value  # the argument as written (`lower_cholesky(raw)`), not with the lets substituted
            mapping = (self.x(top.args[0]) if isinstance(top, N.Call) and top.func in MAPPINGS else None, result)
        density = self.log_density(plan, mapping) if plan.consumed else None
        if plan.numeric:
            density = self.numeric_jacobian(plan)
        if not s.is_list:
            (t,) = s.targets
            rank = len(it.shape or ())
            own = it.layout.own_dims(it.batch) if it.layout.plates else ()
            free = len(own)
            if free:  # NumPyro's layout for the site, VG's for the name (see to_site)
                if not value.isidentifier():
                    tmp = self.names.fresh("t")
                    self.w.line(f"{tmp} = {value}")
                    value = tmp
                if density is not None:  # one log-density per entry, its terms' shapes broadcast in VG's layout
                    entries = f"jnp.shape({value})" + (f"[:{-(rank - free)}]" if rank > free else "")
                    density = self.to_site(f"({density}) + jnp.zeros({entries})", own, free)
                value = self.to_site(value, own, rank)
            delta = self.delta(t.id, value, density, rank - it.batch)
            self.bind(t.id, self.from_site(delta, own, rank, it.layout.rank) if own and t.id in self.read else delta)
            return
        tmp = self.names.fresh("t")
        self.w.line(f"{tmp} = {value}")
        at = "..., " if self.x.batched(s.value) else ""
        for i, t in enumerate(s.targets):
            self.bind(t.id, self.delta(t.id, f"{tmp}[{at}{i}]", density if i == 0 else None, 0))

    def delta(self, name: str, value: str, density: str | None, event: int) -> str:
        args = [value]
        if density is not None:
            args.append(f"log_density={density}")
        if event:
            args.append(f"event_dim={event}")
        return f"numpyro.sample({_q(self.g.site(name))}, dist.Delta({', '.join(args)}))"

    def log_density(self, plan: Plan, mapping: tuple[str | None, str] | None = None) -> str:
        """-log|det J| from the plan's terms (``mapping``: the Python texts of a mapping function's argument, when
        written in the statement, and of its result)."""
        out = ""
        for t in plan.terms:
            coef = -t.coef
            body = self.term(t, mapping, plan.batch)
            mag = abs(coef)
            piece = body if mag == 1 else f"{_num(mag)} * {body}"
            if not out:
                out = ("-" if coef < 0 else "") + piece
            else:
                out += (" - " if coef < 0 else " + ") + (f"({piece})" if piece.startswith("-") else piece)
        return out or "0.0"

    def term(self, t: Term, mapping: tuple[str | None, str] | None = None, kept: int = 0) -> str:
        """One term's Python text; ``kept``: the batch dimensions of ``: batch`` draws, not summed over."""
        if t.kind == "bijector":  # NumPyro's log_abs_det_jacobian(x, y): summed over the element's axes
            x, y = mapping or (None, None)
            x, y = x or self.x(t.expr.args[0]), y or self.x(t.expr)
            self.uses.add("biject_log_det")
            return f"_biject_log_det({self.x.support(t.expr.func)}, {x}, {y})"
        self.uses.add("jnp")
        if t.kind == "slogdet":
            return f"jnp.linalg.slogdet({self.x(t.expr)})[1]"
        if t.kind == "logabs" and isinstance(t.expr, N.Number):
            inner = f"jnp.log({abs(t.expr.value)!r})"
        elif t.kind == "logabs":
            inner = f"jnp.log(jnp.abs({self.x(t.expr)}))"
        else:
            inner = self.x(t.expr, _POW)
        if not t.shape or len(t.shape) == kept:
            return inner
        body = inner if t.kind == "logabs" else self.x(t.expr)
        if kept:  # per batch entry of `: batch(K)` draws: a sum over each entry's event dimensions
            axes = event_axes(len(t.shape) - kept)
            if t.inner == ():
                return f"{size(t.shape[kept:])} * {inner}"
            if t.inner != t.shape:
                body = f"jnp.broadcast_to({body}, {t.shape!r})"
            return f"jnp.sum({body}, axis={axes!r})"
        if self.x.batched(t.expr):  # one log-density per element: sum over the event axes only
            axes = event_axes(len(t.shape))
            if t.inner == t.shape:
                return f"jnp.sum({body}, axis={axes!r})"
            if t.inner == ():
                return f"{size(t.shape)} * {inner}"
            gap = tuple(range(-len(t.shape), -len(t.inner or ())))
            return f"jnp.sum(jnp.expand_dims({body}, {gap!r}) * jnp.ones({t.shape!r}), axis={axes!r})"
        if t.inner == t.shape:
            return f"jnp.sum({body})"
        if t.inner == ():
            return f"{size(t.shape)} * {inner}"
        return f"jnp.sum(jnp.broadcast_to({body}, {t.shape!r}))"

    def numeric_jacobian(self, plan: Plan) -> str:
        self.uses.update({"jax", "jnp"})
        f, z = self.names.fresh("f"), self.names.fresh("z")
        with self.w.block(f"def {f}({z})"):
            self.w.line('"""The transform as a function of its flattened random inputs."""')
            offset, lhs, rhs = 0, [], []
            for n in plan.consumed:
                shape = self.g.symbols[n].shape
                k = size(shape)
                lhs.append(self.names.py(n))
                if not shape:
                    rhs.append(f"{z}[{offset}]")
                elif len(shape) == 1:
                    rhs.append(f"{z}[{offset}:{offset + k}]")
                else:
                    rhs.append(f"{z}[{offset}:{offset + k}].reshape({shape!r})")
                offset += k
            self.w.line(f"{', '.join(lhs)} = {', '.join(rhs)}")
            self.w.line(f"return jnp.ravel({self.free_entries(plan.value)})")
        flat = ", ".join(f"jnp.ravel({self.names.py(n)})" for n in plan.consumed)
        return f"-jnp.linalg.slogdet(jax.jacfwd({f})(jnp.concatenate([{flat}])))[1]"

    def free_entries(self, e: N.Expr) -> str:
        """The value of ``e``, or for a mapping function only the entries that are free coordinates of its
        support (as NumPyro's log_abs_det_jacobian counts them): all but the simplex's last entry, the lower
        triangle of a Cholesky factor, the strict lower triangle of a correlation Cholesky factor."""
        text = self.x(e)
        if not (isinstance(e, N.Call) and e.func in MAPPINGS) or e.func == "ordered":
            return text
        if e.func == "simplex":
            return f"{text}[:-1]"
        n = (mapped(e.func, self.g.shape_of(e.args[0])[0] or ()) or (0,))[0]
        offset = ", -1" if e.func == "corr_cholesky" else ""
        return f"{text}[jnp.tril_indices({n}{offset})]"



def _rightmost(own: tuple) -> bool:
    """A ``: batch`` draw's own dims inside plates are -K..-1, right of every plate's (no axis moves)."""
    return own == tuple(range(-len(own), 0))


def _int(text: str) -> str:
    """A slice bound: ``8.0`` → ``8`` (VG numbers are floats; a bound is a whole number)."""
    if not text:
        return text
    try:
        return str(int(float(text)))
    except ValueError:
        return f"int({text})"


def _num(x: float) -> str:
    return repr(int(x)) if x == int(x) else repr(x)


def _q(name: str) -> str:
    # VG names are identifiers and `as` site names printable without quote or backslash: neither needs escaping
    plain = name.isprintable() and '"' not in name and "\\" not in name
    return '"' + name + '"' if plain else repr(name)


def function_names(guide_names) -> dict[str, str]:
    """Guide name → Python function name (a ``_`` is appended where it would shadow a module name).

    A bare file's guide is named after the file, which the parser has not seen: Python NFKC-folds
    identifiers (``ｄｉｓｔ`` is ``dist``), so the name is folded here first, and one that is not a
    plain identifier after folding (a keyword, ``__dunder``) becomes ``guide``.
    """
    taken = set(MODULE_NAMES)
    out = {}
    for g in guide_names:
        n = unicodedata.normalize("NFKC", g)
        if not n.isidentifier() or keyword.iskeyword(n) or n.startswith("__"):
            n = "guide"
        while n in taken:
            n += "_"
        out[g] = n
        taken.add(n)
    return out


def function_name(guide_names, name: str) -> str:
    """The Python function that implements guide ``name``."""
    return function_names(guide_names)[name]


def generate(guides: list[C.GuideIR], source_name: str = "<string>") -> str:
    """The Python module for checked guides (call only when the checker reported no error)."""
    fnames = function_names([g.name for g in guides])
    taken = set(MODULE_NAMES) | set(fnames.values())
    uses: set[str] = set()
    body = Writer()
    for g in guides:
        names = NameMap(taken, set(g.symbols) | set(g.args or ()))
        gen = GuideGen(body, g, names, uses)
        body.line()
        body.line()
        gen.emit(fnames[g.name])
    return prelude(uses, source_name) + body.text()
