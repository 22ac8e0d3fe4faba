"""Models with discrete latents the model enumerates, for tests/test_enumeration.py (written from the math;
the sources each follows are cited in its docstring). Data are made by the functions here, with fixed seeds."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.contrib.control_flow import scan
from numpyro.contrib.funsor import markov
from numpyro.distributions import constraints
from numpyro.ops.indexing import Vindex

# ---------------------------------------------------------------- the toy chain A -> [B] -> C

# P(A = 1), P(B = 1 | A), P(C = 1 | B): B mostly differs from A and C from B, the way the example's prior leans
# (B is hidden, so its two labels are interchangeable: the fit starts at the prior and finds this labelling)
TOY_TRUTH = {"p_A": 0.3, "p_B": np.array([0.85, 0.15]), "p_C": np.array([0.9, 0.1])}
TOY_PRIOR = {"A": jnp.array([1.0, 10.0]), "B": jnp.array([[10.0, 1.0], [1.0, 10.0]]),
             "C": jnp.array([[10.0, 1.0], [1.0, 10.0]])}


def toy_data(num_obs: int = 2000, seed: int = 0) -> dict:
    """A ~ Bernoulli(p_A), B | A ~ Bernoulli(p_B[A]) (hidden), C | B ~ Bernoulli(p_C[B]): A and C observed."""
    rng = np.random.default_rng(seed)
    a = rng.random(num_obs) < TOY_TRUTH["p_A"]
    b = rng.random(num_obs) < TOY_TRUTH["p_B"][a.astype(int)]
    c = rng.random(num_obs) < TOY_TRUTH["p_C"][b.astype(int)]
    return {"A": jnp.asarray(a, jnp.float32), "C": jnp.asarray(c, jnp.float32)}


def toy(prior, obs, num_obs):
    """The chain A -> B -> C with uniform Beta priors on the three conditional probabilities and B hidden and
    enumerated, as in NumPyro's examples/toy_mixture_model_discrete_enumeration.py (the arguments as there:
    the prior pseudo-counts, the observations as a dict, their number)."""
    p_a = numpyro.sample("p_A", dist.Beta(1.0, 1.0))
    p_b = numpyro.sample("p_B", dist.Beta(jnp.ones(2), jnp.ones(2)).to_event(1))
    p_c = numpyro.sample("p_C", dist.Beta(jnp.ones(2), jnp.ones(2)).to_event(1))
    with numpyro.plate("data_plate", num_obs):
        a = numpyro.sample("A", dist.Bernoulli(p_a), obs=obs["A"])
        b = numpyro.sample("B", dist.Bernoulli(Vindex(p_b)[a.astype(jnp.int32)]), infer={"enumerate": "parallel"})
        numpyro.sample("C", dist.Bernoulli(Vindex(p_c)[b.astype(jnp.int32)]), obs=obs["C"])


def toy_guide(prior, obs, num_obs):
    """The hand-written mean-field guide of that example: a Beta per conditional probability, its two
    pseudo-counts learnable and started at the prior's (column 0 the first, column 1 the second)."""
    a = numpyro.param("a", prior["A"], constraint=constraints.positive)
    numpyro.sample("p_A", dist.Beta(a[0], a[1]))
    b = numpyro.param("b", prior["B"], constraint=constraints.positive)
    numpyro.sample("p_B", dist.Beta(b[:, 0], b[:, 1]).to_event(1))
    c = numpyro.param("c", prior["C"], constraint=constraints.positive)
    numpyro.sample("p_C", dist.Beta(c[:, 0], c[:, 1]).to_event(1))


TOY_VG = """
guide toy(prior, obs, num_obs) {
  param a0 = 1.0 : positive; param a1 = 10.0 : positive
  p_A ~ Beta(a0, a1)
  param b0[2] = [10.0, 1.0] : positive; param b1[2] = [1.0, 10.0] : positive
  p_B ~ Beta(b0, b1)
  param c0[2] = [10.0, 1.0] : positive; param c1[2] = [1.0, 10.0] : positive
  p_C ~ Beta(c0, c1)
}
"""

# ---------------------------------------------------------------- a Gaussian mixture

GMM_TRUTH = {"weights": np.array([0.2, 0.3, 0.5]), "locs": np.array([-6.0, 0.0, 6.0]), "scale": 1.0}


def gmm_data(n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points from the mixture GMM_TRUTH (components 6 scales apart) and their true components."""
    rng = np.random.default_rng(seed)
    z = rng.choice(3, size=n, p=GMM_TRUTH["weights"])
    y = GMM_TRUTH["locs"][z] + GMM_TRUTH["scale"] * rng.standard_normal(n)
    return y.astype(np.float32), z


def gmm(y, K=3):
    """A 1-D Gaussian mixture with a shared scale (Pyro's GMM tutorial, NumPyro's enumeration docs):
    weights ~ Dirichlet(1), locs ~ Normal(0, 10) per component, scale ~ LogNormal(0, 2); each point's
    assignment z ~ Categorical(weights) is enumerated."""
    weights = numpyro.sample("weights", dist.Dirichlet(jnp.ones(K)))
    locs = numpyro.sample("locs", dist.Normal(jnp.zeros(K), 10.0).to_event(1))
    scale = numpyro.sample("scale", dist.LogNormal(0.0, 2.0))
    with numpyro.plate("data", len(y)):
        z = numpyro.sample("z", dist.Categorical(weights), infer={"enumerate": "parallel"})
        numpyro.sample("y", dist.Normal(locs[z], scale), obs=y)


GMM_VG = """
guide gmm_guide(y) {
  param w_conc[3] = 1.0 : positive
  weights ~ Dirichlet(w_conc)
  param l_loc[3] = [-3.0, 0.0, 3.0]; param l_scale[3] = 0.1 : positive
  locs ~ Normal(l_loc, l_scale)
  param s_loc = 0.0; param s_scale = 0.1 : positive
  v ~ Normal(s_loc, s_scale)
  scale = exp(v)
}
"""


def two_means(y):
    """A two-component mixture with equal weights and unit scales whose two locations are the only continuous
    latents (two scalars: `vgc fit --plot` draws their 2-D density)."""
    a = numpyro.sample("a", dist.Normal(0.0, 10.0))
    b = numpyro.sample("b", dist.Normal(0.0, 10.0))
    with numpyro.plate("data", len(y)):
        z = numpyro.sample("z", dist.Bernoulli(0.5), infer={"enumerate": "parallel"})
        numpyro.sample("y", dist.Normal(jnp.where(z == 1, b, a), 1.0), obs=y)


TWO_MEANS_VG = """
guide two(y) {
  param a_loc = -1.0; param a_scale = 0.1 : positive
  a ~ Normal(a_loc, a_scale)
  param b_loc = 1.0; param b_scale = 0.1 : positive
  b ~ Normal(b_loc, b_scale)
}
"""


def gmm_poisson(y):
    """A model whose discrete latent (a Poisson count) cannot be enumerated: infinite support."""
    rate = numpyro.sample("rate", dist.LogNormal(0.0, 1.0))
    n = numpyro.sample("n", dist.Poisson(rate))
    numpyro.sample("y", dist.Normal(n, 1.0), obs=y)


def gmm_not_enumerated(y, K=3):
    """The Gaussian mixture with the enumeration forgotten."""
    weights = numpyro.sample("weights", dist.Dirichlet(jnp.ones(K)))
    locs = numpyro.sample("locs", dist.Normal(jnp.zeros(K), 10.0).to_event(1))
    scale = numpyro.sample("scale", dist.LogNormal(0.0, 2.0))
    with numpyro.plate("data", len(y)):
        z = numpyro.sample("z", dist.Categorical(weights))
        numpyro.sample("y", dist.Normal(locs[z], scale), obs=y)


# ---------------------------------------------------------------- a hidden Markov model

HMM_TRUTH = {"probs_x": np.array([[0.9, 0.1], [0.2, 0.8]]),
             "probs_y": np.array([[0.1, 0.8, 0.2, 0.7], [0.9, 0.2, 0.7, 0.1]])}


def hmm_data(num_sequences: int = 60, length: int = 50, seed: int = 0) -> np.ndarray:
    """Sequences of 4 binary tones from the two-state chain HMM_TRUTH, started in state 0:
    shape (num_sequences, length, 4)."""
    rng = np.random.default_rng(seed)
    px, py = HMM_TRUTH["probs_x"], HMM_TRUTH["probs_y"]
    x = np.zeros(num_sequences, dtype=int)
    out = np.zeros((num_sequences, length, py.shape[1]), dtype=np.float32)
    for t in range(length):
        x = (rng.random(num_sequences) < px[x, 1]).astype(int)
        out[:, t] = rng.random((num_sequences, py.shape[1])) < py[x]
    return out


def hmm(sequences, hidden_dim=2):
    """NumPyro's examples/hmm_enum.py, model 1: a hidden state per time step, x[t] ~ Categorical(probs_x[x[t-1]])
    (enumerated), each of the tones y[t, d] ~ Bernoulli(probs_y[x[t], d]); Dirichlet rows of the transition
    matrix, Beta emission probabilities; sequences in a plate (all of full length here). The time loop is
    Python's, under ``markov`` (Pyro's HMM tutorial's form): with NumPyro's ``scan`` instead, TraceEnum_ELBO's
    value differs from the brute-force marginal on a 3-step sequence (17.58 vs 15.39 nats; see
    tests/test_enumeration.py), and ``infer_discrete`` does not support ``scan``."""
    num_sequences, length, data_dim = sequences.shape
    probs_x = numpyro.sample("probs_x", dist.Dirichlet(0.9 * jnp.eye(hidden_dim) + 0.1).to_event(1))
    probs_y = numpyro.sample("probs_y", dist.Beta(0.1, 0.9).expand([hidden_dim, data_dim]).to_event(2))
    x = jnp.zeros((num_sequences, 1), dtype=jnp.int32)
    tones = numpyro.plate("tones", data_dim, dim=-1)
    with numpyro.plate("sequences", num_sequences, dim=-2):
        for t in markov(range(length)):
            x = numpyro.sample(f"x_{t}", dist.Categorical(probs_x[x]), infer={"enumerate": "parallel"})
            with tones:
                numpyro.sample(f"y_{t}", dist.Bernoulli(probs_y[x.squeeze(-1)]), obs=sequences[:, t])


def hmm_scan(sequences, hidden_dim=2):
    """The same HMM with NumPyro's ``scan`` over time, as examples/hmm_enum.py writes it."""
    num_sequences, _, data_dim = sequences.shape
    probs_x = numpyro.sample("probs_x", dist.Dirichlet(0.9 * jnp.eye(hidden_dim) + 0.1).to_event(1))
    probs_y = numpyro.sample("probs_y", dist.Beta(0.1, 0.9).expand([hidden_dim, data_dim]).to_event(2))

    def step(x_prev, y):
        with numpyro.plate("sequences", num_sequences, dim=-2):
            x = numpyro.sample("x", dist.Categorical(probs_x[x_prev]), infer={"enumerate": "parallel"})
            with numpyro.plate("tones", data_dim, dim=-1):
                numpyro.sample("y", dist.Bernoulli(probs_y[x.squeeze(-1)]), obs=y)
        return x, None

    scan(step, jnp.zeros((num_sequences, 1), dtype=jnp.int32), jnp.swapaxes(sequences, 0, 1))


HMM_VG = """
guide hmm_guide(sequences) {
  param cx[2, 2] = [[3.0, 1.0], [1.0, 3.0]] : positive
  probs_x ~ Dirichlet(cx)
  param ya[2, 4] = [[1.0, 2.0, 1.0, 2.0], [2.0, 1.0, 2.0, 1.0]] : positive
  param yb[2, 4] = [[2.0, 1.0, 2.0, 1.0], [1.0, 2.0, 1.0, 2.0]] : positive
  probs_y ~ Beta(ya, yb)
}
"""

