"""Regression models of NumPyro's example gallery: Bayesian neural networks, logistic and zero-inflated
Poisson regressions, each written here from its example's math (cited in its docstring) and fitted to small
synthetic data drawn from a fixed seed, shaped like the data the example downloads or makes.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax import nn

from . import Example

# ---------------------------------------------------------------- bnn.py


def bnn(X, Y=None, D_H=6, D_Y=1):
    """A two-hidden-layer tanh network with standard-normal weights w1 (D_X, D_H), w2 (D_H, D_H), w3 (D_H, D_Y)
    and no biases; Y_n ~ N(tanh(tanh(X_n w1) w2) w3, prec_obs^(-1/2)) as one event of D_Y values per row, with
    prec_obs ~ Gamma(3, 1).
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/bnn.py"""
    rows, features = X.shape
    w1 = numpyro.sample("w1", dist.Normal(jnp.zeros((features, D_H)), jnp.ones((features, D_H))))
    w2 = numpyro.sample("w2", dist.Normal(jnp.zeros((D_H, D_H)), jnp.ones((D_H, D_H))))
    w3 = numpyro.sample("w3", dist.Normal(jnp.zeros((D_H, D_Y)), jnp.ones((D_H, D_Y))))
    out = jnp.tanh(jnp.tanh(X @ w1) @ w2) @ w3
    prec_obs = numpyro.sample("prec_obs", dist.Gamma(3.0, 1.0))
    with numpyro.plate("data", rows):
        numpyro.sample("Y", dist.Normal(out, 1.0 / jnp.sqrt(prec_obs)).to_event(1), obs=Y)


def _bnn_data(n: int = 60, seed: int = 0) -> dict:
    """A wiggly curve of x on [-1, 1] read off the polynomial features (1, x, x^2), standardized, as (n, 1)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, n)
    X = x[:, None] ** np.arange(3)
    y = X @ rng.normal(0.0, 0.5, 3) + 0.5 * (x + 0.5) ** 2 * np.sin(4.0 * x) + 0.05 * rng.normal(size=n)
    y = (y - y.mean()) / y.std()
    return {"X": jnp.asarray(X), "Y": jnp.asarray(y[:, None]), "D_H": 6}


# ---------------------------------------------------------------- covtype.py


def covtype(data, labels, subsample_size=None):
    """Bayesian logistic regression: coefs ~ N(0, I) over the columns of ``data`` (standardized features and
    an intercept column of ones); labels_n ~ Bernoulli(logits = data_n . coefs) in a plate over the rows.

    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/covtype.py
    (fitted on all rows, as its SVI run for the flow does)."""
    dim = data.shape[1]
    coefs = numpyro.sample("coefs", dist.Normal(jnp.zeros(dim), jnp.ones(dim)))
    with numpyro.plate("N", data.shape[0], subsample_size=subsample_size) as rows:
        return numpyro.sample("obs", dist.Bernoulli(logits=data[rows] @ coefs), obs=labels[rows])


def _covtype_data(n: int = 300, d: int = 8, seed: int = 1) -> dict:
    """Standardized features (some continuous, some 0/1 indicators like the soil and wilderness columns) plus a
    ones column; the label says whether a row belongs to the commonest cover type (a boolean)."""
    rng = np.random.default_rng(seed)
    cont = rng.normal(size=(n, d // 2))
    flags = (rng.random((n, d - d // 2)) < 0.3).astype(float)
    raw = np.hstack([cont, flags])
    feats = np.hstack([(raw - raw.mean(0)) / raw.std(0), np.ones((n, 1))])
    truth = np.concatenate([rng.normal(0.0, 0.6, d), [0.3]])
    labels = rng.random(n) < 1.0 / (1.0 + np.exp(-feats @ truth))
    return {"data": jnp.asarray(feats), "labels": jnp.asarray(labels)}


# ---------------------------------------------------------------- hmcecs.py


def hmcecs_logistic(data, obs):
    """Logistic regression with a tighter prior: theta ~ N(0, 0.5^2 I) over the m features, and
    obs_n ~ Bernoulli(logits = theta . data_n) in a plate over all n rows (the example subsamples the plate
    for HMC with energy conserving subsampling; an SVI user keeps every row).
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/hmcecs.py"""
    n, m = data.shape
    theta = numpyro.sample("theta", dist.Normal(jnp.zeros(m), 0.5 * jnp.ones(m)))
    with numpyro.plate("N", n):
        numpyro.sample("obs", dist.Bernoulli(logits=theta @ data.T), obs=obs)


def _higgs_data(n: int = 200, m: int = 6, seed: int = 2) -> dict:
    """Like the HIGGS columns: a few positive skewed (momentum-like) features and some symmetric (angle-like)
    ones, unstandardized, with 0/1 labels (float) from a weak logistic signal."""
    rng = np.random.default_rng(seed)
    skewed = rng.lognormal(0.0, 0.4, size=(n, m // 2))
    symmetric = rng.uniform(-1.7, 1.7, size=(n, m - m // 2))
    feats = np.hstack([skewed, symmetric])
    truth = rng.normal(0.0, 0.4, m)
    logits = (feats - feats.mean(0)) @ truth
    labels = (rng.random(n) < 1.0 / (1.0 + np.exp(-logits))).astype(float)
    return {"data": jnp.asarray(feats), "obs": jnp.asarray(labels)}


# ---------------------------------------------------------------- stein_bnn.py


def stein_bnn(x, y=None, hidden_dim=5, sub_size=100):
    """A one-hidden-layer ReLU network whose weights and biases all share one prior precision prec_nn ~
    Gamma(1, 0.1): nn_b1 (hidden), nn_w1 (features, hidden) in plates l1_feat (dim -2) x l1_hidden (dim -1),
    nn_w2 (hidden) in plate l2_hidden, scalar nn_b2, each N(0, prec_nn^(-1/2)); prec_obs ~ Gamma(1, 0.1) and
    y_n ~ N(relu(x_n w1 + b1) . w2 + b2, prec_obs^(-1/2)) over a subsample of ``sub_size`` rows of the data
    plate.
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/stein_bnn.py
    (there fitted with SteinVI over AutoNormal; here with SVI)."""
    prec_nn = numpyro.sample("prec_nn", dist.Gamma(1.0, 0.1))
    weight_scale = 1.0 / jnp.sqrt(prec_nn)
    features = x.shape[1]
    with numpyro.plate("l1_hidden", hidden_dim, dim=-1):
        b1 = numpyro.sample("nn_b1", dist.Normal(0.0, weight_scale))
        with numpyro.plate("l1_feat", features, dim=-2):
            w1 = numpyro.sample("nn_w1", dist.Normal(0.0, weight_scale))
    with numpyro.plate("l2_hidden", hidden_dim, dim=-1):
        w2 = numpyro.sample("nn_w2", dist.Normal(0.0, weight_scale))
    b2 = numpyro.sample("nn_b2", dist.Normal(0.0, weight_scale))
    prec_obs = numpyro.sample("prec_obs", dist.Gamma(1.0, 0.1))
    with numpyro.plate("data", x.shape[0], subsample_size=sub_size, dim=-1):
        xs = numpyro.subsample(x, event_dim=1)
        ys = None if y is None else numpyro.subsample(y, event_dim=0)
        mean = numpyro.deterministic("y_bnn", nn.relu(xs @ w1 + b1) @ w2 + b2)
        numpyro.sample("y", dist.Normal(mean, 1.0 / jnp.sqrt(prec_obs)), obs=ys)


def _housing_data(n: int = 120, d: int = 4, hidden: int = 5, sub: int = 60, level: float = 2.5, seed: int = 3) -> dict:
    """Standardized features (as the example normalizes them) and a positive, house-price-like target
    (unstandardized, as there), kept near a few units so a short fit can reach it; 60 of the rows a step."""
    rng = np.random.default_rng(seed)
    raw = np.hstack([rng.lognormal(0.0, 0.7, size=(n, 2)), rng.normal(size=(n, d - 2))])
    x = (raw - raw.mean(0)) / raw.std(0)
    price = level + 0.8 * x[:, 0] - 0.5 * np.maximum(x[:, 1], 0.0) + 0.3 * x[:, 2] * x[:, 3] + 0.3 * rng.normal(size=n)
    return {"x": jnp.asarray(x), "y": jnp.asarray(np.maximum(price, 0.5)), "hidden_dim": hidden, "sub_size": sub}


# ---------------------------------------------------------------- zero_inflated_poisson.py


def zero_inflated_poisson(X, Y=None):
    """Fish caught by a park's visiting groups: b1, b2 ~ N(0, I) over the columns of X; each group's count
    Y_n ~ ZeroInflatedPoisson(gate = sigmoid(X_n . b1), rate = exp(X_n . b2)), the gate being the chance of a
    structural zero.
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/zero_inflated_poisson.py"""
    cols = X.shape[1]
    b1 = numpyro.sample("b1", dist.Normal(0.0, 1.0).expand([cols]).to_event(1))
    b2 = numpyro.sample("b2", dist.Normal(0.0, 1.0).expand([cols]).to_event(1))
    gate = nn.sigmoid(X @ b1)
    rate = jnp.exp(X @ b2)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample("Y", dist.ZeroInflatedPoisson(gate=gate, rate=rate), obs=Y)


def _fish_data(n: int = 200, seed: int = 4) -> dict:
    """The fish survey's columns: livebait and camper (0/1), persons (1-4), child (0-3), intercept (1);
    counts from a zero-inflated Poisson with more fish for bigger groups with live bait, fewer with children."""
    rng = np.random.default_rng(seed)
    livebait = (rng.random(n) < 0.85).astype(float)
    camper = (rng.random(n) < 0.6).astype(float)
    persons = rng.integers(1, 5, n).astype(float)
    child = np.minimum(rng.poisson(0.7, n), 3).astype(float)
    X = np.stack([livebait, camper, persons, child, np.ones(n)], axis=1)
    zero = rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ np.array([-0.5, -0.6, -0.4, 1.0, 1.0]))))
    counts = rng.poisson(np.exp(X @ np.array([1.0, 0.5, 0.7, -1.2, -1.5])))
    return {"X": jnp.asarray(X), "Y": jnp.asarray(np.where(zero, 0, counts).astype(float))}


EXAMPLES = [
    Example("bnn.py", "bnn", bnn, _bnn_data),
    Example("covtype.py", "covtype", covtype, _covtype_data),
    Example("hmcecs.py", "hmcecs_logistic", hmcecs_logistic, _higgs_data),
    Example("stein_bnn.py", "stein_bnn", stein_bnn, _housing_data, same_start=True, steps=3000,
            note="ReLU units that start inactive at a ±2 start: 1,000 steps end by the luck of the start"),
    Example("zero_inflated_poisson.py", "zero_inflated_poisson", zero_inflated_poisson, _fish_data, steps=4000,
            note="unscaled, nearly collinear columns: from a ±2 start the rate reaches e^20; slow to converge"),
]
