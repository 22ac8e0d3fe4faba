"""A reference posterior from NumPyro's NUTS, and every fitted guide's moments against it (``--reference nuts``).

A variational fit is checked against a long MCMC run on the same model and data: for every scalar entry of
every latent, each guide's posterior mean and standard deviation beside NUTS's, the mean error in units of
NUTS's s.d. and the ratio of the s.d.s. NUTS's own reliability comes with it: rank-normalized split R-hat and
bulk ESS (Vehtari, Gelman, Simpson, Carpenter and Bürkner, "Rank-normalization, folding, and localization: an
improved R-hat", Bayesian Analysis 2021, computed by ArviZ) and the divergent transitions. Its troubles are
warnings, never hidden: the centred funnel and the centred eight schools are known to give divergences
(Betancourt and Girolami 2015), and then NUTS is not the truth either.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

RHAT_LIMIT = 1.01  # Vehtari et al. 2021
ESS_PER_CHAIN = 100  # ditto: a bulk ESS of at least 100 per chain (400 for 4 chains)
SHOWN = 20  # entries in the text table; the JSON has all


class ReferenceUnavailable(Exception):
    """A reference that cannot be run (a subsampled plate, ArviZ missing): a usage error."""


class NUTS(NamedTuple):
    """How to run the reference: ``chains`` run one after the other, each ``warmup`` adaptation steps then
    ``draws`` kept draws (Stan's defaults: 4 × 1000 + 1000), NumPyro's ``target_accept`` 0.8, from ``seed``."""

    chains: int = 4
    warmup: int = 1000
    draws: int = 1000
    seed: int = 0
    target_accept: float = 0.8


class Reference:
    """A NUTS run: ``draws`` (site → array of shape (chains, draws, *site shape)), ``divergences`` (after
    warmup, per chain), ``rhat`` and ``ess`` (site → array of the site's shape), ``seconds``, ``settings``
    and ``warnings`` (sentences: divergences, R-hat > 1.01, low ESS)."""

    def __init__(self, draws: dict, divergences: np.ndarray, rhat: dict, ess: dict, seconds: float,
                 settings: NUTS, model: Callable, args: tuple, kwargs: dict):
        self.draws = draws
        self.divergences = divergences
        self.rhat = rhat
        self.ess = ess
        self.time = seconds
        self.settings = settings
        self.model, self.args, self.kwargs = model, args, kwargs
        self.warnings = _warnings(self)

    def flat(self, site: str) -> np.ndarray:
        """The site's draws with the chains pooled: shape (chains × draws, *site shape)."""
        v = self.draws[site]
        return v.reshape((-1, *v.shape[2:]))

    def __repr__(self) -> str:
        s = self.settings
        return f"<vgc.reference.Reference NUTS {s.chains}×{s.draws}: {int(self.divergences.sum())} divergences>"


def validate(settings: NUTS) -> NUTS:
    """``settings`` if they make sense, else :class:`ReferenceUnavailable` saying which one does not."""
    for field in ("chains", "warmup", "draws"):
        v = getattr(settings, field)
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < (2 if field == "chains" else 1):
            least = 2 if field == "chains" else 1
            raise ReferenceUnavailable(f"--nuts-{field} must be an integer of at least {least} (R-hat needs two chains "
                                  f"or more), not {v!r}" if field == "chains" else
                                  f"--nuts-{field} must be an integer of at least {least}, not {v!r}")
    return settings


def settings(reference, subsampled: tuple | list = ()) -> NUTS:
    """The NUTS settings for ``reference`` (``"nuts"`` or a :class:`NUTS`), checked; :class:`ReferenceUnavailable`
    for an unknown method, bad settings, a model that subsamples the ``subsampled`` plates, or no ArviZ."""
    from . import diagnose

    if isinstance(reference, str):
        if reference != "nuts":
            raise ReferenceUnavailable(f"unknown reference {reference!r}: the reference is 'nuts'")
        reference = NUTS()
    if not isinstance(reference, NUTS):
        raise ReferenceUnavailable(f"reference must be 'nuts' or a vgc.reference.NUTS, not {type(reference).__name__}")
    why = refusal(subsampled) or (f"--reference nuts {diagnose.missing()}" if diagnose.missing() else None)
    if why:
        raise ReferenceUnavailable(why)
    return validate(reference)


def refusal(subsampled: tuple | list) -> str | None:
    """Why NUTS cannot run on a model that subsamples ``subsampled`` plates (it needs the full likelihood)."""
    if not subsampled:
        return None
    names = ", ".join(f"'{p}'" for p in subsampled)
    return (f"--reference nuts: the model subsamples plate {names}; NUTS needs the full likelihood (each step "
            "must see all the data): run the reference without subsampling")


def run(model: Callable, args: tuple, kwargs: dict, settings: NUTS | None = None, progress: str = "none") -> Reference:
    """Run NUTS on ``model(*args, **kwargs)``: ``settings.chains`` chains one after the other (no device count
    is changed), with NumPyro's progress bar when ``progress`` is ``"bar"``, a line before and after when
    ``"lines"``. Sites the model enumerates are summed out by NumPyro (they need funsor)."""
    from . import diagnose
    from .modelcheck import trace_model

    if diagnose.missing():
        raise ReferenceUnavailable(f"--reference nuts {diagnose.missing()} (R-hat and ESS are ArviZ's)")
    import jax
    from numpyro.infer import MCMC
    from numpyro.infer import NUTS as Kernel

    s = validate(settings or NUTS())
    latents = [site.name for site in trace_model(model, args, kwargs).latents()]
    kernel = Kernel(model, target_accept_prob=s.target_accept)
    mcmc = MCMC(kernel, num_warmup=s.warmup, num_samples=s.draws, num_chains=s.chains, chain_method="sequential",
                progress_bar=progress == "bar")
    if progress == "lines":
        sys.stderr.write(f"NUTS: {s.chains} chains × ({s.warmup} warmup + {s.draws} draws), one after the other\n")
    start = time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*chains.*")  # NumPyro's "not enough devices": we run them in turn
        mcmc.run(jax.random.PRNGKey(s.seed), *args, extra_fields=("diverging",), **kwargs)
    seconds = time.perf_counter() - start
    samples = mcmc.get_samples(group_by_chain=True)
    draws = {k: np.asarray(samples[k]) for k in latents if k in samples}
    diverging = np.asarray(mcmc.get_extra_fields(group_by_chain=True)["diverging"]).sum(axis=1)
    rhat, ess = {}, {}
    for name, v in draws.items():
        rhat[name], ess[name] = _rhat_ess(v)
    if progress == "lines":
        sys.stderr.write(f"NUTS: done in {seconds:.1f} s, {int(diverging.sum())} divergent transitions\n")
    return Reference(draws, diverging, rhat, ess, seconds, s, model, args, kwargs)


def _rhat_ess(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank-normalized split R-hat and bulk ESS of every entry of ``v`` (chains, draws, *shape), from ArviZ
    (``arviz.rhat``/``arviz.ess`` before 1.0, ``arviz_stats``'s array interface from 1.0 on)."""
    shape = v.shape[2:]
    flat = v.reshape(v.shape[0], v.shape[1], -1).astype(np.float64)
    from .diagnose import legacy_arviz

    if legacy_arviz():  # ArviZ < 1.0: functions of one (chains, draws) array
        import arviz

        r = [float(arviz.rhat(flat[:, :, i])) for i in range(flat.shape[2])]
        e = [float(arviz.ess(flat[:, :, i], method="bulk")) for i in range(flat.shape[2])]
        return np.reshape(r, shape), np.reshape(e, shape)
    from arviz_stats.base import array_stats

    moved = np.moveaxis(flat, 2, 0)  # (entries, chains, draws): chain and draw axes last
    r = np.asarray(array_stats.rhat(moved, chain_axis=-2, draw_axis=-1))
    e = np.asarray(array_stats.ess(moved, chain_axis=-2, draw_axis=-1, method="bulk"))
    return r.reshape(shape), e.reshape(shape)


def _worst(values: dict, pick) -> tuple[float, str]:
    """(the worst value over every entry, its label); ``pick`` is max or min."""
    best, where = None, ""
    for name, v in values.items():
        a = np.asarray(v, dtype=float)
        if a.size == 0:
            continue
        flat = np.where(np.isfinite(a.ravel()), a.ravel(), np.inf if pick is max else -np.inf)
        i = int(np.argmax(flat) if pick is max else np.argmin(flat))
        if best is None or (flat[i] > best if pick is max else flat[i] < best):
            best, where = float(flat[i]), label(name, np.unravel_index(i, a.shape) if a.ndim else ())
    return (math.nan if best is None else best), where


def _warnings(ref: Reference) -> list[str]:
    s = ref.settings
    out = []
    n = int(ref.divergences.sum())
    if n:
        out.append(f"NUTS had {n} divergent transitions after warmup ({100 * n / (s.chains * s.draws):.1f}% of draws): "
                   "it may be biased where the posterior is hard (a funnel's neck); a non-centred model or a higher "
                   "target_accept helps, and until then the reference is not the truth either")
    worst, where = _worst(ref.rhat, max)
    if not worst <= RHAT_LIMIT:
        out.append(f"NUTS's R-hat is {worst:.3f} at {where} (above {RHAT_LIMIT}): its chains disagree; run more "
                   "warmup and draws")
    low, where = _worst(ref.ess, min)
    if not low >= ESS_PER_CHAIN * s.chains:
        out.append(f"NUTS's bulk ESS is {low:.0f} at {where} (below {ESS_PER_CHAIN} per chain, "
                   f"{ESS_PER_CHAIN * s.chains} for {s.chains} chains): its means and s.d.s are rough; run more draws")
    return out


def label(site: str, index: tuple) -> str:
    """``theta[3]`` for an entry of a site, ``mu`` for a scalar."""
    return f"{site}[{','.join(str(int(i)) for i in index)}]" if index else site


class Entry(NamedTuple):
    """One scalar entry of a latent: NUTS's mean, s.d., R-hat and bulk ESS, and per guide (name →
    (mean, s.d., mean error in NUTS s.d.s, s.d. ratio guide / NUTS))."""

    site: str
    index: tuple
    mean: float
    sd: float
    rhat: float
    ess: float
    guides: dict


def compare(result, reference: Reference, draws: int = 4000) -> list[Entry]:
    """Every latent entry's moments under NUTS and under each guide of ``result`` (the VG guide, then the
    compared autoguides), from ``draws`` draws of each guide."""
    import jax

    key = jax.random.PRNGKey(result.settings.seed + 2)
    guides = {r.name: r.sample(draws, key) for r in [result, *result.compare]}
    rows = []
    for site in reference.draws:
        pooled = reference.flat(site)
        shape = pooled.shape[1:]
        ref_mean, ref_sd = pooled.mean(axis=0), pooled.std(axis=0, ddof=1)
        stats = {}
        for name, d in guides.items():
            if site in d:
                g = np.asarray(d[site], dtype=np.float64).reshape((-1, *shape))
                stats[name] = (g.mean(axis=0), g.std(axis=0, ddof=1))
        for index in np.ndindex(*shape):
            m, sd = float(ref_mean[index]), float(ref_sd[index])
            per = {}
            for name, (gm, gs) in stats.items():
                a, b = float(gm[index]), float(gs[index])
                per[name] = (a, b, (a - m) / sd if sd > 0 else math.nan, b / sd if sd > 0 else math.nan)
            rows.append(Entry(site, index, m, sd, float(reference.rhat[site][index]),
                              float(reference.ess[site][index]), per))
    return rows


def report(result, entries: list[Entry]) -> str:
    """The text block of ``--reference nuts``: the run, its warnings and the moments table."""
    ref = result.reference
    s = ref.settings
    worst, _ = _worst(ref.rhat, max)
    low, _ = _worst(ref.ess, min)
    lines = [f"reference: NUTS, {s.chains} chains × {s.draws} draws ({s.warmup} warmup), {ref.time:.2f} s, "
             f"{int(ref.divergences.sum())} divergent transitions, max R-hat {worst:.3f}, min bulk ESS {low:,.0f}"]
    lines.extend(f"warning: {w}" for w in ref.warnings)
    names = [result.name, *(r.name for r in result.compare)]
    width = max([len(label(e.site, e.index)) for e in entries] + [5])
    lines.append("posterior moments against NUTS (Δmean: the guide's mean error in NUTS s.d.s; sd×: the guide's "
                 "s.d. / NUTS's):")
    cols = [max(17, len(n)) for n in names]  # each guide: two columns under its name
    head = f"{'':<{width}}  {'NUTS mean':>10}  {'sd':>8}  {'R-hat':>6}  {'ESS':>6}"
    lines.append(head + "".join(f"  {n:>{c}}" for n, c in zip(names, cols)))
    lines.append(f"{'entry':<{width}}  {'':>10}  {'':>8}  {'':>6}  {'':>6}" + "".join(
        f"  {'Δmean':>{c - 9}} {'sd×':>8}" for c in cols))
    for e in entries[:SHOWN]:
        row = (f"{label(e.site, e.index):<{width}}  {e.mean:>10.4f}  {e.sd:>8.4f}  {e.rhat:>6.3f}  "
               f"{e.ess:>6.0f}")
        for n, c in zip(names, cols):
            m = e.guides.get(n)
            row += f"  {m[2]:>+{c - 9}.2f} {m[3]:>8.2f}" if m else f"  {'':>{c - 9}} {'':>8}"
        lines.append(row)
    if len(entries) > SHOWN:
        lines.append(f"... and {len(entries) - SHOWN} more entries (all of them in --format json)")
    return "\n".join(lines) + "\n"


def summary(result, entries: list[Entry]) -> dict:
    """The ``reference`` object of the JSON report (docs/fit.schema.json)."""
    ref = result.reference
    s = ref.settings

    def num(x):
        return round(float(x), 6) if math.isfinite(x) else None

    return {"method": "nuts", "chains": s.chains, "warmup": s.warmup, "draws": s.draws, "seed": s.seed,
            "time_s": round(ref.time, 4), "divergences": int(ref.divergences.sum()), "warnings": list(ref.warnings),
            "entries": [{"entry": label(e.site, e.index), "site": e.site, "index": [int(i) for i in e.index],
                         "mean": num(e.mean), "sd": num(e.sd), "rhat": num(e.rhat), "ess_bulk": num(e.ess),
                         "guides": {n: {"mean": num(m[0]), "sd": num(m[1]), "mean_error": num(m[2]),
                                        "sd_ratio": num(m[3])} for n, m in e.guides.items()}}
                        for e in entries]}


def entries(result, draws: int = 4000) -> list[Entry]:
    """:func:`compare` for ``result.reference``, computed once per result (the report and the JSON share it)."""
    cached = getattr(result, "_reference_entries", None)
    if cached is None or cached[0] is not result.reference:
        cached = (result.reference, compare(result, result.reference, draws))
        result._reference_entries = cached
    return cached[1]
