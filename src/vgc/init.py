"""``vgc init --model``: a starting guide in VG for a NumPyro model (AutoNormal's family, written out).

The model is traced once with every latent set to its prior median (NumPyro's ``init_to_median``, as
AutoNormal starts, from 101 draws instead of 15). The guide opens the model's plates (names, sizes from
the arguments where one matches, subsample sizes, dims) and gives every latent a learnable draw mapped
onto its support:

* real → ``x ~ Normal(x_loc, x_scale)``;
* positive, greater_than(a), less_than(b), unit_interval, interval(a, b) → a Normal draw ``x_raw`` and
  ``x = exp(x_raw)``, ``a + exp(x_raw)``, ``b - exp(x_raw)``, ``sigmoid(x_raw)``, ``a + (b - a) * sigmoid(x_raw)``
  (the maps NumPyro's ``biject_to`` uses, so the family is AutoNormal's);
* ordered, lower Cholesky, correlation Cholesky → ``ordered``, ``lower_cholesky``, ``corr_cholesky`` of a
  Normal vector;
* simplex → ``x ~ Dirichlet(x_conc)`` with a positive concentration param of the site's whole shape (a batch
  of simplexes outside plates is ``: batch``; a ``.to_event(k)`` of one is a Dirichlet of the whole event).

Batch dimensions that no plate declares make a ``: batch`` draw, or a ``: batch(K)`` draw when event
dimensions follow them (a batch of vectors, of Cholesky factors, of ordered vectors); inside plates they are
the dims no plate takes, right or left of a plate's, where VG's per-element draw puts them.

Locations start as AutoNormal's do (NumPyro's default ``init_to_uniform``): ``param x_loc[...] =
uniform(-2, 2)``, drawn when SVI starts in the unconstrained space, every entry and plate element its own
draw, so no long literal is written and the starting guide is AutoNormal's start in law (prior medians
pinned random walks and saturated decoders: issue 20's measurements are in docs/models.md). Scales start at
0.1 (AutoNormal's ``init_scale``) and are ``softplus_positive`` (AutoNormal's ``scale_constraint``), so the
guide is AutoNormal's parametrization too. A site whose NumPyro name is not a VG name (``"lambda"``,
``"trend/alpha"``) gets a VG name and ``as "SITE"``.
The text is formatted as ``vgc fmt`` would and checked against the model before it is returned.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import NamedTuple

from . import compiler
from .diagnostics import render
from .fmt import format_source
from .modelcheck import ModelError, ModelSite, Traced, _one_line, check, discrete_text, family_name, from_trace
from .registry import name_problem, vg_spelling

__all__ = ["ModelError", "write_guide"]

INIT_SCALE = 0.1  # AutoNormal's default
# AutoNormal's scale_constraint: Adam steps the scale's softplus preimage, not its log. From the same start the
# two maps part ways where the guide is fitted together with the model's own networks (cvae-flax, 8 seeds:
# exp ends 14.2 nats above AutoNormal on average, softplus 0.2; docs/models.md).
SCALE_CONSTRAINT = "softplus_positive"
MEDIAN_SAMPLES = 101  # AutoNormal's init_to_median takes 15 draws; more put the start nearer the median
DIRICHLET_TOTAL = 50.0  # the starting concentration's sum: a Dirichlet about as tight as AutoNormal's start
# A Dirichlet's starting concentrations are at least 1: below, its float32 draws reach 0 exactly (a prior median
# of a sparse Dirichlet, 0.1 I + 0.9 rows, started some at 0.05), the model's log(0) is -inf and SVI's gradient NaN.
MIN_CONCENTRATION = 1.0
# Inside plates a Dirichlet's elements start apart, each at its own concentrations exp(U(c - 0.5, c + 0.5)) about
# c = log(DIRICHLET_PLATE_TOTAL / K). From one shared start the rows of Dawid-Skene's confusion matrices (a class
# per row, the classes unlabelled) start alike, and from DIRICHLET_TOTAL's tight start they separate slowly:
# 372.8 against AutoNormal's 368.4 after 1000 steps (seed 0). A total of 30 gives 368.0; 20 gives 367.3 but
# costs MACE's per-annotator profiles 2.2 nats against a start at their prior (339.8 vs 337.6); 30 costs 0.8.
DIRICHLET_PLATE_TOTAL = 30.0
DIRICHLET_SPREAD = 0.5
MAX_LITERAL = 16  # a Dirichlet's starting concentration is written out up to this many numbers, else one number
RANDOM_START = "uniform(-2, 2)"  # NumPyro's init_to_uniform (radius 2), AutoNormal's default start


def _num(x: float) -> str:
    """A VG number literal with 4 significant digits (negative numbers as unary minus)."""
    x = float(x)
    if not math.isfinite(x):
        x = 0.0
    text = f"{abs(x):.4g}"
    if "e" not in text and "." not in text:
        text += ".0"
    return ("-" if x < 0 else "") + text


def _exact(x: float) -> str:
    """A bound, to the last digit (a rounded bound would fall outside the model's support)."""
    x = float(x)
    return ("-" if x < 0 else "") + repr(abs(x))


def _vector(values) -> str:
    return "[" + ", ".join(_num(v) for v in values) + "]"


def _nested(values) -> str:
    """A literal of any rank: a number, a vector, a matrix of rows, ..."""
    import numpy as np

    a = np.asarray(values, dtype=float)
    if a.ndim == 0:
        return _num(float(a))
    return "[" + ", ".join(_nested(row) for row in a) + "]"


def _medians(model: Callable, args: tuple, kwargs: dict) -> tuple[Traced, dict, dict]:
    """The model's sites with every latent at its prior median given its parents' medians (the median of
    its draws in the unconstrained space, mapped back), and those draws, by site."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from numpyro import handlers
    from numpyro.distributions import biject_to

    from .modelcheck import family

    draws: dict = {}

    def at_median(site):
        if site["type"] != "sample" or site["is_observed"] or site["fn"].is_discrete:
            return None
        fn = site["fn"]
        shape = (MEDIAN_SAMPLES, *site["kwargs"].get("sample_shape", ()))
        if family(fn) == "ImproperUniform":
            # No prior to draw from (NumPyro's CircularReparam leaves one per von Mises latent: ssbvm_mixture.py),
            # so no median: NumPyro's autoguides start such a site with init_to_uniform, uniform(-2, 2) in the
            # unconstrained space, whose median is 0 there, the point modelcheck gives it too.
            t = biject_to(fn.support)
            u = jax.random.uniform(site["kwargs"].get("rng_key"), t.inverse_shape(shape + fn.shape()), minval=-2,
                                   maxval=2)
            draws[site["name"]] = np.asarray(u)
            return t(jnp.median(u, axis=0))
        samples = fn(sample_shape=shape, rng_key=site["kwargs"].get("rng_key"))
        try:
            t = biject_to(fn.support)
            draws[site["name"]] = u = np.asarray(t.inv(samples))
            return t(jnp.median(u, axis=0))
        except Exception:  # a support without a bijection: vgc init reports it when it reaches the site
            return jnp.median(samples, axis=0)

    try:
        with handlers.trace() as tr:
            handlers.substitute(handlers.seed(model, rng_seed=0), substitute_fn=at_median)(*args, **kwargs)
    except BaseException as e:  # the user's model: whatever it raises is one line (as in modelcheck.trace_model)
        if isinstance(e, KeyboardInterrupt):
            raise
        where = getattr(getattr(model, "__code__", None), "co_filename", None)
        raise ModelError(f"the model raised {_one_line(e, where)}") from None
    return from_trace(tr), tr, draws


def _size_text(size: int, args: dict) -> str:
    """A plate size, named after an argument when one holds it (``J``, ``len(y)``)."""
    import numpy as np

    for name, value in args.items():
        if isinstance(value, int | np.integer) and not isinstance(value, bool) and int(value) == size:
            return name
    for name, value in args.items():
        shape = getattr(value, "shape", None)
        if shape is not None and len(shape) >= 1 and shape[0] == size:
            return f"len({name})"
    return str(size)


def _bounds(site: ModelSite, fn) -> tuple[float, float]:
    """The site's interval bounds, the same for every entry (else vgc cannot write one map)."""
    import numpy as np

    c = fn.support
    while hasattr(c, "base_constraint"):
        c = c.base_constraint
    lo = np.asarray(getattr(c, "lower_bound", -np.inf), dtype=float)
    hi = np.asarray(getattr(c, "upper_bound", np.inf), dtype=float)
    if (lo.size > 1 and not np.all(lo == lo.reshape(-1)[0])) or (hi.size > 1 and not np.all(hi == hi.reshape(-1)[0])):
        raise ModelError(f"vgc init cannot map '{site.name}': its support's bounds differ from entry to entry")
    return float(lo.reshape(-1)[0]), float(hi.reshape(-1)[0])


def write_guide(model: Callable, args: tuple = (), kwargs: dict | None = None, name: str | None = None,
                source: str = "", amortize: bool = False) -> str:
    """VG source of a starting guide for ``model`` called with ``args``/``kwargs`` (``source`` names the model
    in the header comment); raises :class:`ModelError` when the model fails or has a latent vgc cannot map
    (discrete, or a support without a VG map). ``amortize``: the local latents of each subsampled plate get
    their locations and scales from an ``mlp`` of the datum the plate observes (see :func:`_amortized`)."""
    kwargs = dict(kwargs or {})
    traced, tr, draws = _medians(model, args, kwargs)
    w = _GuideWriter(model, args, kwargs, traced, tr, draws)
    if amortize:
        w.encoders = _amortized(w)
    w.enumerated([s for s in traced.sites.values() if s.kind == "latent" and s.enumerated])
    for site in traced.sites.values():
        if site.kind == "latent" and not site.auxiliary and not site.enumerated:
            w.enter(site)
            w.latent(site)
    w.enter(None)
    doc = ("# A starting guide" + (f" for {source}" if source else "") + ", written by `vgc init`: every latent\n"
           "# of the model gets a learnable draw mapped onto its support (AutoNormal's family).\n"
           + ("# The local latents of subsampled plates are amortized: a network of the datum gives\n"
              "# their parameters (see each net's comment).\n" if w.encoders else "")
           + "# Give it structure, then check it with `vgc check --model`.\n")
    nets = [f"net {e.net} = mlp({', '.join(map(str, e.sizes))}, act=softplus)  # {p}'s datum -> {e.gives}"
            for p, e in w.encoders.items()]
    w.lines[:0] = [f"  {line}" for line in nets]
    gname = name or (getattr(model, "__name__", "model") + "_guide")
    header = f"guide {gname}" + (f"({', '.join(w.arg_names)})" if w.arg_names is not None else "") + " {"
    text = doc + header + "\n" + "\n".join(w.lines) + "\n}\n"
    formatted = format_source(text, "keep", "<init>")
    if formatted.text is None:
        raise ModelError("vgc init wrote a guide it cannot format (a bug in vgc):\n"
                         + render(formatted.diagnostics, text))
    text = formatted.text
    result = compiler.run(text, "<init>")
    found = result.diagnostics if not result.ok else result.diagnostics + check(result, model, args, kwargs)
    if any(d.is_error for d in found):
        raise ModelError("vgc init wrote a guide that does not pass its own check (a bug in vgc):\n"
                         + render(found, text))
    return text


class _GuideWriter:
    """The body of the guide, site by site: the plates it opens and closes, and each latent's lines."""

    def __init__(self, model: Callable, args: tuple, kwargs: dict, traced: Traced, tr: dict, draws: dict):
        self.traced, self.tr, self.draws = traced, tr, draws
        try:
            params = list(inspect.signature(model).parameters.values())
        except (TypeError, ValueError):
            params = []
        plain = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY, p.KEYWORD_ONLY) for p in params)
        # The guide takes the model's arguments (None: the model takes *args/**kwargs, so the guide does too).
        self.arg_names = [p.name for p in params] if plain else None
        self.given: dict = {}  # the arguments of this call, which plate sizes may name
        if self.arg_names is not None:
            self.given = dict(zip(self.arg_names, args))
            self.given.update({k: v for k, v in kwargs.items() if k in self.arg_names})
        self.taken = set(traced.sites) | set(traced.plates) | set(self.arg_names or ())
        self.lines: list[str] = []
        self.open: list[tuple[str, int]] = []  # (name, dim) of the open plates, outermost first
        self.encoders: dict[str, Encoder] = {}  # subsampled plate -> its amortizing network (--amortize)
        self.slots: dict[str, tuple[int, int]] = {}  # amortized latent -> (offset, width) of its location
        self.vg_names: dict[str, str] = {}  # a model site's NumPyro name -> its VG name

    def line(self, text: str) -> None:
        self.lines.append("  " * (len(self.open) + 1) + text)

    def fresh(self, base: str) -> str:
        n, i = base, 2
        while n in self.taken:
            n, i = f"{base}{i}", i + 1
        self.taken.add(n)
        return n

    def vg_name(self, site: str) -> tuple[str, str]:
        """The VG name of a model site and the ``as "SITE"`` it needs ("" when the site's name is a VG name):
        ``"lambda"`` → ``lambda_``, ``"trend/alpha"`` → ``trend_alpha``, unique among the guide's names."""
        if site in self.vg_names:
            return self.vg_names[site], "" if self.vg_names[site] == site else f' as "{site}"'
        if _is_vg_name(site):
            self.vg_names[site] = site
            return site, ""
        if not site or not site.isprintable() or '"' in site or "\\" in site or site != site.strip():
            raise ModelError(f"vgc init cannot write a guide for {site!r}: VG's `as \"SITE\"` cannot spell a name "
                             "that is empty, has spaces at an end, a quote, a backslash or characters that do not "
                             "print; rename the site in the model")
        self.vg_names[site] = name = self.fresh(vg_spelling(site))
        return name, f' as "{site}"'

    def size(self, n: int) -> str:
        return _size_text(n, self.given) if self.arg_names is not None else str(n)

    def enter(self, site: ModelSite | None) -> None:
        """Close the open plates the site is not in, open those it is in (None: close them all)."""
        want = list(site.plates) if site is not None else []
        k = 0
        while k < len(self.open) and k < len(want) and self.open[k][0] == want[k][0]:
            k += 1
        while len(self.open) > k:
            self.open.pop()
            self.line("}")
        for pname, pdim in want[k:]:
            mp = self.traced.plates[pname]
            auto = -1  # the dim VG would allocate: the rightmost free one, as NumPyro does
            while auto in [d for _, d in self.open]:
                auto -= 1
            opts = "" if mp.subsample == mp.size else f", subsample={self.size(mp.subsample)}"
            opts += "" if pdim == auto else f", dim={pdim}"
            vg, named = self.vg_name(pname)  # a scoped plate, "trend/basis": `plate trend_basis(M) as "trend/basis"`
            self.line(f"plate {vg}({self.size(mp.size)}{opts}){named} {{")
            self.open.append((pname, pdim))
            enc = self.encoders.get(pname)
            if enc is not None:  # the network's output for this step's elements, sliced by the latents below
                self.line(f"{enc.out} = {enc.net}({enc.datum})")

    def enumerated(self, found: list[ModelSite]) -> None:
        """A comment line per site the model enumerates (the guide has none for it); a run of more than four
        alike (the states of an HMM) on one line."""
        import numpy as np

        groups: dict[tuple, list[ModelSite]] = {}
        for site in found:
            fn = self.tr[site.name]["fn"]
            k = len(set(np.asarray(fn.enumerate_support(expand=False)).reshape(-1).tolist()))
            groups.setdefault((family_name(site.family), k, site.plates), []).append(site)
        for (family, k, plates), sites in groups.items():
            names = [s.name for s in sites]
            which = f"{names[0]}, ..., {names[-1]} ({len(names)} sites)" if len(names) > 4 else ", ".join(names)
            where = f" in {', '.join(p for p, _ in plates)}" if plates else ""
            self.line(f"# {which}: {family}, {k} values{where}: the model enumerates and sums "
                      f"{'it' if len(names) == 1 else 'them'} out (TraceEnum_ELBO); no guide site")

    def amortized(self, site: ModelSite, fn, kind: str) -> None:
        """A local latent whose location and scale are its plate's network's outputs (``h[i]``, ``exp(h[j])``);
        a simplex is a Dirichlet whose concentration is ``exp`` of the outputs (NumPyro's prodlda guide)."""
        enc = self.encoders[site.plates[0][0]]
        offset, width = self.slots[site.name]
        if kind == "simplex":
            vg, named = self.vg_name(site.name)
            self.line(f"{vg} ~ Dirichlet(exp({enc.out}[{offset}:{offset + width}])){named}")
            return
        if site.event_shape:
            loc, scale = f"{enc.out}[{offset}:{offset + width}]", f"{enc.out}[{offset + width}:{offset + 2 * width}]"
        else:
            loc, scale = f"{enc.out}[{offset}]", f"{enc.out}[{offset + 1}]"
        vg, named = self.vg_name(site.name)
        if site.support.name() == "real":
            self.line(f"{vg} ~ Normal({loc}, exp({scale})){named}")
            return
        raw = self.fresh(f"{vg}_raw")
        self.line(f"{raw} ~ Normal({loc}, exp({scale}))")
        self.line(f"{vg} = {_map(site, fn, raw)}{named}")

    def latent(self, site: ModelSite) -> None:
        """A learnable draw for one latent, mapped onto its support."""
        import numpy as np

        if site.discrete:
            message, hint = discrete_text(site)
            raise ModelError(f"vgc init cannot write a guide for '{site.name}': {message}; {hint}")
        fn = self.tr[site.name]["fn"]
        kind = site.support.kind if site.support is not None else None
        suffix, batch = self.draw_batch(site, kind)  # batch dimensions of the draw's own: `: batch`, `: batch(K)`
        elem = batch + tuple(site.event_shape)
        if batch and site.name in self.slots:
            raise ModelError(f"vgc init --amortize cannot amortize '{site.name}': it has batch dimensions {batch} of "
                             "its own inside its plates; write its guide without --amortize")
        value = np.asarray(self.tr[site.name]["value"], dtype=float)
        support = site.support.name() if site.support is not None else "unknown"
        where = f" in {', '.join(p for p, _ in site.plates)}" if site.plates else ""
        self.line(f"# {site.name}: {site.family}, support {support}, shape {tuple(value.shape)}{where}")
        if kind == "simplex" and site.name in self.slots:
            self.amortized(site, fn, kind)
            return
        if kind == "simplex":
            self.simplex(site, value, elem, suffix)
            return
        if kind not in ("interval", "ordered_vector", "lower_cholesky", "corr_cholesky"):
            raise ModelError(f"vgc init cannot write a guide for '{site.name}': support {support} has no VG map yet")
        unconstrained = self.draws[site.name]  # (draws, *batch, *unconstrained event)
        if site.name in self.slots:
            self.amortized(site, fn, kind)
            return
        if kind != "interval":  # the unconstrained vector is shorter than the value
            elem = batch + unconstrained.shape[1 + len(site.batch_shape):]
        shape = f"[{', '.join(str(d) for d in elem)}]" if elem else ""
        base = self.vg_name(site.name)[0]
        loc, scale = self.fresh(f"{base}_loc"), self.fresh(f"{base}_scale")
        self.line(f"param {loc}{shape} = {RANDOM_START}")
        self.line(f"param {scale}{shape} = {_num(INIT_SCALE)} : {SCALE_CONSTRAINT}")
        vg, named = self.vg_name(site.name)
        if kind == "interval" and site.support.name() == "real":
            self.line(f"{vg} ~ Normal({loc}, {scale}){suffix}{named}")
            return
        raw = self.fresh(f"{vg}_raw")
        self.line(f"{raw} ~ Normal({loc}, {scale}){suffix}")
        self.line(f"{vg} = {_map(site, fn, raw)}{named}")

    def draw_batch(self, site: ModelSite, kind: str | None) -> tuple[str, tuple]:
        """The site's batch dimensions that no plate declares, as the draw writes them, and their sizes:
        ``("", ())`` (none), ``(" : batch", sizes)`` (no event dimensions but a Dirichlet's own) or
        ``(" : batch(K)", sizes)`` (K batch dimensions before event dimensions). Inside plates they are the
        dims no plate takes from -1 to the leftmost undeclared one, where VG's per-element draw puts them
        (vgc.shapes.Layout.own_dims)."""
        shape, event = tuple(site.batch_shape), tuple(site.event_shape)
        dims = {d for _, d in site.plates}
        # Batch dimensions that no plate declares (a size-1 dimension is a plate's broadcast, not one of them).
        unplated = [i for i in range(-len(shape), 0) if i not in dims and shape[i] != 1]
        if not (unplated if site.plates else shape):
            return "", ()
        # the draw's own: outside plates all of them (size 1 too), inside every dim no plate takes from its
        # leftmost undeclared one to -1 (a size-1 one between them too: the draw's own dims are contiguous there)
        own = [i for i in range(min(unplated), 0) if i not in dims] if site.plates else range(-len(shape), 0)
        sizes = tuple(shape[i] for i in own)
        if not event or (kind == "simplex" and len(event) == 1):  # `x ~ Normal(l, s) : batch`, `Dirichlet(c) : batch`
            return " : batch", sizes
        # `Normal(jnp.zeros((3, 2)), 1).to_event(1)`, LKJCholesky(3).expand([4])
        return f" : batch({len(sizes)})", sizes

    def simplex(self, site: ModelSite, value, elem: tuple, suffix: str) -> None:
        """A Dirichlet draw with a learnable positive concentration of the site's whole per-element shape (a batch
        of simplexes or a ``.to_event(k)`` of one is a concentration matrix: VG's Dirichlet of a matrix is
        rows of simplexes, all event dimensions, or batch dimensions with ``: batch`` or ``: batch(K)``). The start: the
        prior medians' proportions with sum ``DIRICHLET_TOTAL`` per simplex, written out when that takes at most
        ``MAX_LITERAL`` numbers, else even proportions (one number); inside plates, random concentrations per
        element (``uniform(lo, hi) : positive``, see ``DIRICHLET_PLATE_TOTAL``)."""
        import numpy as np

        vg, named = self.vg_name(site.name)
        conc = self.fresh(f"{vg}_conc")
        if site.plates:  # one start for every element would make them alike (see DIRICHLET_PLATE_TOTAL)
            centre = math.log(DIRICHLET_PLATE_TOTAL / elem[-1])
            low, high = max(centre - DIRICHLET_SPREAD, math.log(MIN_CONCENTRATION)), centre + DIRICHLET_SPREAD
            text = f"uniform({_num(low)}, {_num(high)})"
        else:
            probs = np.median(value.reshape((-1, *elem)), axis=0)
            probs = probs / probs.sum(axis=-1, keepdims=True)
            start = np.maximum(DIRICHLET_TOTAL * probs, MIN_CONCENTRATION)
            text = _nested(start) if start.size <= MAX_LITERAL else _num(DIRICHLET_TOTAL / elem[-1])
        self.line(f"param {conc}[{', '.join(map(str, elem))}] = {text} : positive")
        self.line(f"{vg} ~ Dirichlet({conc}){suffix}{named}")


class Encoder(NamedTuple):
    """The network that amortizes a subsampled plate's local latents: its name, the value it computes per
    element (``h``), the datum it reads (``y[data]``, or ``[y[data]]`` for a scalar datum) and its sizes."""

    net: str
    out: str
    datum: str
    sizes: tuple[int, ...]
    gives: str = "locations, log-scales"  # what its outputs are, for the comment beside it


HIDDEN = 32  # the encoder's hidden width: enough for a location-scale map of a low-dimensional datum


def _amortized(w: _GuideWriter) -> dict[str, Encoder]:
    """For each subsampled plate, an ``mlp`` from the datum it observes (the argument whose rows at the plate's
    indices are an observed site's value) to the location and the log-scale of each local latent drawn only in
    that plate with a real or interval support, and to the log-concentration of each simplex (the others keep
    their per-element params). Records each latent's slot in ``w.slots``."""
    import numpy as np

    out: dict[str, Encoder] = {}
    for pname, plate in w.traced.plates.items():
        if plate.subsample == plate.size or w.arg_names is None:
            continue
        idx = np.asarray(w.tr[pname]["value"])
        datum = None
        for site in w.traced.sites.values():
            if site.kind != "observed" or pname not in [p for p, _ in site.plates]:
                continue
            value = np.asarray(w.tr[site.name]["value"])
            for arg, given in w.given.items():
                a = np.asarray(given) if hasattr(given, "shape") else None
                if a is not None and a.ndim in (1, 2) and len(a) == plate.size and \
                        a[idx].shape == value.shape and np.allclose(a[idx], value):
                    datum = (arg, a.shape[1:])
                    break
            if datum:
                break
        if datum is None:
            continue
        offset = 0
        for site in w.traced.sites.values():
            local = site.kind == "latent" and not site.enumerated and not site.auxiliary and \
                [p for p, _ in site.plates] == [pname]
            kind = site.support.kind if local and site.support is not None else None
            if kind == "interval" and len(site.event_shape) <= 1:
                width = int(np.prod(site.event_shape)) if site.event_shape else 1
                w.slots[site.name] = (offset, width)
                offset += 2 * width
            elif kind == "simplex" and len(site.event_shape) == 1:  # a concentration per entry
                w.slots[site.name] = (offset, site.event_shape[0])
                offset += site.event_shape[0]
        if offset:
            arg, shape = datum
            vg = w.vg_name(pname)[0]
            inp = f"{arg}[{vg}]" if shape else f"[{arg}[{vg}]]"
            width = shape[0] if shape else 1
            here = [w.traced.sites[s] for s in w.slots]
            kinds = {s.support.kind for s in here if [p for p, _ in s.plates] == [pname]}
            gives = ", ".join(["locations, log-scales"] * ("interval" in kinds) + ["log-concentrations"] * (
                "simplex" in kinds))
            out[pname] = Encoder(w.fresh(f"{pname}_enc"), w.fresh("h"), inp, (width, HIDDEN, offset), gives)
    return out


def _is_vg_name(name: str) -> bool:
    """Whether a NumPyro name is usable as it is in VG."""
    return name_problem(name) is None


def _map(site: ModelSite, fn, raw: str) -> str:
    """The map of a real draw onto the site's support (NumPyro's biject_to)."""
    kind = site.support.kind
    if kind != "interval":
        return {"ordered_vector": "ordered", "lower_cholesky": "lower_cholesky",
                "corr_cholesky": "corr_cholesky"}[kind] + f"({raw})"
    lo, hi = _bounds(site, fn)
    if math.isinf(hi) and lo == 0:
        return f"exp({raw})"
    if math.isinf(hi):
        return f"{_exact(lo)} + exp({raw})"
    if math.isinf(lo):
        return f"{_exact(hi)} - exp({raw})"
    if lo == 0 and hi == 1:
        return f"sigmoid({raw})"
    return f"{_exact(lo)} + {_exact(hi - lo)} * sigmoid({raw})"
