"""The seed ansatz guide's density is right, and the Jacobian term is what makes it right (float64).

examples/seed_ansatz.vg: [x, y] = inv(A)·[u1, u2] with A = [[cos θ, −sin θ], [cos θ, sin θ]],
u1 ~ Mix(Normal(±b, 1)), u2 ~ Cauchy(0, 1); so q(x, y) = q_u(A·[x, y])·|det A| with |det A| = sin 2θ.
"""

from __future__ import annotations

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
from stats_helpers import DropJacobian, draw, log_q_u, x64

import vgc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
B, THETA = 1.0, 0.4
PARAMS = {"b": B, "θ": THETA}


@pytest.fixture(scope="module")
def guide():
    return vgc.load(EXAMPLES / "seed_ansatz.vg")


def ansatz_matrix(theta):
    c, s = jnp.cos(theta), jnp.sin(theta)
    return jnp.array([[c, -s], [c, s]])


def closed_form_log_q(x, y):
    u1, u2 = ansatz_matrix(THETA) @ jnp.stack([x, y])
    return log_q_u(u1, u2, B) + jnp.log(jnp.abs(jnp.sin(2 * THETA)))


def log_p(x, y):
    """The normalized target N(0, 0.5²·I)."""
    return dist.Normal(0.0, 0.5).log_prob(x) + dist.Normal(0.0, 0.5).log_prob(y)


def test_guide_log_density_matches_closed_form(guide):
    t0 = time.perf_counter()
    with x64():
        draws, log_q = draw(guide, PARAMS, jax.random.PRNGKey(0), 1000, ["x", "y", "u1", "u2"])
        assert draws.dtype == jnp.float64
        x, y, u1, u2 = draws.T
        # the sites really are inv(A)·u ...
        np.testing.assert_allclose(ansatz_matrix(THETA) @ jnp.stack([x, y]), jnp.stack([u1, u2]), rtol=1e-9, atol=1e-9)
        # ... and the trace's density is q_u(A·[x, y])·|sin 2θ|
        expected = closed_form_log_q(x, y)
        worst = float(jnp.max(jnp.abs(log_q - expected) / jnp.abs(expected)))
    print(f"\nseed_ansatz log q: max relative error {worst:.2e} over 1000 draws ({time.perf_counter() - t0:.1f}s)")
    np.testing.assert_allclose(log_q, expected, rtol=1e-6)


def importance_estimate(guide, key, n):
    """E_q[p/q] over n draws from ``guide``, with q taken from the guide's own trace."""
    xy, log_q = draw(guide, PARAMS, key, n, ["x", "y"])
    weights = jnp.exp(log_p(xy[:, 0], xy[:, 1]) - log_q)
    return float(jnp.mean(weights)), float(jnp.std(weights) / jnp.sqrt(n))


@pytest.mark.slow
def test_importance_estimate_is_one(guide):
    t0 = time.perf_counter()
    with x64():
        estimate, se = importance_estimate(guide, jax.random.PRNGKey(1), 2 * 10**5)
    print(f"\nseed_ansatz E_q[p/q] = {estimate:.4f} ± {se:.4f} ({time.perf_counter() - t0:.1f}s)")
    assert abs(estimate - 1.0) < 0.02


@pytest.mark.slow
def test_importance_estimate_without_jacobian_is_wrong(guide):
    """Dropping the Delta's log_density leaves log q_u(u): the estimate becomes |det A| = sin 0.8 ≈ 0.717."""
    t0 = time.perf_counter()
    with x64():
        estimate, se = importance_estimate(DropJacobian(guide), jax.random.PRNGKey(1), 2 * 10**5)
    print(f"\nseed_ansatz without Jacobian E_q[p/q] = {estimate:.4f} ± {se:.4f} ({time.perf_counter() - t0:.1f}s)")
    assert abs(estimate - 1.0) > 0.1
    assert abs(estimate - np.sin(2 * THETA)) < 0.02
