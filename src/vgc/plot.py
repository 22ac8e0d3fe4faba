"""PNG plots for ``vgc fit --plot DIR``: loss curves, 2-D densities, marginal histograms and posterior predictive
checks.

Everything here is a pure function of plain numpy data: :mod:`vgc.fit` runs the fits, draws the samples and
evaluates the model's log density on a grid, and hands the arrays over. Keeping jax and numpyro out of this
module means the plots can be tested on small synthetic arrays without running a fit, and fit.py can be tested
without matplotlib.

matplotlib is an optional extra (``vgc[plot]``), imported only when a plot is made; :func:`require` turns its
absence into :class:`PlotUnavailable` with the install hint. Figures are built with the object-oriented API
(:class:`matplotlib.figure.Figure` on a :class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`) and never
through ``pyplot``: pyplot keeps a global registry of figures and selects a global backend, so going through it
would leak memory in long sessions, need a display on some setups, and could switch the backend of a user who
calls ``vgc.fit`` from a notebook. The user's rcParams (style, fonts) are respected.

Every plot is written atomically (a temporary file in the target directory, then :func:`os.replace`), so an
exception while rendering leaves neither a truncated PNG nor a stray temporary file, and an older plot at the
same path survives intact. Each plotting function returns the figure's title (``""`` when it has none); for
:func:`marginals` that title carries the note when not every entry got a panel.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import warnings
from collections.abc import Mapping

import numpy as np

DPI = 110
INSTALL_HINT = "plots need matplotlib: pip install 'vgc[plot]'"

# Figure sizes are multiples of 0.5 in so that size × DPI is an exact pixel count (4.1 * 110 is 450.99…,
# which Agg would truncate to 450).
LOSS_FIGSIZE = (6.5, 4.5)
DENSITY_PANEL = (5.0, 4.5)  # width, height of one density panel
DENSITY_COLORBAR = 1.0  # extra width for the shared colour bar
MARGINAL_PANEL = (4.0, 3.0)
MARGINAL_COLUMNS = 4

# Contour levels as fractions of each panel's maximum: the unnormalized posterior and a guide's histogram have
# unrelated scales, and only shapes are meant to be compared. The lowest level (1 %) is exp(-4.6) below the mode,
# about the 3σ contour of a Gaussian, so tails that a guide misses remain visible.
LEVELS = (0.01, 0.03, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
OUTLINE_LEVELS = (0.05, 0.5)  # posterior contours repeated on every guide panel, for comparison
CMAP = "Blues"


class PlotUnavailable(Exception):
    """matplotlib is not installed (it is the optional extra ``vgc[plot]``)."""


def require():
    """Import matplotlib and return the module, or raise :class:`PlotUnavailable` with the install hint.

    The Agg canvas is imported here as well, but no backend is selected: each figure gets its own
    ``FigureCanvasAgg``, so the global backend (``matplotlib.use``, ``MPLBACKEND``) of a user who already works
    with pyplot is left as it is.
    """
    try:
        import matplotlib
        import matplotlib.backends.backend_agg  # a broken install fails here, not mid-plot
        import matplotlib.figure
    except ImportError:
        raise PlotUnavailable(INSTALL_HINT) from None
    return matplotlib


def gaussian_smooth(h: np.ndarray, sigma_cells: float = 1.0) -> np.ndarray:
    """``h`` smoothed along every axis with a normalised Gaussian kernel of ``sigma_cells`` cells.

    The result has the shape of ``h`` and the same sum: mass that the kernel would push past an edge is
    reflected back in, so a histogram stays a histogram and a mode next to the border is not eaten away.
    ``sigma_cells == 0`` returns a copy.
    """
    h = np.asarray(h, dtype=float)
    if not (sigma_cells >= 0 and math.isfinite(sigma_cells)):
        raise ValueError(f"sigma_cells must be finite and >= 0, not {sigma_cells!r}")
    out = h.copy()
    if sigma_cells == 0 or h.size == 0:
        return out
    for axis, n in enumerate(h.shape):
        out = np.moveaxis(np.tensordot(_smoothing_matrix(n, sigma_cells), out, axes=([1], [axis])), 0, axis)
    return out


def _smoothing_matrix(n: int, sigma: float) -> np.ndarray:
    """The (n, n) matrix of a 1-D Gaussian convolution with reflecting edges; every column sums to 1."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    weights /= weights.sum()
    source = np.repeat(np.arange(n), offsets.size)
    target = (source + np.tile(offsets, n)) % (2 * n)  # reflection about both edges has period 2n
    target = np.where(target >= n, 2 * n - 1 - target, target)
    matrix = np.zeros((n, n))
    np.add.at(matrix, (target, source), np.tile(weights, n))
    return matrix


def grid_density(xs: np.ndarray, ys: np.ndarray, draws: np.ndarray, sigma_cells: float = 1.0) -> np.ndarray:
    """Density of 2-D ``draws`` (shape (n, 2), columns x and y) on the grid of cell centres ``xs`` × ``ys``.

    A 2-D histogram with one bin per grid cell (edges halfway between centres), smoothed by
    :func:`gaussian_smooth` and divided by the number of finite draws and the cell areas. Shape
    ``(len(ys), len(xs))``, like a log density evaluated on the grid. Draws outside the grid are dropped, so the
    result integrates to the fraction of draws inside it (heavy-tailed guides put some mass outside any grid).
    """
    xedges, yedges = _edges(xs, "xs"), _edges(ys, "ys")
    draws = np.asarray(draws, dtype=float)
    if draws.ndim != 2 or draws.shape[1] != 2:
        raise ValueError(f"draws must have shape (n, 2), not {draws.shape}")
    draws = draws[np.isfinite(draws).all(axis=1)]
    counts, _, _ = np.histogram2d(draws[:, 1], draws[:, 0], bins=[yedges, xedges])
    area = np.outer(np.diff(yedges), np.diff(xedges))
    return gaussian_smooth(counts, sigma_cells) / (max(len(draws), 1) * area)


def _edges(centres: np.ndarray, name: str) -> np.ndarray:
    c = np.asarray(centres, dtype=float)
    if c.ndim != 1 or c.size < 2 or not np.isfinite(c).all() or not (np.diff(c) > 0).all():
        raise ValueError(f"{name} must be a strictly increasing 1-D grid of at least 2 finite points")
    mid = (c[:-1] + c[1:]) / 2
    return np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])


def loss_curves(curves: dict[str, np.ndarray], path: str, title: str | None = None) -> str:
    """Plot one loss curve (−ELBO estimate per step) per guide into the PNG ``path``; return the title.

    The first entry is the VG guide and is drawn on top with a thicker line. Each curve is shown raw (faint)
    and as a running median over ``max(1, len // 50)`` steps (solid: a guide with heavy tails, a Cauchy draw,
    has single-step losses far above the rest, which would make a running mean jump). Curves may differ in
    length; non-finite
    values are left out (a fit stopped on NaN ends in some). The y-range comes from robust quantiles of the
    running medians, so the huge losses of the first steps do not flatten the rest.
    """
    if not curves:
        raise ValueError("loss_curves needs at least one curve")
    require()
    fig, ax = _figure(LOSS_FIGSIZE)
    smoothed = []
    longest = 1
    for i, (name, curve) in enumerate(curves.items()):
        y = np.asarray(curve, dtype=float).ravel()
        finite = np.isfinite(y)
        y = y[: np.flatnonzero(finite)[-1] + 1] if finite.any() else y[:0]
        y = np.where(np.isfinite(y), y, np.nan)  # ±inf would pull a line off the canvas; NaN breaks it instead
        steps = np.arange(len(y))
        longest = max(longest, len(y))
        mean = _running_median(y, max(1, len(y) // 50))
        smoothed.append(mean)
        vg = i == 0
        color = f"C{i}"
        ax.plot(steps, y, color=color, alpha=0.25, linewidth=0.8, zorder=2.5 if vg else 1)
        label = name if len(y) else f"{name} (no finite loss)"
        ax.plot(steps, mean, color=color, linewidth=2.2 if vg else 1.3, zorder=4 if vg else 3, label=label)
    ylim = _loss_ylim(smoothed)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlim(0, longest - 1 if longest > 1 else 1)
    ax.set_xlabel("step")
    ax.set_ylabel("−ELBO (loss)")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    return _finish(fig, path, title or "")


def _running_median(y: np.ndarray, window: int) -> np.ndarray:
    """Centred median over ``window`` steps (shorter at the ends), skipping NaNs; NaN where a window has no
    finite value."""
    if len(y) == 0:
        return y.copy()
    half = window // 2
    padded = np.concatenate(
        [np.full(half, np.nan), np.where(np.isfinite(y), y, np.nan), np.full(window - 1 - half, np.nan)]
    )
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN window: NaN, as documented
        return np.nanmedian(windows, axis=1)


def _loss_ylim(smoothed: list[np.ndarray]) -> tuple[float, float] | None:
    """From the 1st percentile of all of each curve to the 99th of its later half, plus a margin."""
    lows, highs = [], []
    for m in smoothed:
        m = m[np.isfinite(m)]
        if m.size == 0:
            continue
        late = m[len(m) // 2 :]
        lows.append(np.percentile(m, 1))
        highs.append(np.percentile(late, 99))
    if not lows:
        return None
    lo, hi = min(lows), max(max(highs), min(lows))
    span = hi - lo
    if not span > 0 or not math.isfinite(span):
        span = max(abs(hi), 1.0) * 0.1
    return lo - 0.08 * span, hi + 0.15 * span


def density_panels(
    xs: np.ndarray,
    ys: np.ndarray,
    log_target: np.ndarray,
    samples: dict[str, np.ndarray],
    labels: tuple[str, str],
    path: str,
    title: str | None = None,
) -> str:
    """Compare a 2-D posterior with guides' draws, side by side on the grid ``xs`` × ``ys``; return the title.

    The first panel shows the model's unnormalized posterior, ``exp(log_target - max)``, where ``log_target``
    has shape ``(len(ys), len(xs))``; -inf and NaN (outside the support) are masked. Then one panel per guide,
    in dict order, with :func:`grid_density` of ``samples[name]`` (shape (n, 2); columns are the two latents
    named by ``labels``). All panels use the same filled contours at fixed fractions of their own maximum
    (:data:`LEVELS`), so shapes compare directly, and the guide panels repeat two posterior contours as dashed
    grey lines.
    """
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    _edges(xs, "xs")
    _edges(ys, "ys")
    log_target = np.asarray(log_target, dtype=float)
    if log_target.shape != (len(ys), len(xs)):
        raise ValueError(f"log_target must have shape (len(ys), len(xs)) {(len(ys), len(xs))}, not {log_target.shape}")
    densities = {name: grid_density(xs, ys, draws) for name, draws in samples.items()}
    require()
    n = 1 + len(densities)
    width, height = DENSITY_PANEL
    fig, axes = _figure((width * n + DENSITY_COLORBAR, height), ncols=n, sharex=True, sharey=True)
    axes = list(np.atleast_1d(axes))

    finite = np.isfinite(log_target)
    posterior = None
    if finite.any():
        posterior = np.ma.masked_where(~finite, np.exp(np.where(finite, log_target - log_target[finite].max(), 0)))
    filled = _contour_panel(axes[0], xs, ys, posterior, "posterior (unnormalized)", "no finite log density")
    for ax, (name, density) in zip(axes[1:], densities.items(), strict=True):
        cs = _contour_panel(ax, xs, ys, density, name, "no draws inside the grid")
        if filled is None:
            filled = cs
        if posterior is not None:
            ax.contour(xs, ys, posterior, levels=OUTLINE_LEVELS, colors="0.35", linewidths=0.8, linestyles="dashed")
    for ax in axes:
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])
        ax.set_xlabel(labels[0])
    axes[0].set_ylabel(labels[1])
    if filled is not None:
        fig.colorbar(filled, ax=axes, label="fraction of panel maximum", shrink=0.9)
    return _finish(fig, path, title or "")


def _contour_panel(ax, xs, ys, z, name: str, empty: str):
    """Filled contours of ``z`` scaled to its maximum, or the note ``empty``; the contour set or None."""
    ax.set_title(name)
    top = float(z.max()) if z is not None and np.ma.count(z) else 0.0
    if not top > 0:
        ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes, color="0.4")
        return None
    # A hair above 1 so the mode itself, exactly 1.0 after scaling, falls inside the top band.
    levels = [*LEVELS[:-1], LEVELS[-1] * (1 + 1e-9)]
    return ax.contourf(xs, ys, z / top, levels=levels, cmap=CMAP, vmin=-0.15, vmax=1.0)


def marginals(
    samples: dict[str, dict[str, np.ndarray]],
    path: str,
    max_panels: int = 24,
    title: str | None = None,
    reference: dict[str, np.ndarray] | None = None,
    reference_name: str = "NUTS",
) -> str:
    """Histograms of every scalar entry of every latent site, one overlay per guide; return the title.

    ``samples[guide][site]`` has shape ``(n, *site_shape)``. A site of shape (8,) gives panels ``theta[0]`` …
    ``theta[7]``, shape () gives ``mu``. At most ``max_panels`` panels, in site order of first appearance, on a
    grid of up to :data:`MARGINAL_COLUMNS` columns; when entries are left out, the title says so
    ("first 24 of 40 entries"). Each panel overlays one step histogram (density) per guide that has the site,
    over 50 bins spanning the pooled 1st–99th percentiles (heavy tails would otherwise squeeze the bulk into
    a bin or two). A site must have the same shape in every guide that has it. ``reference`` (site → draws, e.g.
    NUTS's) is overlaid on every panel as a black dashed line named ``reference_name``; the bins span it too.
    """
    if max_panels < 1:
        raise ValueError(f"max_panels must be at least 1, not {max_panels}")
    sites: dict[str, tuple[int, ...]] = {}
    owner: dict[str, str] = {}
    for guide, draws in samples.items():
        for site, value in draws.items():
            shape = np.shape(value)
            if len(shape) == 0:
                raise ValueError(f"samples[{guide!r}][{site!r}] must have a leading draw axis")
            if site in sites and sites[site] != shape[1:]:
                raise ValueError(
                    f"site {site!r} has shape {sites[site]} in guide {owner[site]!r} but {shape[1:]} in {guide!r}"
                )
            sites.setdefault(site, shape[1:])
            owner.setdefault(site, guide)
    total = sum(math.prod(shape) for shape in sites.values())
    if total == 0:
        raise ValueError("marginals needs at least one site with at least one entry")
    entries = _first_entries(sites, max_panels)
    note = f"first {len(entries)} of {total} entries" if total > len(entries) else ""
    full_title = f"{title} ({note})" if title and note else title or note

    require()
    from matplotlib.lines import Line2D

    ncols = min(MARGINAL_COLUMNS, len(entries))
    nrows = math.ceil(len(entries) / ncols)
    width, height = MARGINAL_PANEL
    fig, axes = _figure((width * ncols, height * nrows), nrows=nrows, ncols=ncols, squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[len(entries) :]:
        ax.set_visible(False)
    guides = list(samples)
    for ax, (site, index) in zip(flat, entries):
        values = {}
        for guide in guides:
            if site in samples[guide]:
                v = np.asarray(samples[guide][site], dtype=float)
                v = v.reshape(len(v), -1)[:, np.ravel_multi_index(index, sites[site])] if index else v.ravel()
                values[guide] = v[np.isfinite(v)]
        ref = None
        if reference is not None and site in reference:
            ref = np.asarray(reference[site], dtype=float)
            ref = ref.reshape(len(ref), -1)[:, np.ravel_multi_index(index, sites[site])] if index else ref.ravel()
            ref = ref[np.isfinite(ref)]
        edges = _bins(np.concatenate([*values.values(), *([ref] if ref is not None else [])]))
        for i, guide in enumerate(guides):
            v = values.get(guide)
            if edges is None or v is None or v.size == 0:
                continue
            density, _ = np.histogram(v, bins=edges, density=True)
            ax.stairs(density, edges, color=f"C{i}", linewidth=1.8 if i == 0 else 1.2, zorder=3 if i == 0 else 2)
        if edges is not None and ref is not None and ref.size:
            density, _ = np.histogram(ref, bins=edges, density=True)
            ax.stairs(density, edges, color="black", linestyle="--", linewidth=1.3, zorder=4)
        ax.set_title(_entry_label(site, index), fontsize="medium")
        ax.tick_params(labelsize="small")
        if edges is None:
            ax.text(0.5, 0.5, "no finite draws", ha="center", va="center", transform=ax.transAxes, color="0.4")
    # Proxy handles: the first panel's site may be missing from some guides, the legend should still list all.
    handles = [Line2D([], [], color=f"C{i}", linewidth=1.8 if i == 0 else 1.2) for i in range(len(guides))]
    names = list(guides)
    if reference is not None:
        handles.append(Line2D([], [], color="black", linestyle="--", linewidth=1.3))
        names.append(reference_name)
    flat[0].legend(handles, names, fontsize="small")
    return _finish(fig, path, full_title)


PPC_PANEL = (4.5, 3.5)
PPC_COLUMNS = 3
PPC_LINES = 20  # replicated data sets drawn one by one (faint), per guide


def ppc(
    observed: dict[str, np.ndarray],
    replicated: dict[str, dict[str, np.ndarray]],
    path: str,
    max_panels: int = 6,
    title: str | None = None,
) -> str:
    """A posterior predictive check: each observed site's data against data replicated from each guide; return
    the title.

    ``observed[site]`` is the data (any shape; its entries are pooled), ``replicated[guide][site]`` has shape
    (n, *data shape): n replicated data sets. One panel per observed site, the first ``max_panels`` (the title
    says when some are left out). Counts (every observed and replicated value an integer, at most 40 distinct
    values) get bars: the observed frequency of each value (grey) and, per guide, the mean replicated frequency
    with its 5–95% interval over the data sets. Real values get histograms over shared bins: the data (grey,
    filled), :data:`PPC_LINES` single replicated data sets per guide (faint) and all of them pooled (solid). A
    site with one observed value shows the replicated values' histogram and the observation as a line.
    """
    if max_panels < 1:
        raise ValueError(f"max_panels must be at least 1, not {max_panels}")
    if not observed:
        raise ValueError("ppc needs at least one observed site")
    sites = list(observed)[:max_panels]
    note = f"first {len(sites)} of {len(observed)} observed sites" if len(observed) > len(sites) else ""
    full_title = f"{title} ({note})" if title and note else title or note
    require()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ncols = min(PPC_COLUMNS, len(sites))
    nrows = math.ceil(len(sites) / ncols)
    width, height = PPC_PANEL
    fig, axes = _figure((width * ncols, height * nrows), nrows=nrows, ncols=ncols, squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[len(sites):]:
        ax.set_visible(False)
    guides = list(replicated)
    for ax, site in zip(flat, sites):
        y = np.asarray(observed[site], dtype=float).ravel()
        reps = {}
        for g in guides:
            if site in replicated[g]:
                r = np.asarray(replicated[g][site], dtype=float)
                reps[g] = r.reshape(len(r), -1)
        _ppc_panel(ax, site, y, reps, guides)
    handles = [Patch(facecolor="0.6", edgecolor="black", alpha=0.6)]
    handles += [Line2D([], [], color=f"C{i}") for i in range(len(guides))]
    flat[0].legend(handles, ["observed", *(f"{g} (replicated)" for g in guides)], fontsize="small")
    return _finish(fig, path, full_title)


def _ppc_panel(ax, site: str, y: np.ndarray, reps: dict[str, np.ndarray], guides: list[str]) -> None:
    ax.set_title(site, fontsize="medium")
    ax.tick_params(labelsize="small")
    pooled = np.concatenate([y, *(r.ravel() for r in reps.values())])
    pooled = pooled[np.isfinite(pooled)]
    if pooled.size == 0:
        ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes, color="0.4")
        return
    values = np.unique(pooled)
    if np.all(pooled == np.round(pooled)) and len(values) <= 40:
        _ppc_bars(ax, y, reps, guides, values)
        return
    if y.size == 1:
        edges = _bins(pooled)
        for i, g in enumerate(guides):
            if g in reps:
                density, _ = np.histogram(reps[g].ravel(), bins=edges, density=True)
                ax.stairs(density, edges, color=f"C{i}", linewidth=1.5)
        ax.axvline(y[0], color="black", linewidth=2)
        ax.set_xlabel("one observation: replicated values, the observed one (line)", fontsize="small")
        return
    edges = _bins(pooled)
    grid = np.linspace(edges[0], edges[-1], 200)
    observed = _kde(y[np.isfinite(y)], grid)
    ax.fill_between(grid, observed, color="0.6", alpha=0.6, linewidth=0, zorder=1)
    ax.plot(grid, observed, color="black", linewidth=1.8, zorder=4)
    top = float(np.max(observed))
    for i, g in enumerate(guides):
        if g not in reps:
            continue
        rows = [row[np.isfinite(row)] for row in reps[g]]
        for row in rows[:PPC_LINES]:
            ax.plot(grid, _kde(row, grid), color=f"C{i}", alpha=0.2, linewidth=0.8, zorder=2)
        # the replicated data's expected density: the average of the data sets' (at most 200 of them)
        mean = np.mean([_kde(row, grid) for row in rows[:200]], axis=0)
        ax.plot(grid, mean, color=f"C{i}", linewidth=2.0 if i == 0 else 1.4, zorder=3)
        top = max(top, float(np.max(mean)))
    # single small data sets have spiky estimates: scale to the data's and the averages', not to the spikes
    ax.set_ylim(0, 1.5 * top if top > 0 else None)
    ax.set_ylabel("density (kernel estimate)", fontsize="small")


def _kde(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A Gaussian kernel density estimate of ``x`` on ``grid`` (Silverman's rule-of-thumb bandwidth)."""
    if x.size == 0:
        return np.zeros_like(grid)
    spread = min(np.std(x), (np.percentile(x, 75) - np.percentile(x, 25)) / 1.34) or np.std(x) or 1.0
    h = 0.9 * spread * x.size ** (-0.2)
    z = (grid[:, None] - x[None, :]) / h
    return np.exp(-0.5 * z * z).sum(axis=1) / (x.size * h * math.sqrt(2 * math.pi))


def _ppc_bars(ax, y, reps, guides, values) -> None:
    """Observed frequency of each count (bars) and each guide's replicated frequency (a point, 5–95%)."""
    ax.bar(values, [np.mean(y == v) for v in values], width=0.8, color="0.6", alpha=0.6, zorder=1)
    n = max(len(guides), 1)
    for i, g in enumerate(guides):
        if g not in reps:
            continue
        freq = np.stack([np.mean(reps[g] == v, axis=1) for v in values], axis=1)  # (data sets, values)
        lo, hi = np.percentile(freq, [5, 95], axis=0)
        mean = freq.mean(axis=0)
        x = values + (i - (n - 1) / 2) * 0.8 / max(n, 2)  # side by side within the bar
        ax.errorbar(x, mean, yerr=[np.maximum(mean - lo, 0), np.maximum(hi - mean, 0)], fmt="o", color=f"C{i}",
                    markersize=4, capsize=2, zorder=3)
    ax.set_ylabel("frequency", fontsize="small")


def _first_entries(sites: Mapping[str, tuple[int, ...]], limit: int) -> list[tuple[str, tuple[int, ...]]]:
    """(site, index) of the first ``limit`` scalar entries, without enumerating the rest of a huge site."""
    entries: list[tuple[str, tuple[int, ...]]] = []
    for site, shape in sites.items():
        for index in np.ndindex(*shape):
            if len(entries) == limit:
                return entries
            entries.append((site, index))
    return entries


def _entry_label(site: str, index: tuple[int, ...]) -> str:
    return f"{site}[{','.join(map(str, index))}]" if index else site


def _bins(pooled: np.ndarray, count: int = 50) -> np.ndarray | None:
    if pooled.size == 0:
        return None
    lo, hi = np.percentile(pooled, [1, 99])
    if not hi > lo:  # a point mass (e.g. a Delta guide): give it a visible width
        pad = 0.05 * abs(lo) if lo else 0.5
        lo, hi = lo - pad, hi + pad
    return np.linspace(lo, hi, count + 1)


def _figure(figsize: tuple[float, float], **subplots):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas; no global backend involved
    return fig, fig.subplots(**subplots)


def _finish(fig, path: str, title: str) -> str:
    """Set the title, write the PNG atomically, free the figure; the title."""
    try:
        if title:
            fig.suptitle(title)
        _save(fig, path)
    finally:
        # Without pyplot nothing else holds the figure, but it is full of reference cycles (figure ↔ axes ↔
        # artists); clearing frees the bulk now instead of at the next cyclic garbage collection.
        fig.clear()
    return title


def _save(fig, path: str) -> None:
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=DPI)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file 0600; keep the mode of the plot being replaced, else the usual 0644 (as cli.py).
        mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
