"""The toy chain (A) -> [B] -> (C) of NumPyro's example
https://github.com/pyro-ppl/numpyro/blob/master/examples/toy_mixture_model_discrete_enumeration.py, written
here from its math, for tests/test_data.py: the model takes its data as dicts of arrays, as that example
does, so they reach it from nested JSON objects or from ``.npz`` keys ``obs.A``."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.ops.indexing import Vindex


def toy_mixture(prior, obs, num_obs):
    """P(A) = p_A, P(B | A) = p_B[A], P(C | B) = p_C[B], all binary, with uniform Beta priors (p_B and p_C one
    2-vector each: a probability per value of the parent); A and C observed (``obs["A"]``, ``obs["C"]``), B
    hidden and summed out (enumerated). ``prior`` (the pseudo-counts the example's guide starts from) is
    taken and not read, as there."""
    del prior
    p_a = numpyro.sample("p_A", dist.Beta(1.0, 1.0))
    uniform_pair = dist.Beta(jnp.ones(2), jnp.ones(2)).to_event(1)
    p_b = numpyro.sample("p_B", uniform_pair)
    p_c = numpyro.sample("p_C", uniform_pair)
    with numpyro.plate("data_plate", num_obs):
        a = numpyro.sample("A", dist.Bernoulli(p_a), obs=obs["A"])
        b = numpyro.sample("B", dist.Bernoulli(Vindex(p_b)[a]), infer={"enumerate": "parallel"})
        numpyro.sample("C", dist.Bernoulli(Vindex(p_c)[b]), obs=obs["C"])


# The prior pseudo-counts of the example (column 0: value false, column 1: true), and a truth to draw from.
PRIOR = {"A": [1.0, 10.0], "B": [[10.0, 1.0], [1.0, 10.0]], "C": [[10.0, 1.0], [1.0, 10.0]]}
TRUTH = {"p_A": 0.3, "p_B": (0.8, 0.2), "p_C": (0.9, 0.1)}


def draw(num_obs: int, seed: int = 0) -> dict:
    """The keyword arguments ``prior``, ``obs`` (A and C as 0/1 ints; B drawn and dropped) and ``num_obs``."""
    rng = np.random.default_rng(seed)
    a = (rng.random(num_obs) < TRUTH["p_A"]).astype(int)
    b = (rng.random(num_obs) < np.asarray(TRUTH["p_B"])[a]).astype(int)
    c = (rng.random(num_obs) < np.asarray(TRUTH["p_C"])[b]).astype(int)
    return {"prior": PRIOR, "obs": {"A": a.tolist(), "C": c.tolist()}, "num_obs": num_obs}
