"""Phase 6: a checked guide against its model — site names, shapes, plates and supports.

The model (the user's own Python) is traced once under NumPyro's ``seed`` and ``trace`` handlers with the
arguments the guide will get; the generated guide is traced the same way. Their sites are compared and
each finding is reported at the guide statement that defines the site (the guide's header when the guide
lacks it), with a code from the VG8xx group:

* VG801 a model latent the guide does not sample; VG802 a guide site the model does not have (with
  did-you-mean); VG806 a site the model observes;
* VG803 a shape or event-dimension mismatch (batch and event shapes named); VG804 a plate mismatch (plates
  around a site; a plate's size, subsample size or dim);
* VG805 a guide support not inside the model's (the hint names the transform that fixes it), VG807 when
  containment cannot be decided at compile time (a bound depends on a param);
* VG808 the guide fails when run with the model's arguments.

This module imports jax and numpyro (and runs the user's model): ``vgc check`` without ``--model`` never
loads it. Problems with the model itself (no such file or function, data that cannot be read, the model
raising) are :class:`ModelError`, which the command line reports with exit status 2.
"""

from __future__ import annotations

import difflib
import importlib.util
import math
import os
import sys
import traceback
from collections.abc import Callable
from typing import ClassVar

from . import compiler
from . import diagnostics as D
from . import supports as SP
from .ir import GuideIR, PlateIR, Site, SiteKind, sites
from .nodes import Record, Span
from .registry import name_problem, vg_spelling
from .unparse import expr as unparse


class ModelError(Exception):
    """The model cannot be loaded or run (a usage error, not a diagnostic of the guide)."""


class ModelPlate(Record):
    """A ``numpyro.plate`` of the model: its full size, subsample size (the size when not subsampled) and dim."""

    __slots__ = ("name", "size", "subsample", "dim")
    name: str
    size: int
    subsample: int
    dim: int | None


class ModelSite(Record):
    """One sample site of a traced model (or guide)."""

    __slots__ = ("name", "kind", "family", "batch_shape", "event_shape", "plates", "support", "discrete",
                 "enumerated", "auxiliary", "enumerable")
    _defaults: ClassVar[dict] = {"auxiliary": False, "enumerable": False}
    name: str
    kind: str  # "latent", "observed" or "deterministic"
    family: str  # the distribution's class name (``HalfCauchy``), "" for a deterministic site
    batch_shape: tuple
    event_shape: tuple
    plates: tuple  # ((name, dim), ...) of the plates around it, outermost first
    support: SP.Support | None  # None: a constraint vgc does not model
    discrete: bool
    enumerated: bool
    auxiliary: bool
    enumerable: bool  # a finite support NumPyro can enumerate (Categorical, Bernoulli; not Poisson)


class Traced(Record):
    """The sites and plates of one run of a model or guide, in execution order."""

    __slots__ = ("sites", "plates")
    sites: dict[str, ModelSite]
    plates: dict[str, ModelPlate]

    def latents(self) -> list[ModelSite]:
        """The sites a guide must sample: not observed, not enumerated, not deterministic."""
        return [s for s in self.sites.values() if s.kind == "latent" and not s.enumerated and not s.auxiliary]


# ---------------------------------------------------------------- loading


def split_spec(spec: str) -> tuple[str, str]:
    """``"models.py:eight_schools"`` → (file, function)."""
    path, sep, func = spec.rpartition(":")
    if not sep or not path or not func:
        raise ModelError(f"--model wants FILE.py:FUNCTION, got {spec!r}")
    return path, func


def load_model(spec: str) -> Callable:
    """Import ``FILE.py`` (the user's own code, with its folder on ``sys.path`` while it loads) and return
    ``FUNCTION``."""
    path, func = split_spec(spec)
    if not os.path.isfile(path):
        raise ModelError(f"cannot read {path}: no such file")
    folder = os.path.dirname(os.path.abspath(path))
    name = "vgc_model_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_").replace(".", "_")
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ModelError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.path.insert(0, folder)
    try:
        module_spec.loader.exec_module(module)
    except BaseException as e:  # the user's module: anything it raises is their error, shown as one line
        if isinstance(e, KeyboardInterrupt):
            raise
        raise ModelError(f"importing {path} failed: {_one_line(e, path)}") from None
    finally:
        if sys.path and sys.path[0] == folder:
            del sys.path[0]
    fn = getattr(module, func, None)
    if fn is None or not callable(fn):
        names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                 and getattr(v, "__module__", None) == name]
        close = difflib.get_close_matches(func, names, 1)
        hint = f"; did you mean '{close[0]}'?" if close else (f"; it defines {', '.join(names)}" if names else "")
        what = "no function" if fn is None else "nothing callable"
        raise ModelError(f"{path} has {what} named '{func}'{hint}")
    return fn


def _one_line(e: BaseException, where: str | None = None) -> str:
    """``Type: message (file:line)`` with the innermost frame in the user's file."""
    frames = traceback.extract_tb(e.__traceback__)
    mine = [f for f in frames if where and os.path.abspath(f.filename) == os.path.abspath(where)]
    at = mine[-1] if mine else None
    loc = f" (at {os.path.basename(at.filename)}:{at.lineno})" if at else ""
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}{loc}"


# ---------------------------------------------------------------- tracing


def trace(fn: Callable, args: tuple, kwargs: dict, seed: int = 0) -> Traced:
    """Run ``fn`` once under ``seed`` and ``trace``; its exceptions propagate."""
    from numpyro import handlers

    with handlers.trace() as tr, handlers.seed(rng_seed=seed):
        fn(*args, **kwargs)
    return from_trace(tr)


def _improper_value(site: dict):
    """A value for a site whose distribution cannot be sampled (``ImproperUniform``, an unnormalized target
    written with ``numpyro.factor``): the support's point at zero in the unconstrained space."""
    if site["type"] != "sample" or site.get("is_observed") or family(site["fn"]) != "ImproperUniform":
        return None
    import jax.numpy as jnp
    from numpyro.distributions.transforms import biject_to

    fn = site["fn"]
    transform = biject_to(fn.support)
    shape = tuple(site["kwargs"].get("sample_shape") or ()) + tuple(fn.shape())
    return transform(jnp.zeros(transform.inverse_shape(shape)))


def trace_model(model: Callable, args: tuple = (), kwargs: dict | None = None) -> Traced:
    """:func:`trace` of the user's model: whatever it raises (``SystemExit`` included) is a :class:`ModelError`
    saying what and where, in one line. ``ImproperUniform`` sites get a value in their support."""
    from numpyro import handlers

    try:
        return trace(handlers.substitute(model, substitute_fn=_improper_value), args, dict(kwargs or {}))
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        where = getattr(getattr(model, "__code__", None), "co_filename", None)
        raise ModelError(f"the model raised {_one_line(e, where)}") from None


def from_trace(tr: dict) -> Traced:
    """The sites and plates of a NumPyro trace."""
    out: dict[str, ModelSite] = {}
    plates: dict[str, ModelPlate] = {}
    dims: dict[str, int] = {}
    for name, msg in tr.items():
        frames = tuple((f.name, f.dim) for f in msg.get("cond_indep_stack") or ())
        for f, d in frames:
            dims.setdefault(f, d)
        if msg["type"] == "plate":
            size, sub = (tuple(msg.get("args") or ()) + (None, None))[:2]
            plates[name] = ModelPlate(name, int(size), int(sub if sub is not None else size), None)
        elif msg["type"] == "deterministic":
            shape = tuple(getattr(msg["value"], "shape", ()))
            out[name] = ModelSite(name, "deterministic", "", shape, (), frames[::-1], None, False, False)
        elif msg["type"] == "sample":
            fn = msg["fn"]
            infer = msg.get("infer") or {}
            observed = bool(msg.get("is_observed"))
            out[name] = ModelSite(
                name, "observed" if observed else "latent", family(fn), tuple(fn.batch_shape), tuple(fn.event_shape),
                frames[::-1], constraint_support(fn.support), bool(getattr(fn, "is_discrete", False)),
                infer.get("enumerate") is not None, bool(infer.get("is_auxiliary")),
                bool(getattr(fn, "has_enumerate_support", False)),
            )
    for name, p in plates.items():
        plates[name] = p._replace(dim=dims.get(name))
    return Traced(out, plates)


def family_name(name: str) -> str:
    """A family as users write it: NumPyro's ``CategoricalProbs``/``BernoulliLogits`` are ``Categorical(probs=...)``
    and ``Bernoulli(logits=...)``."""
    return name.removesuffix("Probs").removesuffix("Logits")


def family(fn) -> str:
    """The class name of a distribution under its wrappers (``Independent``, ``Expanded``, ``Masked``)."""
    while type(fn).__name__ in ("ExpandedDistribution", "Independent", "MaskedDistribution") and hasattr(
        fn, "base_dist"
    ):
        fn = fn.base_dist
    return type(fn).__name__


def constraint_support(c) -> SP.Support | None:
    """A NumPyro constraint as a :class:`vgc.supports.Support` (bounds reduced over their entries to the
    tightest common one: the guide must lie inside every entry's), or None for one vgc does not model."""
    import numpy as np
    from numpyro.distributions import constraints as C

    while isinstance(c, type(C.independent(C.real, 1))) and hasattr(c, "base_constraint"):
        c = c.base_constraint
    structured = {
        type(C.simplex): "simplex", type(C.ordered_vector): "ordered_vector",
        type(C.positive_ordered_vector): "positive_ordered_vector", type(C.corr_cholesky): "corr_cholesky",
        type(C.corr_matrix): "corr_matrix", type(C.positive_definite): "positive_definite",
        type(C.sphere): "sphere",
    }
    for cls, name in structured.items():
        if isinstance(c, cls):
            return SP.Support(name)
    if isinstance(c, type(C.lower_cholesky)):
        return SP.Support("lower_cholesky")

    def bound(b, reduce) -> float:
        arr = np.asarray(b, dtype=float)
        return float(reduce(arr)) if arr.size else math.nan

    if isinstance(c, (type(C.real), type(C.real_vector), type(C.real_matrix))):
        return SP.REAL
    if isinstance(c, type(C.softplus_positive)):
        return SP.Support(lo=0.0)
    if isinstance(c, type(C.interval(0.0, 1.0))):  # interval, unit_interval, open_interval, circular
        return SP.Support(lo=bound(c.lower_bound, np.max), hi=bound(c.upper_bound, np.min))
    if isinstance(c, type(C.greater_than(0.0))):  # positive, nonnegative, greater_than(_eq)
        return SP.Support(lo=bound(c.lower_bound, np.max))
    if isinstance(c, type(C.less_than(0.0))):
        return SP.Support(hi=bound(c.upper_bound, np.min))
    return None


# ---------------------------------------------------------------- comparison


def discrete_text(ms: ModelSite) -> tuple[str, str]:
    """(message, hint) for a discrete latent the model does not enumerate: a VG guide draws only continuous
    values, so the model must sum it out, which it can do only for a finite support."""
    family = family_name(ms.family)
    message = (f"the model's latent '{ms.name}' ({family}) is discrete and the model does not enumerate it: a VG "
               "guide draws only continuous values, so NumPyro would draw it from its prior")
    if ms.enumerable:
        hint = (f"enumerate it in the model: numpyro.sample('{ms.name}', ..., infer={{'enumerate': 'parallel'}}) "
                "(or @config_enumerate); vgc fit then sums it out with TraceEnum_ELBO")
    else:
        hint = (f"{family} has an infinite support, which cannot be enumerated: sum it out in the model by hand "
                "(a truncated sum with logsumexp), or model it with a continuous latent")
    return message, hint


def _shape(t: tuple) -> str:
    return "(" + ", ".join(str(int(d)) for d in t) + ("," if len(t) == 1 else "") + ")"


def _plates_text(frames: tuple) -> str:
    if not frames:
        return "no plate"
    return ("plate " if len(frames) == 1 else "plates ") + ", ".join(f"'{n}'" for n, _ in frames)


def fix_hint(name: str, dist_text: str | None, model: SP.Support) -> str:
    """How to map a draw onto the model's support, spelt for this site."""
    base = dist_text or "Normal(m, s)"
    v = f"v ~ {base}; "
    n = model.name()
    if n == "positive":
        lognormal = f" (or `{name} ~ Log{base}`)" if base.startswith("Normal(") else ""
        return f"map a real draw onto positive values: `{v}{name} = exp(v)`{lognormal}"
    if n == "unit_interval":
        return f"map a real draw onto (0, 1): `{v}{name} = sigmoid(v)` (or a Beta draw)"
    if model.kind == "interval" and model.known:
        lo, hi = SP.bound_text(model.lo), SP.bound_text(model.hi)
        if model.hi == SP.INF:
            return f"map a real draw above {lo}: `{v}{name} = {lo} + exp(v)`"
        if model.lo == -SP.INF:
            return f"map a real draw below {hi}: `{v}{name} = {hi} - exp(v)`"
        return f"map a real draw onto ({lo}, {hi}): `{v}{name} = {lo} + ({hi} - {lo}) * sigmoid(v)`"
    if n == "simplex":
        return (f"draw `{name} ~ Dirichlet(c)` with `param c[K] = 1.0 : positive`, or map K-1 reals: "
                f"`{name} = simplex(v)`")
    mapping = {"ordered_vector": "ordered", "lower_cholesky": "lower_cholesky", "corr_cholesky": "corr_cholesky"}
    if n in mapping:
        return f"map a real vector onto it: `{name} = {mapping[n]}(v)`"
    return f"give '{name}' values in {n}"


class Comparison:
    """Compares one guide (its IR, for locations and supports, and its trace) with a traced model."""

    def __init__(self, guide: GuideIR, model: Traced, reporter: D.Reporter):
        self.g = guide
        self.m = model
        self.r = reporter
        self.sites: dict[str, Site] = {s.site: s for s in sites(guide)}  # by NumPyro name, as the traces are
        self.plates: dict[str, PlateIR] = {}
        self.bad_plates: set[str] = set()
        for it in guide.walk():
            if isinstance(it, PlateIR):
                # by NumPyro name, as the traces are (`plate trend_basis(M) as "trend/basis"`)
                self.plates.setdefault(it.stmt.site.text if it.stmt.site is not None else it.stmt.name, it)

    def shown(self, name: str) -> str:
        """A site in a message: its NumPyro name, and its VG name when ``as "SITE"`` gives another."""
        s = self.sites.get(name)
        return f"'{name}'" + (f" (VG `{s.name}`)" if s is not None and s.name != name else "")

    def at(self, name: str) -> Span:
        """Where a guide site is defined: its statement (its name, when the statement defines several)."""
        s = self.sites.get(name)
        if s is None:
            return self.g.head
        shared = sum(1 for o in self.sites.values() if o.span == s.span) > 1
        if shared or s.span.end_line != s.span.line:
            return s.name_span
        return s.span

    def run(self, ran: Traced) -> None:
        """Report every mismatch between the guide's run ``ran`` and the model."""
        suggested: set[str] = set()
        self.check_plates(ran)
        for name, gs in ran.sites.items():
            if gs.kind != "latent" or gs.auxiliary:
                continue
            ms = self.m.sites.get(name)
            if ms is None:
                suggested |= self.unknown(name)
            elif ms.kind == "observed":
                self.r.report(
                    D.OBSERVED_SITE, self.at(name),
                    f"the model observes '{name}' ({ms.family}, obs=...): it is data, not a latent, so the guide "
                    "must not sample it",
                    f"remove '{name}' from the guide",
                )
            elif ms.kind == "deterministic":
                self.r.report(
                    D.UNKNOWN_SITE, self.at(name),
                    f"'{name}' is a deterministic site of the model (numpyro.deterministic), computed from its "
                    "latents: the guide must not sample it",
                    f"remove '{name}' from the guide; the model's latents it lacks: "
                    + (", ".join(m.name for m in self.m.latents() if m.name not in ran.sites) or "none"),
                )
            elif not self.bad_plates & {p for p, _ in gs.plates}:  # else already reported at the plate
                self.compare(name, gs, ms)
        for ms in self.m.latents():
            if ms.name in ran.sites or ms.name in suggested:
                continue
            what = f"{ms.family}, {ms.support.name() if ms.support else 'its support'}"
            shape = f", batch shape {_shape(ms.batch_shape)}" if ms.batch_shape else ""
            where = f" in {_plates_text(ms.plates)}" if ms.plates else ""
            if ms.discrete:
                self.r.report(D.MISSING_LATENT, self.g.head, *discrete_text(ms))
                continue
            self.r.report(
                D.MISSING_LATENT, self.g.head,
                f"the model's latent '{ms.name}' ({what}{shape}){where} has no site in guide '{self.g.name}'; "
                "NumPyro would draw it from its prior",
                f"add a draw or transform named '{ms.name}' (`vgc init --model` writes one for every latent)",
            )

    def unknown(self, name: str) -> set[str]:
        latents = [s.name for s in self.m.latents() if s.name not in self.sites]
        everything = [s.name for s in self.m.latents()]
        close = difflib.get_close_matches(name, latents, 1, 0.6) or difflib.get_close_matches(name, everything, 1, 0.6)
        hint = f"did you mean '{close[0]}'?" if close else (
            "the model's latents: " + ", ".join(everything) if everything else "the model has no latent sites")
        self.r.report(
            D.UNKNOWN_SITE, self.at(name),
            f"the model has no site '{name}': NumPyro would ignore this draw (it warns only that the guide has "
            "sites the model lacks)",
            hint,
        )
        return set(close)

    def compare(self, name: str, gs: ModelSite, ms: ModelSite) -> None:
        if [p for p, _ in gs.plates] != [p for p, _ in ms.plates]:
            self.r.report(
                D.PLATE_MISMATCH, self.at(name),
                f"the model draws '{name}' in {_plates_text(ms.plates)}, the guide in {_plates_text(gs.plates)}",
                self.plate_hint(name, ms, gs),
            )
            return
        if (gs.batch_shape, gs.event_shape) != (ms.batch_shape, ms.event_shape):
            self.r.report(
                D.SITE_SHAPE, self.at(name),
                f"{self.shown(name)} has batch shape {_shape(ms.batch_shape)} and event shape "
                f"{_shape(ms.event_shape)} in the model, but batch shape {_shape(gs.batch_shape)} and event shape "
                f"{_shape(gs.event_shape)} in the guide",
                self.shape_hint(ms, gs),
            )
            return
        site = self.sites.get(name)
        if site is None or site.support is None or ms.support is None:
            return
        inside = SP.inside(site.support, ms.support)
        if inside is True:
            return
        dist_text = None
        stmt = self.stmt_of(site)
        if site.kind is SiteKind.DRAW and stmt is not None:
            dist_text = unparse(stmt.dist)
        said = (f"{self.shown(name)} has support {site.support.name()} in the guide, but {ms.support.name()} in the "
                f"model ({ms.family})")
        if inside is False and site.support.exact:
            self.r.report(
                D.OUTSIDE_SUPPORT, self.at(name),
                said + ": the model's log-density would be evaluated outside its support (a NaN or -inf loss)",
                fix_hint(name, dist_text, ms.support),
            )
        else:
            why = ("a bound depends on a value known only when the guide runs" if inside is None
                   else "vgc derives only an enclosing interval for this map")
            self.r.report(
                D.SUPPORT_UNPROVEN, self.at(name),
                f"cannot prove that '{name}' stays in the model's support: {said}, and {why}",
                fix_hint(name, dist_text, ms.support),
            )

    def stmt_of(self, site: Site):
        for it in self.g.walk():
            stmt = getattr(it, "stmt", None)
            if stmt is not None and getattr(stmt, "span", None) == site.span:
                return stmt
        return None

    def plate_hint(self, name: str, ms: ModelSite, gs: ModelSite) -> str:
        missing = [p for p, _ in ms.plates if p not in [q for q, _ in gs.plates]]
        if missing:
            p = self.m.plates.get(missing[0])
            size = f"{p.size}" + (f", subsample={p.subsample}" if p and p.subsample != p.size else "") if p else "N"
            if name_problem(missing[0]) is not None:  # a scoped plate, "trend/basis"
                vg = vg_spelling(missing[0])
                return f"draw '{name}' inside `plate {vg}({size}) as \"{missing[0]}\" {{ ... }}`"
            return f"draw '{name}' inside `plate {missing[0]}({size}) {{ ... }}`"
        extra = [p for p, _ in gs.plates if p not in [q for q, _ in ms.plates]]
        if extra:
            return f"draw '{name}' outside plate '{extra[0]}' (the model's '{name}' is not in it)"
        return "nest the plates in the model's order"

    def shape_hint(self, ms: ModelSite, gs: ModelSite) -> str:
        if ms.batch_shape + ms.event_shape == gs.batch_shape + gs.event_shape:
            k = len(ms.batch_shape)
            if not ms.plates and k and ms.event_shape:  # batch dimensions before event dimensions: `: batch(K)`
                return (f"the model keeps {k} batch dimension{'s' * (k > 1)} {_shape(ms.batch_shape)} before its event "
                        f"dimensions {_shape(ms.event_shape)}: draw with `: batch({k})`")
            if len(ms.event_shape) < len(gs.event_shape):
                return ("the model keeps these dimensions as batch dimensions: draw with `: batch` (or inside a plate) "
                        "instead of one vector")
            return "the model draws one vector here (an event dimension): drop `: batch`"
        return f"give the guide's '{ms.name}' the model's shape {_shape(ms.batch_shape + ms.event_shape)}"

    def check_plates(self, ran: Traced) -> None:
        """Each guide plate against the model's plate of its name (``bad_plates`` collects the mismatched)."""
        for name, gp in ran.plates.items():
            it = self.plates.get(name)
            at = it.stmt.name_span if it is not None else self.g.head
            mp = self.m.plates.get(name)
            if mp is None:
                close = difflib.get_close_matches(name, list(self.m.plates), 1, 0.6)
                known = "the model's plates: " + ", ".join(self.m.plates) if self.m.plates else "the model has none"
                hint = f"did you mean '{close[0]}'?" if close else known
                if close and name_problem(close[0]) is not None:
                    hint = f'did you mean \'{close[0]}\'? (not a VG name: `plate NAME(...) as "{close[0]}"`)'
                self.r.report(D.PLATE_MISMATCH, at, f"the model has no plate '{name}'", hint)
                self.bad_plates.add(name)
                continue
            diffs = []
            if gp.size != mp.size:
                diffs.append(f"size {mp.size} in the model, {gp.size} in the guide")
            if gp.subsample != mp.subsample:
                diffs.append(f"subsample size {mp.subsample} in the model, {gp.subsample} in the guide")
            if gp.dim is not None and mp.dim is not None and gp.dim != mp.dim:
                diffs.append(f"dim {mp.dim} in the model, {gp.dim} in the guide")
            if diffs:
                self.bad_plates.add(name)
                self.r.report(
                    D.PLATE_MISMATCH, at, f"plate '{name}' differs from the model's: " + "; ".join(diffs),
                    f"declare it as the model does: `plate {it.stmt.name if it is not None else name}({mp.size}"
                    + (f", subsample={mp.subsample}" if mp.subsample != mp.size else "")
                    + (f", dim={mp.dim}" if mp.dim is not None else "") + ")"
                    + (f' as "{name}"' if it is not None and it.stmt.name != name else "") + "`",
                )


# ---------------------------------------------------------------- the whole check


def check(result: compiler.Result, model: Callable, args: tuple = (), kwargs: dict | None = None,
          name: str | None = None, file: str = "<string>", traced: Traced | None = None) -> list[D.Diagnostic]:
    """The model diagnostics of a compiled guide (``result`` from :func:`vgc.compiler.run` with code).

    Raises :class:`ModelError` when the model itself fails; the guide failing is VG808.
    """
    from .codegen import function_name
    from .runtime import _execute

    kwargs = dict(kwargs or {})
    if traced is None:
        traced = trace_model(model, args, kwargs)
    reporter = D.Reporter(file)
    names = list(result.guides)
    chosen = name if name is not None else names[0] if len(names) == 1 else None
    if chosen is None or chosen not in names:
        raise ModelError(f"the source defines guides {', '.join(names)}: name the one to check")
    ir = result.irs[names.index(chosen)]
    fn = _execute(result.code, "<vgc:" + file.replace("\0", "\\0") + ">")[function_name(result.guides, chosen)]
    problem = _argument_problem(ir, fn, model, args, kwargs)
    if problem:
        modules = [n for n in ir.nets.values() if n.module is not None and repr(n.module) in problem]
        hint = (f"the guide is called with the model's arguments ({', '.join(_arg_names(model)) or 'none'}): take "
                "those, and read only what the model's call passes")
        if modules:  # a data file cannot hold a network: the Python API can
            net = modules[0]
            hint = (f"'{net.module}' holds the network of `net {net.name} = module({net.module})`, a Python object "
                    "no data file holds: check and fit this guide from Python, passing the module "
                    f"(`vgc.guide(src).check_model(model, ..., {net.module}=...)`, `vgc.fit(src, model, ..., "
                    f"{net.module}=...)`)")
        reporter.report(D.GUIDE_FAILED, ir.head, f"guide '{chosen}' cannot be called as the model is: {problem}", hint)
        return reporter.sorted()
    try:
        ran = trace(fn, args, kwargs, seed=1)
    except Exception as e:
        reporter.report(
            D.GUIDE_FAILED, ir.head,
            f"guide '{chosen}' fails when run with the model's arguments: {_one_line(e)}",
            "the guide is called as the model is: give it the model's arguments "
            f"({', '.join(_arg_names(model)) or 'none'}) and shapes that fit them",
        )
        return reporter.sorted()
    Comparison(ir, traced, reporter).run(ran)
    return reporter.sorted()


def _argument_problem(ir: GuideIR, fn: Callable, model: Callable, args: tuple, kwargs: dict) -> str | None:
    """Why the guide cannot take the model's call: an argument it does not take, or one it reads that the
    call leaves out (every guide argument defaults to None, so that would fail deep inside jax)."""
    import inspect

    from .codegen import names_read

    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as e:
        return str(e)
    if ir.args is None:
        return None
    passed = set(bound.arguments)
    missing = [a for a in ir.args if a not in passed and a in names_read(ir)]
    if missing:
        given = ", ".join(_arg_names(model)[: len(args)] + list(kwargs)) or "no argument"
        return (f"it reads argument{'s' * (len(missing) > 1)} {', '.join(repr(a) for a in missing)}, which the "
                f"model's call does not pass (it passes {given})")
    return None


def _arg_names(model: Callable) -> list[str]:
    import inspect

    try:
        return list(inspect.signature(model).parameters)
    except (TypeError, ValueError):
        return []
