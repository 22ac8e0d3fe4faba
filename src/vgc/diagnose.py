"""Fit diagnostics: Pareto-smoothed importance sampling (PSIS) of a fitted guide against its model.

For draws z⁽ˢ⁾ ~ q the importance ratios r⁽ˢ⁾ = p(x, z⁽ˢ⁾) / q(z⁽ˢ⁾) say how well q covers the posterior. Yao,
Vehtari, Simpson and Gelman, "Yes, but did it work?: Evaluating variational inference" (ICML 2018) fit a
generalized Pareto distribution to their largest values: its shape k̂ reads ≤ 0.5 good, 0.5–0.7 usable, > 0.7
unreliable (the ratios' variance, and beyond 1 their mean, are infinite in practice). The same smoothed ratios
give an importance-sampling estimate of log p(x), the evidence, with a standard error (Vehtari, Simpson,
Gelman, Yao and Gabry, "Pareto smoothed importance sampling", JMLR 25(72), 2024).

The log ratios are exactly the single-particle ELBO terms :func:`vgc.fitting.neg_elbo` already averages (their
negatives): log p(x, z) − log q, where log q is the guide's whole trace log-density. For a VG guide that is its
base draws' densities plus the ``log_density`` of its ``Delta`` sites (the −log|det J| of each transform).
VG's transforms are invertible, so the auxiliary draws are a function of the model's latents and that sum is
the density q(z) of the latents themselves: the ratio is the right one, with no term left over. When the model
enumerates discrete sites, log p is their sum (TraceEnum_ELBO's terms), the marginal the guide targets.

ArviZ does the smoothing (the extra ``vgc[diag]``); it is imported only here, and only when a diagnostic runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

PIP_HINT = "pip install 'vgc[diag]'"
GOOD, USABLE = 0.5, 0.7  # Yao et al. 2018, section 2.2
MIN_DRAWS = 100


class Importance(NamedTuple):
    """The PSIS diagnostics of one fitted guide: ``khat`` (the Pareto shape k̂, None when not defined),
    ``log_evidence`` and ``se`` (the PSIS estimate of log p(data) and its standard error), ``ess`` (the
    importance-sampling effective sample size of the smoothed weights), ``draws`` (the guide's draws), and
    ``note`` (why there are no numbers, or None)."""

    khat: float | None
    log_evidence: float | None
    se: float | None
    ess: float | None
    draws: int
    note: str | None = None

    @property
    def reading(self) -> str | None:
        """``good`` (k̂ ≤ 0.5), ``usable`` (0.5 < k̂ ≤ 0.7) or ``unreliable`` (above, or not finite); None when
        k̂ is not defined."""
        return None if self.khat is None else reading(self.khat)


def reading(khat: float) -> str:
    """The standard reading of a Pareto k̂ (Yao et al. 2018): good, usable or unreliable."""
    if not math.isfinite(khat) or khat > USABLE:
        return "unreliable"
    return "good" if khat <= GOOD else "usable"


MEANING = {
    "good": "the guide covers the posterior; importance-weighted estimates are reliable",
    "usable": "the guide is usable, but importance-weighted estimates are noisy",
    "unreliable": "the guide misses part of the posterior: do not trust its tails or its variances",
}


def missing() -> str | None:
    """Why the diagnostics cannot run (ArviZ not installed), or None."""
    try:
        _psis_function()
    except ImportError:
        return f"needs ArviZ: {PIP_HINT}"
    return None


def _psis_function() -> Callable:
    """ArviZ's PSIS as ``f(log_ratios) -> (smoothed log weights, k̂)``: ``arviz.psislw`` before ArviZ 1.0,
    ``arviz_stats``'s array interface from 1.0 on (where the statistics moved)."""
    if legacy_arviz():
        import arviz

        return lambda lw: arviz.psislw(lw, reff=1.0)
    from arviz_stats.base import array_stats  # ArviZ ≥ 1.0; ImportError when neither is installed

    return lambda lw: array_stats.psislw(lw, r_eff=1.0)


def legacy_arviz() -> bool:
    """True for ArviZ before 1.0 (``arviz.psislw``, ``arviz.InferenceData``), False for 1.0 on (statistics in
    ``arviz_stats``, data in ``xarray.DataTree``) or when ArviZ is not installed."""
    try:
        import arviz
    except ImportError:
        return False
    major = str(getattr(arviz, "__version__", "0")).split(".")[0]
    return major.isdigit() and int(major) < 1


def importance(log_ratios: np.ndarray, undefined: str | None = None) -> Importance:
    """PSIS of the log importance ratios ``log_ratios`` (one per independent draw of the guide), or an
    :class:`Importance` without numbers saying ``undefined`` (why k̂ is not defined) or that ArviZ is missing.

    k̂ is ArviZ's (relative efficiency 1: the draws are independent). The evidence is the mean of the smoothed
    ratios, log p̂(x) = log((1/S) Σ r̃⁽ˢ⁾); its s.e. is the delta method's, √((S Σ w̃² − 1)/(S − 1)) for the
    normalized smoothed weights w̃, and the ESS is 1/Σ w̃². Both assume a finite variance of the ratios:
    with k̂ > 0.7 they are not to be trusted either. A non-finite log ratio that is not −∞ (p(x, z) = 0
    is a weight 0) makes every number non-finite (nan) rather than being dropped.
    """
    lr = np.asarray(log_ratios, dtype=np.float64).ravel()
    if undefined is not None:
        return Importance(None, None, None, None, len(lr), undefined)
    why = missing()
    if why is not None:
        return Importance(None, None, None, None, len(lr), why)
    if len(lr) < MIN_DRAWS:  # the Pareto fit uses the largest fifth: too few points to fit a tail to
        return Importance(None, None, None, None, len(lr),
                          f"not computed: PSIS needs at least {MIN_DRAWS} draws, not {len(lr)} (--eval-particles)")
    if np.isnan(lr).any() or np.isposinf(lr).any() or not np.isfinite(lr).any():
        return Importance(math.nan, math.nan, math.nan, math.nan, len(lr),
                          "some log importance ratios are nan or +inf (or none is finite)")
    import warnings

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # ArviZ warns when k̂ > 0.7; the reading below says so in words
        warnings.simplefilter("ignore")
        smoothed, khat = _psis_function()(lr)
    smoothed = np.asarray(smoothed, dtype=np.float64)
    khat = float(np.asarray(khat))
    smoothed = smoothed - _logsumexp(smoothed)  # normalized (ArviZ ≥ 1.0 may not normalize)
    # PSIS leaves the bulk (below the tail it smooths) unchanged up to the normalizing constant: the shift
    # between raw and normalized smoothed log weights there is log Σ r̃. The median over the lower half is
    # that constant, robust to rounding.
    finite = np.isfinite(lr)
    lower = finite & (lr <= np.quantile(lr[finite], 0.5))
    log_total = float(np.median(lr[lower] - smoothed[lower]))
    n = len(lr)
    w = np.exp(smoothed)
    sum_sq = float(np.sum(w * w))
    se = math.sqrt(max(n * sum_sq - 1.0, 0.0) / (n - 1)) if n > 1 else math.nan
    return Importance(khat, log_total - math.log(n), se, 1.0 / sum_sq, n)


def _logsumexp(x: np.ndarray) -> float:
    top = float(np.max(x))
    if not math.isfinite(top):
        return top
    return top + math.log(float(np.sum(np.exp(x - top))))


def subsampled_plates(model: Callable, args: tuple, kwargs: dict) -> list[str]:
    """The model's plates that subsample their data (a step sees part of it): the log joint is then a
    stochastic estimate and k̂ is not defined."""
    from .modelcheck import trace_model

    return [p.name for p in trace_model(model, args, kwargs).plates.values() if p.subsample < p.size]


def undefined_reason(plates: list[str]) -> str | None:
    """The note for a model with subsampled ``plates`` (None when there are none)."""
    if not plates:
        return None
    names = ", ".join(f"'{p}'" for p in plates)
    return (f"not defined: the model subsamples plate {names}, so its log joint is a stochastic estimate and the "
            "importance ratios are not those of the posterior")


def text(imp: Importance) -> str:
    """The report line for one guide: ``PSIS k̂ 0.59 (usable: ...); log p(data) ≈ -3.21 ± 0.01 (ESS 812 of
    10,000 draws)``, or the note."""
    if imp.khat is None:
        return f"PSIS k̂: {imp.note}"
    if not math.isfinite(imp.khat) and imp.note:
        return f"PSIS k̂: {imp.note}"
    r = reading(imp.khat)
    evidence = (f"log p(data) ≈ {imp.log_evidence:.4f} ± {imp.se:.4f} (PSIS, ESS {imp.ess:,.0f} of "
                f"{imp.draws:,} draws)")
    if r == "unreliable":
        evidence += ", not to be trusted at this k̂"
    return f"PSIS k̂ {imp.khat:.2f} ({r}: {MEANING[r]}); {evidence}"


def cell(imp: Importance) -> str:
    """k̂ and its reading for the comparison table: ``0.59 usable``, ``n/a`` or ``needs vgc[diag]``."""
    if imp.khat is None:
        return "needs vgc[diag]" if imp.note and PIP_HINT in imp.note else "n/a"
    if not math.isfinite(imp.khat):
        return "inf unreliable"
    return f"{imp.khat:.2f} {reading(imp.khat)}"


def summary(imp: Importance) -> dict:
    """The ``psis`` object of the JSON report (docs/fit.schema.json)."""

    def num(x):
        return None if x is None or not math.isfinite(x) else round(float(x), 6)

    evidence = None
    if imp.log_evidence is not None and math.isfinite(imp.log_evidence):
        evidence = {"mean": num(imp.log_evidence), "se": num(imp.se)}
    khat = imp.khat
    return {"khat": None if khat is None else (num(khat) if math.isfinite(khat) else None),
            "reading": imp.reading, "log_evidence": evidence, "ess": num(imp.ess), "draws": imp.draws,
            "note": imp.note}
