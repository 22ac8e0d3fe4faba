"""Phase 6 (fitting): SVI for a compiled guide against its model, and the autoguides to compare it with.

``vgc fit`` and :func:`vgc.fit` check the guide against the model first (a guide that fails the model
check is never fitted), then train it with :func:`vgc.training.train` (jitted chunks of SVI steps with a
progress display and a stop at the first non-finite step).

The −ELBO reported is not the noisy training loss: it is re-estimated at the fitted params over many
particles (10⁴ by default) with ``Trace_ELBO``, as a mean and its standard error, with the same key for
every compared guide. The guide's learnable mixture weights (VG603) make ``TraceGraph_ELBO`` the default
training objective, since Trace_ELBO has no gradient through a categorical draw. A model that enumerates
discrete sites is trained and estimated with ``TraceEnum_ELBO`` (:mod:`vgc.enumeration`), and each fit
reports the posterior of those sites. The same particles give every fit its PSIS k̂ and log p(data)
(:mod:`vgc.diagnose`); a NUTS reference is :mod:`vgc.reference`, the ArviZ export :mod:`vgc.export`, the plots'
data :mod:`vgc.fitplots`. Decisions that the
issue left open (the step-size decay, the autoguides allowed) are written down in docs/fit.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from numpyro.infer import SVI, Trace_ELBO, TraceGraph_ELBO

from . import diagnose, enumeration, training
from . import diagnostics as D
from .training import Stop

# Autoguides whose −ELBO is a real bound (their guide is a density). AutoDelta and AutoLaplaceApproximation
# fit a point mass, whose "−ELBO" lacks the entropy term and is not comparable.
AUTOGUIDES = (
    "AutoNormal", "AutoDiagonalNormal", "AutoMultivariateNormal", "AutoLowRankMultivariateNormal",
    "AutoBNAFNormal", "AutoIAFNormal",
)  # fmt: skip
ALIASES = {"AutoBNAF": "AutoBNAFNormal"}  # the name the papers (and the issue) use
POINT_MASSES = ("AutoDelta", "AutoLaplaceApproximation")
OPTIMIZERS = ("adam", "clipped_adam")
ELBOS = ("trace", "tracegraph", "traceenum")
ELBO_NAMES = {"trace": "Trace_ELBO", "tracegraph": "TraceGraph_ELBO", "traceenum": "TraceEnum_ELBO"}


class FitError(Exception):
    """A bad fit request (an unknown autoguide, a negative number of steps, ...): a usage error."""


class Estimate(NamedTuple):
    """A Monte Carlo estimate: its mean, its standard error and how many particles it used."""

    mean: float
    se: float
    particles: int


class Settings(NamedTuple):
    """How to fit: the same for the VG guide and every compared autoguide."""

    steps: int = 2000
    lr: float = 0.01
    decay: float = 0.1  # the step size falls geometrically from lr to lr * decay over the steps
    optimizer: str = "adam"
    particles: int = 1
    elbo: str | None = None  # None: traceenum when the model enumerates, tracegraph for learnable weights, else trace
    seed: int = 0
    eval_particles: int = 10_000


class Objective(NamedTuple):
    """What a fit optimizes and estimates: ``kind`` (a key of :data:`ELBO_NAMES`) for training, ``note`` (why,
    when it is not plain Trace_ELBO, or None) and the model's enumeration :class:`~vgc.enumeration.Plan`
    (when it has sites, every guide's −ELBO is estimated with TraceEnum_ELBO: the marginal over them), and the
    plates the model subsamples (PSIS k̂ is then not defined: see :mod:`vgc.diagnose`)."""

    kind: str
    note: str | None
    plan: enumeration.Plan
    subsampled: tuple[str, ...] = ()


class FitResult:
    """One fitted guide: ``params`` (constrained, by site name), ``losses`` (the training loss per step taken),
    ``elbo`` (the −ELBO :class:`Estimate` at the fitted params), ``time`` (seconds), ``stopped`` (a
    :class:`Stop` or None), ``discrete`` (the posterior of each site the model enumerates, by name: a
    :class:`vgc.enumeration.Discrete`), ``elbo_note`` (why the training ELBO was chosen), ``start_note`` (for an
    autoguide started otherwise than NumPyro starts it: how and why) and, for the VG guide, ``compare`` (the
    autoguides' results)."""

    def __init__(self, name: str, guide: Callable, model: Callable, args: tuple, kwargs: dict, settings: Settings,
                 elbo_kind: str, params: dict, losses: np.ndarray, elbo: Estimate, seconds: float,
                 stopped: Stop | None, sampler: Callable, free: int | None = None):
        self.name = name
        self.guide = guide
        self.model = model
        self.args = args
        self.kwargs = kwargs
        self.settings = settings
        self.elbo_kind = elbo_kind
        self.params = params
        self.losses = losses
        self.elbo = elbo
        self.time = seconds
        self.stopped = stopped
        self.compare: list[FitResult] = []
        self.discrete: dict[str, enumeration.Discrete] = {}
        self.discrete_notes: dict[str, str] = {}  # why an enumerated site has no posterior in ``discrete``
        self.elbo_note: str | None = None
        self.start_note: str | None = None  # how an autoguide was started, when not as NumPyro starts it
        self.importance: diagnose.Importance | None = None  # PSIS k̂ and log p(data) (see vgc.diagnose)
        self.reference = None  # a vgc.reference.Reference (NUTS) when asked for: every guide's moments against it
        self.plan: enumeration.Plan = enumeration.NO_PLAN  # the model's enumerated sites
        self._sampler = sampler
        self._free = free

    @property
    def num_params(self) -> int:
        """How many numbers the guide learns: the size of its params in the unconstrained space the optimizer
        sees (a 10×10 ``scale_tril`` is 55 numbers, a simplex of 3 is 2)."""
        if self._free is not None:
            return self._free
        return int(sum(np.size(v) for v in jax.tree.leaves(self.params)))

    def sample(self, n: int = 1000, key=None) -> dict[str, np.ndarray]:
        """``n`` draws of the model's latent sites from the fitted guide (leading axis ``n``)."""
        key = jax.random.PRNGKey(self.settings.seed + 2) if key is None else key
        return {k: np.asarray(v) for k, v in self._sampler(self.params, n, key).items()}

    def to_inference_data(self, draws: int = 4000, key=None):
        """The fit as ArviZ InferenceData: ``posterior`` (``draws`` guide draws of every model latent, plates as
        named dimensions), ``observed_data``, ``posterior_predictive`` (NumPyro's ``Predictive`` with the guide)
        and, for enumerated sites, ``enumerated`` (their posterior probabilities). See :mod:`vgc.export`; needs
        ``pip install 'vgc[diag]'`` (ImportError without)."""
        from .export import to_inference_data

        return to_inference_data(self, draws, key)

    def plot(self, directory: str) -> list[str]:
        """Write the loss curves and the density or marginal plots into ``directory``; return the paths.

        Needs matplotlib (``pip install 'vgc[plot]'``); see :mod:`vgc.plot`.
        """
        return write_plots(self, directory)

    def __repr__(self) -> str:
        return f"<vgc.FitResult {self.name}: -ELBO {self.elbo.mean:.4g} ± {self.elbo.se:.2g}>"


# ---------------------------------------------------------------- the API


def fit(guide, model: Callable, *args, steps: int = 2000, lr: float = 0.01, decay: float = 0.1,
        optimizer: str = "adam", particles: int = 1, elbo: str | None = None, seed: int = 0,
        eval_particles: int = 10_000, compare: tuple[str, ...] | list[str] = (), progress: bool | None = False,
        check: bool = True, reference=None, **kwargs) -> FitResult:
    """Fit a VG guide (a :class:`vgc.Guide`, or VG source text) to ``model(*args, **kwargs)`` with SVI.

    The guide is checked against the model first (an error raises :class:`vgc.CompileError`). ``compare``
    names NumPyro autoguides fitted the same way (same steps, optimizer, particles and seed); their results
    are in ``result.compare``. ``progress``: True draws a progress bar on stderr, None one only when stderr is
    a terminal. A model that enumerates discrete sites is fitted with TraceEnum_ELBO (see :func:`objective`).
    Every fit gets its PSIS diagnostics (``result.importance``: k̂ and log p(data), :mod:`vgc.diagnose`).
    ``reference="nuts"`` (or a :class:`vgc.reference.NUTS` of settings) also runs NUTS on the model: it is in
    ``result.reference``, and the report compares every guide's moments with it (:mod:`vgc.reference`).
    Raises :class:`FitError` for bad settings (and for an enumerated model without funsor installed, or a NUTS
    reference that cannot run).
    """
    from . import runtime

    if isinstance(guide, str):
        guide = runtime.guide(guide)
    if not isinstance(guide, runtime.Guide):
        raise TypeError(f"fit() takes a vgc.Guide or VG source, not {type(guide).__name__}")
    settings = validate(Settings(steps, lr, decay, optimizer, particles, elbo, seed, eval_particles), compare)
    if check:
        found = guide.check_model(model, *args, **kwargs)
        if any(d.is_error for d in found):
            raise runtime.CompileError(found, guide.vg_source)
    show = training.progress_mode(progress)
    goal = objective(guide, model, args, kwargs, settings.elbo)
    check_compare(goal, compare)
    nuts = reference_settings(reference, goal)
    result = fit_guide(guide, model, args, kwargs, settings, show, goal)
    for name in compare:
        if interrupted(result):
            break
        result.compare.append(fit_autoguide(name, model, args, kwargs, settings, show, goal))
    if nuts is not None and not interrupted(result):
        from . import reference as R

        result.reference = R.run(model, args, kwargs, nuts, show)
    return result


def reference_settings(reference, goal: Objective):
    """The :class:`vgc.reference.NUTS` settings for ``reference`` (None, ``"nuts"`` or settings), or
    :class:`FitError` when NUTS cannot run here (see :func:`vgc.reference.settings`)."""
    if reference is None:
        return None
    from . import reference as R

    try:
        return R.settings(reference, goal.subsampled)
    except R.ReferenceUnavailable as e:
        raise FitError(str(e)) from None


def interrupted(result: FitResult) -> bool:
    """True when Ctrl-C stopped the last fit of a comparison: the guides after it are not fitted."""
    last = result.compare[-1] if result.compare else result
    return last.stopped is not None and last.stopped.reason == "interrupted"


def validate(settings: Settings, compare=()) -> Settings:
    """``settings`` if they make sense, else :class:`FitError` saying which one does not."""
    s = settings
    for field in ("steps", "particles", "eval_particles", "seed"):
        v = getattr(s, field)
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise FitError(f"{field} must be an integer, not {v!r}")
    if s.steps < 1:
        raise FitError(f"steps must be at least 1, not {s.steps}")
    if s.particles < 1 or s.eval_particles < 2:
        raise FitError("particles must be at least 1 (and eval_particles at least 2)")
    if not (isinstance(s.lr, (int, float)) and math.isfinite(s.lr) and s.lr > 0):
        raise FitError(f"lr must be a positive number, not {s.lr!r}")
    if not (isinstance(s.decay, (int, float)) and 0 < s.decay <= 1):
        raise FitError(f"decay must be in (0, 1] (1: a constant step size), not {s.decay!r}")
    if s.optimizer not in OPTIMIZERS:
        raise FitError(f"unknown optimizer {s.optimizer!r}: use {' or '.join(OPTIMIZERS)}")
    if s.elbo is not None and s.elbo not in ELBOS:
        raise FitError(f"unknown ELBO {s.elbo!r}: use {' or '.join(ELBOS)}")
    for name in compare:
        autoguide_class(name)
    return s


def autoguide_class(name: str):
    """The NumPyro autoguide class called ``name``, or :class:`FitError` with the names allowed."""
    name = ALIASES.get(name, name)
    if name in POINT_MASSES:
        raise FitError(f"{name} fits a point mass: its -ELBO has no entropy term and cannot be compared; "
                       f"use one of {', '.join(AUTOGUIDES)}")
    if name not in AUTOGUIDES:
        from .scope import did_you_mean

        hint = did_you_mean(name, AUTOGUIDES)
        raise FitError(f"unknown autoguide {name!r}{f' ({hint})' if hint else ''}: use one of {', '.join(AUTOGUIDES)}")
    from numpyro.infer import autoguide

    return getattr(autoguide, name)


def default_elbo(guide) -> tuple[str, bool]:
    """(the ELBO to train with, whether that was chosen because of learnable mixture weights), for a model
    that enumerates nothing."""
    result = getattr(guide, "_result", None)
    learnable = result is not None and any(d.code == D.LEARNABLE_WEIGHTS.code for d in result.diagnostics)
    return ("tracegraph", True) if learnable else ("trace", False)


def objective(guide, model: Callable, args: tuple, kwargs: dict, requested: str | None = None) -> Objective:
    """The ELBO to train ``guide`` on ``model`` with, and why. A model that enumerates discrete sites needs
    TraceEnum_ELBO (Trace_ELBO would draw them from the prior inside the model: NumPyro only warns), and its
    −ELBO is then estimated with TraceEnum_ELBO for every guide, even when ``requested`` overrides the
    training objective. :class:`FitError` when that needs funsor and it is missing."""
    goal = _objective(guide, model, args, kwargs, requested)
    return goal._replace(subsampled=tuple(diagnose.subsampled_plates(model, args, kwargs)))


def _objective(guide, model: Callable, args: tuple, kwargs: dict, requested: str | None) -> Objective:
    plan = enumeration.plan(model, args, kwargs)
    if plan.sites or requested == "traceenum":
        why = enumeration.missing()
        if why:
            raise FitError(why)
    if plan.sites:
        sites = plan.describe()
        if requested in (None, "traceenum"):
            note = (f"using TraceEnum_ELBO: the model enumerates {sites}; the guide covers the continuous latents, "
                    "the ELBO sums the enumerated sites out exactly (the -ELBO is of their marginal), and "
                    "autoguides are fitted on the model with them blocked")
            return Objective("traceenum", note, plan)
        note = (f"training with {ELBO_NAMES[requested]} as asked, though the model enumerates {sites}: it draws "
                "them from their prior instead of summing them out, so the fit is biased (the -ELBO is still the "
                "enumerated one)")
        return Objective(requested, note, plan)
    if requested is not None:
        return Objective(requested, None, plan)
    kind, learnable = default_elbo(guide)
    note = ("using TraceGraph_ELBO: the guide learns mixture weights (VG603), and Trace_ELBO has no gradient "
            "through their categorical draw (--elbo trace to override)") if learnable else None
    return Objective(kind, note, plan)


# ---------------------------------------------------------------- fitting one guide


def check_compare(goal: Objective, compare) -> None:
    """:class:`FitError` for an autoguide the objective cannot fit: NumPyro's TraceEnum_ELBO does not support
    AutoContinuous guides (AutoDiagonalNormal, AutoMultivariateNormal, the flows), only AutoNormal."""
    if not goal.plan.sites:
        return
    bad = [n for n in compare if ALIASES.get(n, n) != "AutoNormal"]
    if bad:
        raise FitError(f"the model enumerates discrete sites, and NumPyro's TraceEnum_ELBO fits only AutoNormal among "
                       f"the autoguides (not AutoContinuous guides): drop {', '.join(bad)}")


def fit_guide(guide, model: Callable, args: tuple, kwargs: dict, settings: Settings, progress: str,
              goal: Objective | None = None) -> FitResult:
    """Fit a compiled :class:`vgc.Guide` (already checked against the model) towards ``goal`` (default:
    :func:`objective` for the settings)."""
    goal = goal or objective(guide, model, args, kwargs, settings.elbo)
    return _fit(guide.name, guide, model, args, kwargs, settings, goal, goal.kind, progress,
                _vg_sampler(guide, args, kwargs))


def fit_autoguide(name: str, model: Callable, args: tuple, kwargs: dict, settings: Settings,
                  progress: str, goal: Objective | None = None) -> FitResult:
    """Fit the NumPyro autoguide ``name`` on the same model, with the same settings: Trace_ELBO (every
    autoguide is reparametrized, so TraceGraph_ELBO would give the same gradients at a higher cost), or
    TraceEnum_ELBO when the model enumerates sites, which the autoguide then does not see."""
    goal = goal or Objective("trace", None, enumeration.plan(model, args, kwargs),
                             tuple(diagnose.subsampled_plates(model, args, kwargs)))
    kind = "traceenum" if goal.plan.sites else "trace"

    def attempt(unchecked: bool) -> FitResult:
        ag = autoguide_class(name)(enumeration.blocked(model, goal.plan, unchecked))

        def sampler(params, n, key):
            return ag.sample_posterior(key, params, *args, sample_shape=(n,), **kwargs)

        return _fit(name, ag, model, args, kwargs, settings, goal, kind, progress, sampler)

    try:
        return attempt(False)
    except RuntimeError as e:
        # NumPyro's set-up draws the hidden enumerated sites from their priors to check its start; when no
        # draw gives the data a finite density the autoguide cannot start at all, through no fault of its own.
        if not goal.plan.sites or enumeration.NO_VALID_START not in str(e):
            raise
    result = attempt(True)
    result.start_note = (f"{name} started without NumPyro's check of its start: with the enumerated sites "
                         f"({', '.join(goal.plan.names)}) drawn from their priors, as its set-up draws them, no "
                         "start gave the data a finite density")
    return result


def _optimizer(settings: Settings):
    s = settings
    rate = math.log(s.decay) / max(s.steps - 1, 1)
    schedule = (lambda i: s.lr * jnp.exp(rate * i)) if s.decay != 1 else s.lr
    if s.optimizer == "clipped_adam":
        return numpyro.optim.ClippedAdam(schedule)
    return numpyro.optim.Adam(schedule)


def _elbo(kind: str, particles: int):
    if kind == "traceenum":
        return enumeration.objective(particles)
    return TraceGraph_ELBO(num_particles=particles) if kind == "tracegraph" else Trace_ELBO(num_particles=particles)


def _fit(name, guide, model, args, kwargs, settings: Settings, goal: Objective, kind: str, progress: str,
         sampler) -> FitResult:
    svi = SVI(model, guide, _optimizer(settings), _elbo(kind, settings.particles))
    done = training.train(svi, args, kwargs, settings.steps, settings.seed, name, progress)
    # A module's mutable state (a BatchNorm's running statistics: NumPyro's `NAME$state`) goes with the params:
    # estimating, sampling and --out substitute it as SVI's own steps do (flax_module asserts it is there).
    fitted = {**svi.get_params(done.state), **(done.state.mutable_state or {})}
    order = [k for k in getattr(guide, "param_names", ()) if k in fitted]  # jax sorts dict keys: the guide's order
    params = {k: jax.tree.map(np.asarray, fitted[k]) for k in [*order, *(k for k in fitted if k not in order)]}
    free = int(sum(np.size(v) for v in jax.tree.leaves(svi.optim.get_params(done.state.optim_state))))
    key = jax.random.fold_in(jax.random.PRNGKey(settings.seed), 1)
    values = particle_values(model, guide, params, args, kwargs, key, settings.eval_particles,
                             enumerated=bool(goal.plan.sites))
    result = FitResult(name, guide, model, args, kwargs, settings, kind, params, done.losses, estimate(values),
                       done.seconds, done.stopped, sampler, free)
    # the same draws give PSIS's importance ratios: log p(x, z) − log q(z) is minus each −ELBO particle
    result.importance = diagnose.importance(-values, diagnose.undefined_reason(goal.subsampled))
    result.elbo_note = goal.note if kind == goal.kind else None
    result.plan = goal.plan
    if goal.plan.sites:
        key = jax.random.fold_in(jax.random.PRNGKey(settings.seed), 3)
        result.discrete, result.discrete_notes = enumeration.posterior(model, guide, fitted, args, kwargs, goal.plan,
                                                                       key)
    return result


def neg_elbo(model, guide, params: dict, args: tuple, kwargs: dict, key, particles: int,
             chunk: int = 2000, enumerated: bool = False) -> Estimate:
    """−ELBO at ``params`` as a mean over ``particles`` independent single-particle Trace_ELBO estimates (or
    TraceEnum_ELBO ones when the model ``enumerated`` discrete sites: the bound on the marginal likelihood
    with them summed out), with its standard error (non-finite particles make the mean non-finite: they are
    not dropped)."""
    return estimate(particle_values(model, guide, params, args, kwargs, key, particles, chunk, enumerated))


def particle_values(model, guide, params: dict, args: tuple, kwargs: dict, key, particles: int,
                    chunk: int = 2000, enumerated: bool = False) -> np.ndarray:
    """The ``particles`` single-particle −ELBO values behind :func:`neg_elbo` (float64): each is
    log q(z) − log p(x, z) at one independent draw of the guide, the negative log importance ratio that
    :mod:`vgc.diagnose` smooths."""
    elbo = enumeration.objective() if enumerated else Trace_ELBO()

    @jax.jit
    def batch(keys):
        return jax.vmap(lambda k: elbo.loss(k, params, model, guide, *args, **kwargs))(keys)

    keys = jax.random.split(key, particles)
    parts = [np.asarray(batch(keys[i:i + chunk])) for i in range(0, particles, chunk)]
    return np.concatenate(parts).astype(np.float64)


def estimate(values: np.ndarray) -> Estimate:
    """The mean of per-particle values and its standard error."""
    particles = len(values)
    with np.errstate(invalid="ignore", over="ignore"):  # a non-finite particle makes both nan or inf: shown
        mean = float(values.mean())
        se = float(values.std(ddof=1) / math.sqrt(particles))
    return Estimate(mean, se, particles)


def _vg_sampler(guide, args: tuple, kwargs: dict):
    def sampler(params, n, key):
        return guide.sample(params, n, key, *args, **kwargs)

    return sampler


# ---------------------------------------------------------------- reports


def npz_bytes(params: dict, discrete: dict | None = None) -> bytes:
    """The params as the bytes of an ``.npz`` (one array per param, named as in the guide; a nested param one per
    leaf, named by its path as :func:`flat_params` does), and for each
    enumerated site ``SITE.values``, ``SITE.probs`` and ``SITE.mode`` (see :class:`vgc.enumeration.Discrete`)."""
    import io

    arrays = flat_params(params)  # a module's params (a decoder's) are a tree: one array per leaf
    for name, d in (discrete or {}).items():
        arrays.update({f"{name}.values": d.values, f"{name}.probs": d.probs, f"{name}.mode": d.mode})
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def flat_params(params: dict) -> dict[str, np.ndarray]:
    """The params by name; a nested param (an autoguide's neural network) as one entry per leaf, named by
    its path (``auto_arn__0$params[0][1]``)."""
    out = {}
    for name, value in params.items():
        if _nested(value):
            for path, leaf in jax.tree_util.tree_flatten_with_path(value)[0]:
                out[name + jax.tree_util.keystr(path)] = np.asarray(leaf)
        else:
            out[name] = np.asarray(value)
    return out


def _nested(v) -> bool:
    """A param that is a tree of arrays (a dict, a list, an Equinox module), not one array or number."""
    return not isinstance(v, (np.ndarray, np.generic, jax.Array, float, int))


def _number(v):
    a = np.asarray(v)
    return float(a) if a.ndim == 0 else a.astype(float).tolist()


def summary(result: FitResult, model_spec: str | None = None, plots: list[str] | None = None,
            samples: list[str] | None = None) -> dict:
    """The JSON report of ``vgc fit --format json`` (schema: docs/fit.schema.json)."""

    def one(r: FitResult) -> dict:
        stop = None if r.stopped is None else {"reason": r.stopped.reason, "step": r.stopped.step,
                                               "sites": list(r.stopped.sites), "message": r.stopped.message}
        e = r.elbo
        return {"guide": r.name, "neg_elbo": {"mean": _finite(e.mean), "se": _finite(e.se), "particles": e.particles},
                "time_s": round(r.time, 4), "num_params": r.num_params, "steps_run": len(r.losses),
                "elbo": r.elbo_kind, "stopped": stop, "start_note": r.start_note,
                "params": {k: _number(v) for k, v in flat_params(r.params).items()},
                "enumerated": {**{k: _discrete_summary(d) for k, d in r.discrete.items()},
                               **{k: {"note": why} for k, why in r.discrete_notes.items()}},
                "psis": diagnose.summary(r.importance or diagnose.importance(np.zeros(0), "not computed"))}

    s = result.settings
    out = {"vgc_fit": 1, "model": model_spec, "steps": s.steps, "lr": s.lr, "decay": s.decay,
           "optimizer": s.optimizer, "particles": s.particles, "seed": s.seed}
    out.update(one(result))
    out["compare"] = [one(r) for r in result.compare]
    out["plots"] = list(plots or [])
    out["samples"] = list(samples or [])
    out["reference"] = None
    if result.reference is not None:
        from . import reference as R

        out["reference"] = R.summary(result, R.entries(result))
    return out


def _discrete_summary(d: enumeration.Discrete) -> dict:
    """An enumerated site's posterior in a few numbers (its per-element arrays go to ``--out``)."""
    top = d.probs.max(axis=-1) if d.probs.size else np.zeros(0)
    return {"values": d.values.tolist(), "elements": int(np.size(d.mode)),
            "mode_counts": [int(np.sum(d.mode == v)) for v in d.values],
            "mean_probs": np.reshape(d.probs, (-1, len(d.values))).mean(axis=0).round(6).tolist(),
            "mean_top_prob": round(float(top.mean()), 6) if top.size else None, "draws": d.draws}


def _finite(x: float):
    return x if math.isfinite(x) else None


def report(result: FitResult, elbo_note: str | None = None) -> str:
    """The text report of ``vgc fit``: the settings, −ELBO ± s.e., the time, every param, the comparison."""
    s = result.settings
    schedule = "constant" if s.decay == 1 else f"decaying to {s.lr * s.decay:g}"
    lines = [f"fitted {result.name}: {len(result.losses)} of {s.steps} steps, {s.optimizer} lr {s.lr:g} "
             f"({schedule}), {s.particles} particle{'s' * (s.particles != 1)}, "
             f"{ELBO_NAMES[result.elbo_kind]}, seed {s.seed}"]
    if elbo_note:
        lines.append(elbo_note)
    if result.stopped is not None:
        lines.append(f"stopped: {result.stopped.message}")
    e = result.elbo
    lines.append(f"-ELBO {e.mean:.4f} ± {e.se:.4f} (mean ± s.e. over {e.particles:,} particles), "
                 f"{result.time:.2f} s")
    if result.importance is not None:
        lines.append(diagnose.text(result.importance))
    lines.append("params:")
    for k, v in result.params.items():
        lines.append(f"  {k} = {_param_text(v)}")
    shown = list(result.discrete.items())
    lines.extend(_discrete_line(name, d) for name, d in shown[:5])
    if len(shown) > 5:
        lines.append(f"... and {len(shown) - 5} more enumerated sites (all of them in --out and FitResult.discrete)")
    by_reason: dict[str, list[str]] = {}
    for name, why in result.discrete_notes.items():
        by_reason.setdefault(why, []).append(name)
    for why, names in by_reason.items():
        which = names[0] if len(names) == 1 else f"{names[0]}, ..., {names[-1]} ({len(names)} sites)"
        lines.append(f"{which} (enumerated, summed out by the model): posterior {why}")
    if result.compare:
        rows = [result, *result.compare]
        width = max(len(r.name) for r in rows)
        lines.append(f"{'guide':<{width}}  {'-ELBO':>10}  {'s.e.':>8}  {'log p(data)':>11}  {'s.e.':>8}  "
                     f"{'PSIS k̂':<15}  {'time':>8}  {'params':>6}")
        for r in rows:
            mark = "  (stopped)" if r.stopped is not None else ""
            imp = r.importance
            ok = imp is not None and imp.log_evidence is not None and math.isfinite(imp.log_evidence)
            evidence = f"{imp.log_evidence:>11.4f}  {imp.se:>8.4f}" if ok else f"{'-':>11}  {'-':>8}"
            k = diagnose.cell(imp) if imp is not None else "n/a"
            lines.append(f"{r.name:<{width}}  {r.elbo.mean:>10.4f}  {r.elbo.se:>8.4f}  {evidence}  {k:<15}  "
                         f"{r.time:>7.2f}s  {r.num_params:>6}{mark}")
        lines.append("PSIS k̂: ≤ 0.5 good, 0.5-0.7 usable, > 0.7 unreliable (Yao et al. 2018); log p(data) is the "
                     "PSIS estimate of the evidence (docs/fit.md)")
        notes = {r.importance.note for r in rows if r.importance is not None and r.importance.khat is None}
        lines.extend(f"PSIS k̂ {n}" for n in sorted(n for n in notes if n))
        lines.extend(r.start_note for r in result.compare if r.start_note)
    if result.reference is not None:
        from . import reference as R

        lines.append(R.report(result, R.entries(result)).rstrip("\n"))
    return "\n".join(lines) + "\n"


def _discrete_line(name: str, d: enumeration.Discrete) -> str:
    """``z (enumerated: the model sums it out): posterior over 0..2 ...`` for the text report."""
    s = _discrete_summary(d)
    values = d.values.tolist()
    span = f"{values[0]}..{values[-1]}" if values == list(range(values[0], values[0] + len(values))) else str(values)
    if s["elements"] == 1:
        probs = ", ".join(f"{v}: {p:.3f}" for v, p in zip(values, np.ravel(d.probs)))
        return f"{name} (enumerated, summed out by the model): P = {{{probs}}}, most probable {np.ravel(d.mode)[0]}"
    counts = ", ".join(f"{v}: {c}" for v, c in zip(values, s["mode_counts"]))
    return (f"{name} (enumerated, summed out by the model): {s['elements']} elements over {span}; most probable "
            f"value {counts}; mean top probability {s['mean_top_prob']:.3f} ({d.draws} guide draws)")


def _param_text(v) -> str:
    """A param for the text report: a scalar or a short vector by its entries; a network's weights (more than
    16 entries) by shape and summary numbers; a nested param (a module's, an autoguide's flow) by its leaves."""
    if _nested(v):
        leaves = [np.asarray(x) for x in jax.tree.leaves(v)]
        shapes = ", ".join(str(x.shape) for x in leaves[:6]) + (", ..." if len(leaves) > 6 else "")
        return f"{len(leaves)} arrays, {sum(x.size for x in leaves):,} numbers: {shapes}"
    a = np.asarray(v)
    if a.ndim == 0:
        return f"{float(a):.4f}"
    if a.size > 16:
        return (f"array {a.shape}: mean {a.mean():.4g}, sd {a.std():.4g}, min {a.min():.4g}, max {a.max():.4g}")
    return np.array2string(a, precision=4, suppress_small=True, max_line_width=100, threshold=20)


# ---------------------------------------------------------------- plots (vgc.fitplots gathers the data)


def write_plots(result: FitResult, directory: str, draws: int = 20_000) -> list[str]:
    """Write the plots of ``result`` into ``directory`` and return their paths: see
    :func:`vgc.fitplots.write_plots`."""
    from .fitplots import write_plots as write

    return write(result, directory, draws)
