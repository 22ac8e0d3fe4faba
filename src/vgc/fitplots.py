"""The data behind ``vgc fit --plot`` (:mod:`vgc.plot` draws it): guide draws, the model's log joint on a grid,
NUTS's draws, and observed and replicated data for the posterior predictive check."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from . import enumeration


def write_plots(result, directory: str, draws: int = 20_000) -> list[str]:
    """``loss.png`` (every guide's loss curve) and, for a model with two scalar latents or one 2-vector,
    ``density.png`` (the unnormalized posterior beside each guide's density, and NUTS's with a reference),
    else ``marginals.png`` (NUTS's marginals overlaid with a reference); ``ppc.png`` for a model with observed
    sites (:func:`vgc.plot.ppc`)."""
    import os

    from . import plot
    from .modelcheck import trace_model

    plot.require()
    os.makedirs(directory, exist_ok=True)
    rows = [result, *result.compare]
    paths = [os.path.join(directory, "loss.png")]
    plot.loss_curves({r.name: r.losses for r in rows}, paths[0], title=f"SVI loss: {result.name}")
    latents = trace_model(result.model, result.args, result.kwargs).latents()
    key = jax.random.PRNGKey(result.settings.seed + 2)
    samples = {r.name: r.sample(draws, key) for r in rows}
    nuts = {k: result.reference.flat(k) for k in result.reference.draws} if result.reference is not None else None
    shapes = [tuple(s.batch_shape) + tuple(s.event_shape) for s in latents]
    if [math.prod(sh) for sh in shapes] in ([1, 1], [2]):
        names = [s.name for s in latents]
        columns = {r: _two_columns(v, names) for r, v in samples.items()}
        if nuts is not None:
            columns["NUTS (reference)"] = _two_columns(nuts, names)
        labels = (names[0], names[1]) if len(names) == 2 else (f"{names[0]}[0]", f"{names[0]}[1]")
        xs, ys = (_grid(np.concatenate([c[:, j] for c in columns.values()])) for j in (0, 1))
        log_target = _log_target(result, latents, xs, ys)
        paths.append(os.path.join(directory, "density.png"))
        plot.density_panels(xs, ys, log_target, columns, labels, paths[-1], title=f"{result.name} against the model")
    else:
        paths.append(os.path.join(directory, "marginals.png"))
        wanted = [s.name for s in latents]
        plot.marginals({r: {k: v[k] for k in wanted if k in v} for r, v in samples.items()}, paths[-1],
                       title=f"marginals: {', '.join(samples)}{' and NUTS' if nuts else ''}", reference=nuts)
    from .export import replicated_data

    try:
        observed, replicated = replicated_data(result, rows, key)
    except Exception as e:  # an unusual model Predictive cannot replay: the other plots stand
        import warnings

        warnings.warn(f"ppc.png not written: replicating the data raised {type(e).__name__}: {e}", stacklevel=2)
        observed = {}
    if observed:
        paths.append(os.path.join(directory, "ppc.png"))
        plot.ppc(observed, replicated, paths[-1], title="posterior predictive check")
    return paths


def _two_columns(draws: dict, names: list[str]) -> np.ndarray:
    if len(names) == 2:
        return np.stack([np.reshape(draws[n], (len(draws[n]),)) for n in names], axis=1)
    v = draws[names[0]]
    return np.reshape(v, (len(v), 2))


def _grid(values: np.ndarray, points: int = 120) -> np.ndarray:
    """Grid points over the central 98% of the pooled draws, widened by a fifth on each side."""
    values = values[np.isfinite(values)]
    lo, hi = np.quantile(values, [0.01, 0.99]) if len(values) else (-1.0, 1.0)
    pad = 0.2 * (hi - lo) if hi > lo else 1.0
    return np.linspace(lo - pad, hi + pad, points)


def _log_target(result, latents, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The model's log joint density on the grid (rows: ys), the data observed: the unnormalized posterior."""
    from numpyro.infer.util import log_density

    names = [s.name for s in latents]
    shapes = [tuple(s.batch_shape) + tuple(s.event_shape) for s in latents]

    def at(x, y):
        if len(names) == 2:
            values = {names[0]: jnp.reshape(x, shapes[0]), names[1]: jnp.reshape(y, shapes[1])}
        else:
            values = {names[0]: jnp.reshape(jnp.stack([x, y]), shapes[0])}
        if result.plan.sites:  # sum the enumerated sites out: the continuous latents' unnormalized posterior
            return enumeration.log_joint(result.model, result.plan, result.args, result.kwargs, values)
        return log_density(result.model, result.args, result.kwargs, values)[0]

    X, Y = np.meshgrid(xs, ys)
    out = jax.jit(jax.vmap(at))(jnp.asarray(X.ravel()), jnp.asarray(Y.ravel()))
    return np.asarray(out).reshape(X.shape)
