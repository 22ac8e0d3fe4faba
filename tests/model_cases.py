"""Models that follow NumPyro's (written here from their math) and models of ours, with data, for
tests/test_modelcheck.py and tests/test_init.py.

Not a test module. ``eight_schools`` is Rubin's eight schools as NumPyro's README states it
(https://github.com/pyro-ppl/numpyro/blob/master/README.md), centred, and ``eight_schools_noncentered`` its
non-centred version through ``TransformReparam`` (so ``theta`` becomes a deterministic site and
``theta_base`` the latent). ``mixed_supports`` has Beta, Dirichlet and interval latents; ``local_means`` one
local latent per datum in a subsampled plate.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer.reparam import TransformReparam
from plate_models import EIGHT_SCHOOLS_VG, SIGMA, J, Y  # noqa: F401  (re-exported for the tests)

EIGHT_SCHOOLS_DATA = {"J": J, "sigma": SIGMA, "y": Y}


def eight_schools(J, sigma, y=None):
    """mu ~ N(0, 5), tau ~ HalfCauchy(5); per school theta_j ~ N(mu, tau) and y_j ~ N(theta_j, sigma_j)."""
    mean = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    spread = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("J", J):
        effect = numpyro.sample("theta", dist.Normal(mean, spread))
        numpyro.sample("obs", dist.Normal(effect, sigma), obs=y)


def eight_schools_noncentered(J, sigma, y=None):
    """The same model with theta_j = mu + tau theta_base_j, theta_base_j ~ N(0, 1), written as a transformed
    standard normal that ``TransformReparam`` splits into the base latent and a deterministic theta."""
    mean = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    spread = numpyro.sample("tau", dist.HalfCauchy(5.0))
    shifted = dist.TransformedDistribution(dist.Normal(0.0, 1.0), dist.transforms.AffineTransform(mean, spread))
    with numpyro.plate("J", J):
        with numpyro.handlers.reparam(config={"theta": TransformReparam()}):
            effect = numpyro.sample("theta", shifted)
        numpyro.sample("obs", dist.Normal(effect, sigma), obs=y)


# Beta, Dirichlet and interval latents, each informed by its own data.
HEADS, TRIALS = 13, 20
COUNTS = np.array([12, 30, 58])
STUDENT = np.array([-2.1, 0.3, 1.7, -0.4, 5.2, 0.8, -1.1, 0.2, 3.9, -0.6, 0.1, -7.5])
MIXED_DATA = {"counts": COUNTS, "y": STUDENT}


def mixed_supports(counts, y=None):
    p = numpyro.sample("p", dist.Beta(2.0, 2.0))
    w = numpyro.sample("w", dist.Dirichlet(np.ones(3)))
    nu = numpyro.sample("nu", dist.Uniform(1.0, 10.0))
    numpyro.sample("heads", dist.Binomial(TRIALS, p), obs=HEADS)
    numpyro.sample("counts", dist.Multinomial(int(np.sum(counts)), w), obs=counts)
    with numpyro.plate("obs_plate", len(y)):
        numpyro.sample("y", dist.StudentT(nu, 0.0, 1.0), obs=y)


# One local latent per datum, the data subsampled `batch` at a time.
def local_means_data(n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = 1.5 + rng.normal(size=n)
    return z + 0.5 * rng.normal(size=n)


def local_means(y, batch=100):
    mu = numpyro.sample("mu", dist.Normal(0.0, 3.0))
    with numpyro.plate("data", len(y), subsample_size=batch) as idx:
        z = numpyro.sample("z", dist.Normal(mu, 1.0))
        numpyro.sample("y", dist.Normal(z, 0.5), obs=jnp.asarray(y)[idx])
