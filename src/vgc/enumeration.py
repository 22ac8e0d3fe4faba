"""Phase 6 (enumeration): models whose discrete latents the model itself enumerates.

VG draws only continuous values. A model's discrete latent with finite support is marginalized by the model
(``infer={"enumerate": "parallel"}`` or ``config_enumerate``) and fitted with ``TraceEnum_ELBO``, which sums it
out exactly (tensor variable elimination, through funsor). This module is the one home of that concern:

* :func:`plan` traces the model once and finds its enumerated sites, the values each can take and the first
  tensor dimension free of plates (``first_available_dim`` for NumPyro's enumeration handlers);
* :func:`objective` is the ``TraceEnum_ELBO`` (funsor is the optional extra ``vgc[enum]``; :func:`missing`
  says how to install it);
* :func:`blocked` hides the enumerated sites from an autoguide, which builds its family from the model's
  trace and would otherwise try to approximate a discrete site with a density;
* :func:`posterior` gives each enumerated site's posterior per element: the probability of each value and
  the most probable value, averaged over the fitted guide's draws of the continuous latents (NumPyro's
  ``infer_discrete`` samples the discrete sites exactly given those draws).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpyro import handlers

PIP_HINT = "pip install 'vgc[enum]'"


class Site(NamedTuple):
    """An enumerated site of the model: its name, family, the values it takes, its batch shape (the shape of
    one draw: one value per element of its plates) and whether a plate around it is subsampled (then the
    per-element posterior of the whole data set is not computed: a step sees only a subsample)."""

    name: str
    family: str
    values: np.ndarray
    batch_shape: tuple
    subsampled: bool


class Plan(NamedTuple):
    """The enumerated sites of a model (empty when it enumerates none) and the first tensor dimension to the
    left of every plate, where enumeration may put a site's values."""

    sites: tuple[Site, ...]
    first_available_dim: int

    @property
    def names(self) -> list[str]:
        """The enumerated sites' names, in the model's order."""
        return [s.name for s in self.sites]

    def describe(self) -> str:
        """``'z' (Categorical, 3 values)`` for each site, joined; a long run of sites of one kind (the states
        of an HMM) as ``'x_0', ..., 'x_49' (50 sites: Categorical, 2 values)``."""
        kinds = {(s.family, len(s.values)) for s in self.sites}
        if len(self.sites) > 4 and len(kinds) == 1:
            family, k = kinds.pop()
            first, last = self.sites[0].name, self.sites[-1].name
            return f"'{first}', ..., '{last}' ({len(self.sites)} sites: {family}, {k} values)"
        return ", ".join(f"'{s.name}' ({s.family}, {len(s.values)} values)" for s in self.sites)


class Discrete(NamedTuple):
    """The fitted posterior of one enumerated site: ``values`` (K,), ``probs`` (the site's batch shape + (K,):
    the probability of each value per element) and ``mode`` (the site's batch shape: the most probable value),
    estimated from ``draws`` draws of the guide."""

    values: np.ndarray
    probs: np.ndarray
    mode: np.ndarray
    draws: int


NO_PLAN = Plan((), -1)


def plan(model: Callable, args: tuple = (), kwargs: dict | None = None) -> Plan:
    """Trace ``model`` once and find the sites it enumerates (the model already passed the model check, so
    tracing it succeeds; ``ImproperUniform`` sites get a value in their support, as in the check)."""
    from .modelcheck import _improper_value, family, family_name

    model_trace = handlers.trace(
        handlers.seed(handlers.substitute(model, substitute_fn=_improper_value), rng_seed=0)
    ).get_trace(*args, **dict(kwargs or {}))
    dims = [f.dim for msg in model_trace.values() for f in msg.get("cond_indep_stack") or ()]
    found = []
    for name, msg in model_trace.items():
        infer = msg.get("infer") or {}
        if msg["type"] != "sample" or msg.get("is_observed") or infer.get("enumerate") is None:
            continue
        fn = msg["fn"]
        values = np.unique(np.asarray(fn.enumerate_support(expand=False)))
        subsampled = any(f.size != f.subsample_size for f in msg.get("cond_indep_stack") or ()
                         if getattr(f, "subsample_size", None) is not None)
        found.append(Site(name, family_name(family(fn)), values, tuple(np.shape(msg["value"])), subsampled))
    first = min(dims, default=0) - 1
    return Plan(tuple(found), first)


def missing() -> str | None:
    """Why ``TraceEnum_ELBO`` cannot run here (funsor not installed), or None."""
    try:
        import funsor  # noqa: F401  (TraceEnum_ELBO's tensor variable elimination)
    except ImportError:
        return f"the model enumerates discrete sites: fitting it needs TraceEnum_ELBO, which needs funsor: {PIP_HINT}"
    return None


def objective(particles: int = 1):
    """``TraceEnum_ELBO`` with ``particles`` particles (funsor must be installed: see :func:`missing`)."""
    from numpyro.infer import TraceEnum_ELBO

    return TraceEnum_ELBO(num_particles=particles)


def blocked(model: Callable, the_plan: Plan, unchecked: bool = False) -> Callable:
    """``model`` with its enumerated sites hidden from an autoguide's view (the SVI still runs the full model).

    The autoguide runs this model only to set itself up: its sites' shapes and supports, and its start, which
    NumPyro accepts only where the model's density is finite. With the enumerated sites hidden, that check
    draws them from their priors, and for some models every such draw gives the data a density of 0 (MACE:
    a one-hot "honest annotator" meets an answer that is not its item's drawn class). ``unchecked`` masks the
    density out of the set-up: the autoguide then starts at the first draw of its ``init_loc_fn`` (the same
    draw a passing check keeps), and the SVI still fits the full, unmasked model."""
    if not the_plan.sites:
        return model
    hidden = handlers.block(model, hide=the_plan.names)
    return handlers.mask(hidden, mask=False) if unchecked else hidden


# NumPyro's message when no start of an autoguide's set-up gives the model a finite density.
NO_VALID_START = "Cannot find valid initial parameters"


def log_joint(model: Callable, the_plan: Plan, args: tuple, kwargs: dict, values: dict):
    """The model's log joint density at the continuous ``values`` with the enumerated sites summed out (the
    unnormalized posterior of the continuous latents, for the density plot)."""
    from numpyro.contrib.funsor import enum
    from numpyro.contrib.funsor import log_density as enum_log_density

    enumerated = enum(model, first_available_dim=the_plan.first_available_dim)
    return enum_log_density(enumerated, args, kwargs, values)[0]


def posterior(model: Callable, guide: Callable, params: dict, args: tuple, kwargs: dict, the_plan: Plan, key,
              draws: int = 1000, chunk: int = 100) -> tuple[dict[str, Discrete], dict[str, str]]:
    """Each enumerated site's posterior per element at the fitted ``params``, and why a site has none.

    For each of ``draws`` draws of the guide, ``infer_discrete`` draws the discrete sites from their exact
    conditional posterior given the continuous draws, and the values are counted: the probabilities are
    averages over the guide (their Monte Carlo error is at most 0.5/sqrt(draws)). Left out, with the reason:
    sites in a subsampled plate (see :class:`Site`), and models ``infer_discrete`` cannot sample (NumPyro's
    does not support ``scan``, and overflows on a long ``markov`` chain: 50 steps of an HMM)."""
    from numpyro.contrib.funsor import infer_discrete

    notes = {s.name: "not computed: it is in a subsampled plate, and a step sees only a subsample of the data"
             for s in the_plan.sites if s.subsampled}
    wanted = [s for s in the_plan.sites if not s.subsampled]
    if not wanted:
        return {}, notes

    def one(k):
        k_guide, k_discrete = jax.random.split(k)
        seeded = handlers.seed(handlers.substitute(guide, data=params), k_guide)
        guide_trace = handlers.trace(seeded).get_trace(*args, **kwargs)
        values = {name: site["value"] for name, site in guide_trace.items()
                  if site["type"] == "sample" and not (site.get("infer") or {}).get("is_auxiliary")}
        conditioned = handlers.condition(handlers.substitute(model, data=params), data=values)
        discrete = infer_discrete(conditioned, first_available_dim=the_plan.first_available_dim, temperature=1,
                                  rng_key=k_discrete)
        model_trace = handlers.trace(discrete).get_trace(*args, **kwargs)
        return {s.name: model_trace[s.name]["value"] for s in wanted}

    @jax.jit
    def counts(keys):
        drawn = jax.vmap(one)(keys)
        return {s.name: jnp.sum(drawn[s.name][..., None] == jnp.asarray(s.values), axis=0) for s in wanted}

    keys = jax.random.split(key, draws)
    total = {s.name: np.zeros(s.batch_shape + (len(s.values),)) for s in wanted}
    try:
        for i in range(0, draws, chunk):
            for name, c in counts(keys[i:i + chunk]).items():
                total[name] += np.asarray(c)
    except Exception as e:
        # funsor's sampler has no rule for some models (a scan over time) and overflows its index arithmetic on
        # long Markov chains: the fit itself is sound, so say why its posterior is missing rather than fail it
        why = f"not computed: NumPyro's infer_discrete cannot sample this model ({type(e).__name__}"
        why += f": {str(e).splitlines()[0]})" if str(e).strip() else "; it does not support scan)"
        notes.update({s.name: why for s in wanted})
        return {}, notes
    out = {}
    for s in wanted:
        probs = total[s.name] / draws
        out[s.name] = Discrete(s.values, probs, s.values[np.argmax(probs, axis=-1)], draws)
    return out, notes
