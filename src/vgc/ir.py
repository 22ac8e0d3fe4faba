"""The checked guide (IR) that the checker hands to code generation, the LSP and the model check.

A :class:`GuideIR` holds its statements as IR records in source order (a :class:`PlateIR` holds
the records of its body), the symbol table, and which draws a transform consumed. :func:`sites`
lists every NumPyro site the guide will create, with its shapes and plates: nothing downstream
re-derives them.
"""

from __future__ import annotations

import enum
import sys
from typing import ClassVar

from . import nodes as N
from .nodes import Record
from .shapes import DistShape, Layout, PlateDim, Shape


class Kind(enum.Enum):
    """What a name is bound to."""

    PARAM = "param"
    RANDOM = "random"  # a `~` draw
    LATENT = "latent"  # a target of a transform
    LET = "let"
    ARG = "arg"  # a model argument
    NET = "net"  # a network (`net NAME = mlp(...)`): applied, never a value
    BROKEN = "broken"  # defined by a statement that did not parse


class Sym:
    """A name in a guide: what it is, its per-element shape, what it depends on, where it lives."""

    __slots__ = ("batch", "const", "const_low", "constraint", "consumed_at", "defn", "error", "expanded", "kind",
                 "name", "params", "plates", "quiet", "randoms", "shape", "span", "used", "varies")

    def __init__(self, name: str, kind: Kind, span: N.Span, shape: Shape, params: frozenset = frozenset(),
                 randoms: frozenset = frozenset(), *, constraint: str = "real", const: object = None,
                 defn: N.Expr | None = None, used: bool = False, quiet: bool = False, const_low: object = None,
                 expanded=None, error: bool = False, plates: tuple[str, ...] = (), varies: frozenset = frozenset(),
                 batch: int = 0):
        self.name = name
        self.kind = kind
        self.span = span
        self.shape = shape
        self.params = params
        self.randoms = randoms
        self.constraint = constraint
        self.const = const
        self.defn = defn  # for lets: substituted into transforms
        self.consumed_at: int | None = None  # the line of the transform that consumed this draw
        self.used = used
        self.quiet = quiet  # involved in a rejected statement: no follow-on warnings
        self.const_low = const_low  # a param's constant lower bound (greater_than, interval)
        self.expanded = expanded  # for lets: transforms.Size of the definition with lets substituted
        self.error = error  # for lets: an error was reported in the definition
        self.plates = plates  # the plates open where it is defined (it is visible only inside them)
        self.varies = varies  # the plates its value varies over (a let of global values: none)
        # a `: batch` draw, or a latent transformed from them: how many of its leftmost dimensions are batch
        # dimensions (0: none; all of them for `: batch`), one value per batch entry
        self.batch = batch

    @property
    def is_random(self) -> bool:
        """A draw or a transformed latent: a value that changes every time the guide runs."""
        return self.kind is Kind.RANDOM or self.kind is Kind.LATENT


# ---------------------------------------------------------------- records


class DistIR(Record):
    """A primitive distribution call with arguments matched to NumPyro's names."""

    __slots__ = ("family", "args", "kwargs", "batch", "event")
    family: str
    args: tuple[N.Expr, ...]
    kwargs: tuple[tuple[str, N.Expr], ...]
    batch: Shape
    event: Shape

    @property
    def shape(self) -> Shape:
        """Shape of one draw (batch dimensions become event dimensions)."""
        return DistShape(self.batch, self.event).shape


class MixIR(Record):
    """``Mix(...)``: same-family (``components`` has one entry) or general, and its weights."""

    __slots__ = ("weights", "components", "k", "pm", "shape")
    weights: N.Expr | None
    components: tuple[DistIR, ...]
    k: int
    pm: bool  # the single component's ± makes the two components
    shape: Shape


class PlateSize(Record):
    """A plate's size: a whole number, a guide argument, or ``len(ARG)``."""

    __slots__ = ("const", "arg", "length_of")
    _defaults: ClassVar[dict] = {"const": None, "arg": None, "length_of": False}
    const: int | None
    arg: str | None
    length_of: bool  # len(arg)


class PlateIR(Record):
    """``plate NAME(SIZE, subsample=K, dim=D) { ... }`` and its checked body."""

    __slots__ = ("stmt", "size", "subsample", "dim", "explicit_dim", "layout", "items")
    stmt: N.Plate
    size: PlateSize
    subsample: PlateSize | None
    dim: int
    explicit_dim: bool
    layout: Layout  # this plate and the plates around it
    items: list

    @property
    def info(self) -> PlateDim:
        """The plate as the shapes see it."""
        return self.layout.plates[-1]


class ParamIR(Record):
    """``numpyro.param``: init is an Expr, or None for the constraint's default."""

    __slots__ = ("stmt", "shape", "constraint", "constraint_args", "layout")
    _defaults: ClassVar[dict] = {"layout": Layout()}
    stmt: N.Param
    shape: Shape
    constraint: str
    constraint_args: tuple[N.Expr, ...]
    layout: Layout


# A `: batch` draw of a distribution whose batch shape is known only at run time keeps all its batch dimensions,
# however many: as a count of kept dimensions, slicing a shape by it keeps the whole shape.
ALL_BATCH_DIMS = sys.maxsize


class SampleIR(Record):
    """``numpyro.sample`` of a base distribution (auxiliary when a transform consumes it: GuideIR.auxiliary);
    ``batch``: for a ``: batch`` draw, how many of its distribution's batch dimensions it keeps (the rest, and
    all of them for other draws, become event dimensions)."""

    __slots__ = ("stmt", "dist", "layout", "batch")
    _defaults: ClassVar[dict] = {"layout": Layout(), "batch": 0}
    stmt: N.Sample
    dist: DistIR | MixIR
    layout: Layout
    batch: int


class TransformIR(Record):
    """Latent ``Delta`` sites defined by a transform and its log-Jacobian plan (a transforms.Plan);
    ``batch``: per entry of ``: batch`` draws, how many of the value's leftmost dimensions are their batch
    dimensions (the rest are the ``Delta``'s event dimensions; a log-density per entry)."""

    __slots__ = ("stmt", "shape", "plan", "layout", "batch")
    _defaults: ClassVar[dict] = {"layout": Layout(), "batch": 0}
    stmt: N.Assign
    shape: Shape
    plan: object
    layout: Layout
    batch: int


class LetIR(Record):
    """A local value."""

    __slots__ = ("stmt", "layout")
    _defaults: ClassVar[dict] = {"layout": Layout()}
    stmt: N.Let
    layout: Layout


class GuideIR:
    """One checked guide, ready for code generation."""

    __slots__ = ("args", "auxiliary", "head", "indexed", "info", "items", "name", "net_lines", "nets", "site_names",
                 "supports", "symbols")

    def __init__(self, name: str, args: tuple[str, ...] | None, head: N.Span | None = None):
        self.name = name
        self.args = args
        self.head = head or N.Span(1, 1, 1, 1)  # the guide's name (or a bare file's first statement)
        self.items: list = []
        self.symbols: dict[str, Sym] = {}
        self.auxiliary: set[str] = set()  # draws consumed by a transform
        self.indexed: set[int] = set()  # id() of the plates (N.Plate) whose indices `ARG[NAME]` reads
        # id(expr) -> (expr, per-element shape, plates it varies over) for every expression the checker
        # evaluated: codegen lays out batched arrays from it instead of re-deriving shapes
        self.info: dict[int, tuple] = {}
        # name -> supports.Support of every param, draw and transformed latent (one value's entries)
        self.supports: dict[str, object] = {}
        self.nets: dict[str, object] = {}  # name -> networks.NetIR of each declared network
        self.net_lines: dict[str, int] = {}  # name -> line of every top-level `net` (applied before it: VG215)
        self.site_names: dict[str, str] = {}  # VG name -> NumPyro site name, where `as "SITE"` gives one

    def site(self, name: str) -> str:
        """The NumPyro name of the site VG calls ``name`` (the same unless ``as "SITE"`` renames it)."""
        return self.site_names.get(name, name)

    def walk(self):
        """Every IR record, plates before their bodies, in source order."""
        stack = list(reversed(self.items))
        while stack:
            it = stack.pop()
            yield it
            if isinstance(it, PlateIR):
                stack.extend(reversed(it.items))

    def shape_of(self, e: N.Expr) -> tuple[Shape, frozenset]:
        """The per-element shape and the plates of an expression the checker evaluated."""
        got = self.info.get(id(e))
        if got is None or got[0] is not e:
            return None, frozenset()
        return got[1], got[2]


# ---------------------------------------------------------------- sites


class SiteKind(enum.Enum):
    """What NumPyro primitive a site is."""

    PARAM = "param"
    DRAW = "sample"  # numpyro.sample of a distribution
    DELTA = "delta"  # numpyro.sample of a Delta (a transformed latent)


class Site(Record):
    """One site the guide creates, as the model check and the LSP see it."""

    __slots__ = ("name", "kind", "event_shape", "event_dim", "layout", "auxiliary", "span", "name_span", "batch_dims",
                 "support", "site")
    _defaults: ClassVar[dict] = {"batch_dims": (), "support": None, "site": None}
    name: str  # the VG name; ``site`` is the NumPyro name (the trace's, --out's, reports')
    kind: SiteKind
    event_shape: Shape  # one element's shape
    event_dim: int | None
    layout: Layout  # the plates (names, dims, sizes) around it
    auxiliary: bool
    span: N.Span  # the statement that defines it
    name_span: N.Span
    batch_dims: tuple | None  # the sizes of a `: batch` draw's own batch dimensions (see batch_axes)
    support: object  # supports.Support: where its values lie (each entry, for a vector)
    site: str  # the NumPyro name: ``name`` unless ``as "SITE"`` gives another

    @property
    def plates(self) -> tuple[str, ...]:
        """The names of the plates around the site, outermost first."""
        return tuple(p.name for p in self.layout.plates)

    @property
    def batch_shape(self) -> tuple | None:
        """The batch shape of one run of the guide (a subsampled plate gives its subsample size), when every
        size is a constant (size-1 axes where no plate is)."""
        if self.batch_dims is None:
            return None
        sizes = {p.name: p.step_size for p in self.layout.plates}
        axes = self.batch_axes()
        if any(isinstance(a, str) and sizes[a] is None for a in axes):
            return None
        return tuple(1 if a is None else self.batch_dims[a] if isinstance(a, int) else sizes[a] for a in axes)

    def batch_axes(self) -> list[str | int | None]:
        """NumPyro's batch axes of the site, left to right: a plate's name, the index of one of its own
        ``batch_dims``, or None (a size-1 axis). Outside plates its own dimensions are all of them; inside,
        a ``: batch`` draw's take the rightmost dims no plate takes (:meth:`vgc.shapes.Layout.own_dims`)."""
        return self.layout.site_axes(len(self.batch_dims or ()))


def sites(guide: GuideIR) -> list[Site]:
    """Every site of a checked guide, in source order."""
    out = []
    for it in guide.walk():
        if type(it).__name__ == "NetIR":  # networks.NetIR (that module imports this one)
            for pname, shape in it.params():
                out.append(Site(pname, SiteKind.PARAM, shape, None if shape is None else len(shape), Layout(),
                                False, it.stmt.span, it.stmt.name_span, (), guide.supports.get(pname), pname))
        elif isinstance(it, ParamIR):
            s = it.stmt
            out.append(Site(s.name, SiteKind.PARAM, it.shape, None if it.shape is None else len(it.shape),
                            it.layout, False, s.span, s.name_span, (), guide.supports.get(s.name), guide.site(s.name)))
        elif isinstance(it, SampleIR):
            s, shape, batch = it.stmt, it.dist.shape, ()
            if it.batch and it.dist.batch is None:
                shape, batch = it.dist.event, None
            elif it.batch:
                batch, shape = it.dist.batch[:it.batch], it.dist.batch[it.batch:] + it.dist.event
            out.append(Site(s.name, SiteKind.DRAW, shape, None if shape is None else len(shape), it.layout,
                            s.name in guide.auxiliary, s.span, s.name_span, batch, guide.supports.get(s.name),
                            guide.site(s.name)))
        elif isinstance(it, TransformIR):
            s = it.stmt
            shape, batch = () if s.is_list else it.shape, ()
            if it.batch and it.shape is not None:
                shape, batch = it.shape[it.batch:], it.shape[:it.batch]
            for t in s.targets:
                out.append(Site(t.id, SiteKind.DELTA, shape, None if shape is None else len(shape), it.layout,
                                False, s.span, t.span, batch, guide.supports.get(t.id), guide.site(t.id)))
    return out
