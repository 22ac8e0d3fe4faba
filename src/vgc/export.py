"""A fitted guide (and a NUTS reference) as ArviZ InferenceData, and as netCDF (``vgc fit --samples FILE.nc``).

The groups follow ArviZ's InferenceData schema (https://python.arviz.org/en/stable/schema/schema.html):

- ``posterior``: draws of every model latent from the fitted guide. They are independent, so any split into
  chains is a valid one: they come as 4 chains (when the number of draws is a multiple of 4), so that ArviZ's
  R-hat and ESS run without a warning (≈ 1 and ≈ the number of draws, as they should);
  a plate's axis named after the plate (``J`` of size 8), other axes ``SITE_dim_I``; when the model enumerates
  discrete sites, their draws too, from their exact conditional posterior given each continuous draw
  (NumPyro's ``infer_discrete``);
- ``observed_data``: the model's observed sites;
- ``posterior_predictive``: replicated data, one data set per posterior draw (NumPyro's ``Predictive`` on the
  model with its observations released);
- ``enumerated`` (only for a model that enumerates sites): each site's posterior probability of every value,
  per element (:attr:`vgc.FitResult.discrete`), on a ``SITE_value`` axis.

A NUTS reference gets its own InferenceData: ``posterior`` (chains × draws), ``sample_stats`` (``diverging``)
and ``observed_data``. ArviZ and xarray come with the extra ``vgc[diag]``: before ArviZ 1.0 the result is an
``arviz.InferenceData``; from 1.0 on, an ``xarray.DataTree`` with the same groups (what ArviZ 1.0 uses).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

import numpy as np

DRAWS = 4000
CHAINS = 4
EXPORT_ELEMENTS = 50_000_000  # replicated numbers in posterior_predictive (float32: 200 MB)


def available() -> str | None:
    """Why InferenceData cannot be built here (ArviZ missing), or None."""
    from . import diagnose

    try:
        import arviz  # noqa: F401
        import xarray  # noqa: F401
    except ImportError:
        return f"needs ArviZ: {diagnose.PIP_HINT}"
    return None


def released(model: Callable, names: set[str]) -> Callable:
    """``model`` with its observed sites ``names`` sampled instead (their ``obs`` dropped): replicated data."""
    from numpyro.primitives import Messenger

    class Release(Messenger):
        def process_message(self, msg):
            if msg["type"] == "sample" and msg["name"] in names and msg.get("is_observed"):
                msg["value"] = None
                msg["is_observed"] = False

    return Release(model)


def _model_trace(model: Callable, args: tuple, kwargs: dict) -> dict:
    from numpyro import handlers

    from .modelcheck import _improper_value

    seeded = handlers.seed(handlers.substitute(model, substitute_fn=_improper_value), rng_seed=0)
    return handlers.trace(seeded).get_trace(*args, **kwargs)


def _dims(msg: dict, shape: tuple) -> list[str]:
    """Names of a site's axes (``shape`` without the chain and draw axes): a plate's name where the plate sits,
    ``SITE_dim_I`` elsewhere."""
    name = msg["name"]
    event = len(getattr(msg["fn"], "event_shape", ()) or ())
    batch = len(shape) - event
    plates = {f.dim: f.name for f in msg.get("cond_indep_stack") or ()}
    out = []
    for i, size in enumerate(shape):
        plate = plates.get(i - batch) if i < batch else None
        out.append(plate if plate is not None and size > 1 else f"{name}_dim_{i}")
    return out


def _is_data(msg: dict) -> bool:
    """An observed site that holds data: not a ``numpyro.factor`` (an observed ``Unit`` site with no data)."""
    from .modelcheck import family

    return msg["type"] == "sample" and bool(msg.get("is_observed")) and family(msg["fn"]) != "Unit"


def _observed(tr: dict) -> dict[str, tuple[list[str], np.ndarray]]:
    return {n: (_dims(m, tuple(np.shape(m["value"]))), np.asarray(m["value"])) for n, m in tr.items() if _is_data(m)}


def _dataset(values: dict[str, tuple[list[str], np.ndarray]], leading: tuple[str, ...] = ("chain", "draw")):
    import xarray as xr

    data = {k: ((*leading, *dims), v) for k, (dims, v) in values.items()}
    coords = {}
    if leading:
        first = next(iter(values.values()), None)
        if first is not None:
            coords = {d: np.arange(first[1].shape[i]) for i, d in enumerate(leading)}
    return xr.Dataset(data, coords=coords)


def _data_size(tr: dict) -> int:
    return int(sum(max(np.size(v), 1) for _, v in _observed(tr).values()))


def _inference_data(groups: dict):
    """``arviz.InferenceData`` (ArviZ < 1.0), else an ``xarray.DataTree`` (ArviZ ≥ 1.0)."""
    from .diagnose import legacy_arviz

    groups = {k: v for k, v in groups.items() if v is not None and len(v.data_vars)}
    if legacy_arviz():
        import arviz

        return arviz.InferenceData(**groups)
    import xarray as xr

    return xr.DataTree.from_dict(groups)


def posterior_predictive(result, draws: dict[str, np.ndarray], key) -> dict[str, np.ndarray]:
    """Replicated data of every observed site, one data set per guide draw in ``draws`` (leading axis n); the
    enumerated discrete sites are drawn first from their posterior given the data and each draw (so the
    replicated data use the right component)."""
    from numpyro.infer import Predictive

    tr = _model_trace(result.model, result.args, result.kwargs)
    observed = {n for n, m in tr.items() if _is_data(m)}
    if not observed:
        return {}
    conditioning = dict(draws)
    if result.plan.sites:
        conditioning.update(_discrete_draws(result, draws, key))
    replicate = Predictive(released(result.model, observed), posterior_samples=conditioning,
                           return_sites=sorted(observed))
    import jax

    out = replicate(jax.random.fold_in(key, 7), *result.args, **result.kwargs)
    return {k: np.asarray(v) for k, v in out.items()}


PPC_ELEMENTS = 20_000_000  # replicated numbers per guide for the plot: a large data set gets fewer data sets


def replicated_data(result, rows: list, key, draws: int = 500) -> tuple[dict, dict]:
    """The observed data (site → array) and, per guide of ``rows`` (name → site → array), up to ``draws``
    replicated data sets, fewer for a large data set (at most :data:`PPC_ELEMENTS` numbers, at least 20 sets)."""
    tr = _model_trace(result.model, result.args, result.kwargs)
    observed = {k: v for k, (_, v) in _observed(tr).items()}
    if not observed:
        return {}, {}
    size = sum(max(np.size(v), 1) for v in observed.values())
    n = int(min(draws, max(20, PPC_ELEMENTS // size)))
    replicated = {r.name: posterior_predictive(r, r.sample(n, key), key) for r in rows}
    return observed, replicated


def _discrete_draws(result, draws: dict, key) -> dict[str, np.ndarray]:
    """Draws of the enumerated sites from their posterior given the data and each continuous draw."""
    import jax
    from numpyro.infer import Predictive

    names = result.plan.names
    pred = Predictive(result.model, posterior_samples=dict(draws), return_sites=names, infer_discrete=True)
    out = pred(jax.random.fold_in(key, 5), *result.args, **result.kwargs)
    return {k: np.asarray(v) for k, v in out.items()}


def to_inference_data(result, draws: int = DRAWS, key=None):
    """The fitted guide ``result`` (a :class:`vgc.FitResult`) as InferenceData: see the module's docstring.

    ``draws`` guide draws (as 4 chains). Raises ImportError (saying ``pip install 'vgc[diag]'``) without ArviZ.
    """
    why = available()
    if why:
        raise ImportError(why)
    import jax

    key = jax.random.PRNGKey(result.settings.seed + 4) if key is None else key
    tr = _model_trace(result.model, result.args, result.kwargs)
    samples = result.sample(draws, key)
    latent = {k: v for k, v in samples.items() if k in tr}
    chains = CHAINS if draws % CHAINS == 0 and draws >= 2 * CHAINS else 1

    def split(v):
        return np.reshape(v, (chains, -1, *np.shape(v)[1:]))

    posterior = {k: (_dims(tr[k], v.shape[1:]), split(v)) for k, v in latent.items()}
    notes = []
    replicated = {}
    try:
        if result.plan.sites:
            for k, v in _discrete_draws(result, latent, key).items():
                posterior[k] = (_dims(tr[k], v.shape[1:]), split(v))
        size = _data_size(tr)
        keep = draws if draws * size <= EXPORT_ELEMENTS else max(chains, EXPORT_ELEMENTS // size // chains * chains)
        if keep < draws:  # a large data set: replicate it for the first draws only (the same for every chain)
            notes.append(f"posterior_predictive holds {keep} of the {draws} draws (the data have {size:,} numbers)")
        replicated = posterior_predictive(result, {k: v[:keep] for k, v in latent.items()}, key)
    except Exception as e:  # infer_discrete has no rule for some models (scan): keep the other groups
        first = str(e).splitlines()[0] if str(e).strip() else ""
        notes.append(f"posterior_predictive not computed: {type(e).__name__}: {first}")
    groups = {"posterior": _dataset(posterior)}
    groups["observed_data"] = _dataset(_observed(tr), leading=())
    if replicated:
        groups["posterior_predictive"] = _dataset({k: (_dims(tr[k], v.shape[1:]), split(v))
                                                   for k, v in replicated.items()})
    if result.discrete:
        groups["enumerated"] = _enumerated(result, tr)
    attrs = {"guide": result.name, "inference_library": "vgc (SVI) + numpyro", "draws_are_independent": 1,
             "neg_elbo": result.elbo.mean, "neg_elbo_se": result.elbo.se}
    imp = result.importance
    if imp is not None and imp.khat is not None:
        attrs["psis_khat"] = imp.khat
    if notes:
        attrs["notes"] = "; ".join(notes)
    for ds in groups.values():
        ds.attrs.update(attrs)
    return _inference_data(groups)


def _enumerated(result, tr: dict):
    import xarray as xr

    data, coords = {}, {}
    for name, d in result.discrete.items():
        axis = f"{name}_value"
        dims = _dims(tr[name], d.probs.shape[:-1]) if name in tr else [f"{name}_dim_{i}" for i in
                                                                       range(d.probs.ndim - 1)]
        data[name] = ((*dims, axis), d.probs)
        coords[axis] = d.values
    return xr.Dataset(data, coords=coords)


def reference_inference_data(reference):
    """A NUTS :class:`vgc.reference.Reference` as InferenceData: ``posterior`` (its chains), ``sample_stats``
    (``diverging`` per draw is not kept: the count per chain, as ``diverging_count``) and ``observed_data``."""
    why = available()
    if why:
        raise ImportError(why)
    import xarray as xr

    tr = _model_trace(reference.model, reference.args, reference.kwargs)
    posterior = {k: (_dims(tr[k], v.shape[2:]), v) for k, v in reference.draws.items()}
    stats = xr.Dataset({"diverging_count": (("chain",), np.asarray(reference.divergences))},
                       coords={"chain": np.arange(len(reference.divergences))})
    groups = {"posterior": _dataset(posterior), "sample_stats": stats,
              "observed_data": _dataset(_observed(tr), leading=())}
    for ds in groups.values():
        ds.attrs.update({"inference_library": "numpyro", "sampler": "NUTS", "warmup": reference.settings.warmup})
    return _inference_data(groups)


def write_netcdf(data, path: str) -> None:
    """Write InferenceData (or a DataTree) to ``path`` atomically: a temporary file beside it, then a rename
    (a failed write leaves no partial file). OSError when the folder cannot be written."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        data.to_netcdf(tmp, engine="h5netcdf") if _takes_engine(data) else data.to_netcdf(tmp)
        mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _takes_engine(data) -> bool:
    import inspect

    try:
        return "engine" in inspect.signature(data.to_netcdf).parameters
    except (TypeError, ValueError):
        return False


def sibling(path: str, name: str) -> str:
    """``out.nc`` → ``out.NAME.nc``: where ``--samples`` writes the NUTS reference and the compared guides."""
    root, ext = os.path.splitext(path)
    return f"{root}.{name}{ext or '.nc'}"
