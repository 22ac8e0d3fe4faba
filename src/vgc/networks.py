"""Phase 2b: networks — ``net NAME = mlp(...)`` / ``module(ARG)`` declarations and their applications.

A network computes the *parameters* of draws (an amortized guide: a datum in, its local latent's location
and scale out). It is not invertible, so it never defines a transformed site's value (VG411). The checker
calls :func:`declare` for each ``net`` statement and :func:`apply` for each ``NAME(x)``; this module knows
an ``mlp``'s widths, its activation and its params (``NAME.w0``, ``NAME.b0``, ...), and nothing about code.
"""

from __future__ import annotations

from . import diagnostics as D
from . import nodes as N
from . import registry as R
from .nodes import Record
from .scope import did_you_mean
from .values import Val


class NetIR(Record):
    """A checked network. An ``mlp``: its ``sizes`` (the size expressions, input first) with ``widths`` (their
    constant values, None where a guide argument decides) and the hidden layers' activation ``act``. A
    ``module(ARG)``: ``module`` is ARG, the guide argument holding the Flax or Equinox module, whose widths
    are learned when the guide is traced (``sizes`` and ``widths`` empty)."""

    __slots__ = ("stmt", "sizes", "widths", "act", "module")
    stmt: N.Net
    sizes: tuple
    widths: tuple
    act: str
    module: str | None

    @property
    def name(self) -> str:
        return self.stmt.name

    @property
    def in_width(self) -> int | None:
        return self.widths[0] if self.widths else None

    @property
    def out_width(self) -> int | None:
        return self.widths[-1] if self.widths else None

    def params(self) -> list[tuple[str, tuple | None]]:
        """(NumPyro name, shape or None) of each param of an mlp, layer by layer: weights then bias. A module's
        one param, ``NAME$params`` (numpyro.contrib.module's name), is a tree of arrays of unknown shapes."""
        if self.module is not None:
            return [(f"{self.name}$params", None)]
        out = []
        for i, (m, n) in enumerate(zip(self.widths[:-1], self.widths[1:])):
            out.append((f"{self.name}.w{i}", (m, n) if m is not None and n is not None else None))
            out.append((f"{self.name}.b{i}", (n,) if n is not None else None))
        return out

    def num_params(self) -> int | None:
        """How many numbers an mlp learns (None when a width is a guide argument's)."""
        if self.module is not None or None in self.widths:
            return None
        return sum(m * n + n for m, n in zip(self.widths[:-1], self.widths[1:]))

    def describe(self) -> str:
        """``mlp 64 → 128 → 16, softplus, 10,320 params`` (for hover text and messages)."""
        if self.module is not None:
            return f"module({self.module}): a Flax or Equinox module, its widths known when the guide runs"
        widths = " → ".join("?" if w is None else str(w) for w in self.widths)
        count = self.num_params()
        return f"mlp {widths}, {self.act}" + (f", {count:,} params" if count is not None else "")


def declare(s: N.Net, x, r: D.Reporter, in_plate: bool) -> NetIR | None:
    """Check a ``net`` statement's right side (``x``: the expression checker); None when it is unusable."""
    if in_plate:
        r.report(D.NET_IN_PLATE, s.span,
                 f"network '{s.name}' is declared inside a plate: its weights would be one set per element",
                 "declare it at the guide's top level; applied inside a plate, it acts per element")
        return None
    spec = s.spec
    if not isinstance(spec, N.Call) or spec.func not in (R.MLP, R.MODULE):
        r.report(D.BAD_NET, spec.span, f"network '{s.name}' must be `mlp(SIZES..., act=ACT)` or `module(ARG)`",
                 "e.g. `net enc = mlp(64, 128, 16, act=softplus)`: 64 inputs, a hidden layer of 128, 16 outputs")
        return None
    if spec.func == R.MODULE:
        arg = spec.args[0] if len(spec.args) == 1 and not spec.kwargs else None
        sym = x.scope.lookup(arg.id) if isinstance(arg, N.Name) else None
        if sym is None or sym.kind.value != "arg":
            r.report(D.BAD_NET, spec.span, "module() takes one guide argument: the Flax or Equinox module",
                     f"pass the module to the guide as an argument: `guide g(x, {s.name}_module) {{ net {s.name} = "
                     f"module({s.name}_module) ... }}`")
            return None
        return NetIR(s, (), (), "", arg.id)
    ok = True
    act = "relu"
    for k in spec.kwargs:
        if k.name != "act":
            r.report(D.BAD_NET, k.span, f"mlp() has no option '{k.name}'",
                     did_you_mean(k.name, ["act"]) or "its only option is `act=ACT`, the hidden layers' activation")
            ok = False
        elif not isinstance(k.value, N.Name) or k.value.id not in R.ACTIVATIONS:
            got = k.value.id if isinstance(k.value, N.Name) else "this"
            r.report(D.UNKNOWN_ACTIVATION, k.value.span, f"unknown activation '{got}'",
                     did_you_mean(got, R.ACTIVATIONS) or "activations: " + ", ".join(R.ACTIVATIONS))
            ok = False
        else:
            act = k.value.id
    if len(spec.args) < 2:
        r.report(D.BAD_NET, spec.span, f"mlp() needs at least two sizes (inputs and outputs), got {len(spec.args)}",
                 "e.g. `mlp(64, 16)` is one linear layer; `mlp(64, 128, 16)` has a hidden layer of 128")
        return None
    widths = []
    for a in spec.args:
        v = x.value(a)
        widths.append(_width(a, v, x, r))
        ok = ok and widths[-1] is not False
    if not ok:
        return None
    return NetIR(s, spec.args, tuple(widths), act, None)


def _width(a: N.Expr, v: Val, x, r: D.Reporter):
    """A size's constant value, None for arithmetic of guide arguments, False (reported) otherwise."""
    if v.error:
        return False
    if v.const is not None and not isinstance(v.const, list):
        if float(v.const).is_integer() and v.const >= 1:
            return int(v.const)
        r.report(D.BAD_NET, a.span, f"a layer's size must be a whole number of at least 1, not {v.const:g}")
        return False
    syms = [x.scope.lookup(n) for n in N.names(a)]
    if syms and all(s is not None and s.kind.value == "arg" for s in syms) and v.shape in ((), None) and not v.params:
        return None  # arithmetic of guide arguments (`2 * k`, `len(x)`): known when the guide runs
    r.report(D.BAD_NET, a.span, "a layer's size must be a whole number, a guide argument or arithmetic of them",
             "sizes are fixed when the guide is built: not params, draws, lets or vectors")
    return False


def apply(e: N.Call, net: NetIR, arg: Val | None, r: D.Reporter) -> Val:
    """The value of ``NAME(x)``: the output vector, depending on the input's draws and on the network's
    params (named by the network itself, so a draw it parameterizes counts as learnable)."""
    if arg is None or e.kwargs or len(e.args) != 1:
        r.report(D.BAD_ARGS, e.span, f"network '{net.name}' takes one input vector, "
                 f"got {len(e.args) + len(e.kwargs)} argument{'s' * (len(e.args) + len(e.kwargs) != 1)}")
        return Val(None, error=True)
    if arg.shape is not None and len(arg.shape) != 1:
        r.report(D.NET_INPUT, e.args[0].span,
                 f"network '{net.name}' takes a vector, got shape {arg.shape}",
                 "make one vector of the inputs: `concat(a, [b])`")
        return Val.join(None, [arg], error=True)
    if arg.shape is not None and net.in_width is not None and arg.shape[0] != net.in_width:
        r.report(D.NET_INPUT, e.args[0].span,
                 f"network '{net.name}' takes {net.in_width} inputs (its first size), got a vector of "
                 f"{arg.shape[0]}", f"declare `net {net.name} = mlp({arg.shape[0]}, ...)` or pass "
                 f"{net.in_width} entries")
        return Val.join(None, [arg], error=True)
    shape = (net.out_width,) if net.out_width is not None else None
    out = Val.join(shape, [arg])
    return out._replace(params=out.params | {net.name})
