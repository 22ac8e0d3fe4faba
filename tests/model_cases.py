"""Models written by others (NumPyro's examples) and by us, with data, for tests/test_modelcheck.py.

Not a test module. ``eight_schools`` is NumPyro's own (README and examples), centred, and
``eight_schools_noncentered`` its non-centred version through ``TransformReparam`` (so ``theta`` becomes a
deterministic site and ``theta_base`` the latent). ``mixed_supports`` has Beta, Dirichlet and interval
latents; ``local_means`` one local latent per datum in a subsampled plate.
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
    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("J", J):
        theta = numpyro.sample("theta", dist.Normal(mu, tau))
        numpyro.sample("obs", dist.Normal(theta, sigma), obs=y)


def eight_schools_noncentered(J, sigma, y=None):
    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("J", J):
        with numpyro.handlers.reparam(config={"theta": TransformReparam()}):
            theta = numpyro.sample(
                "theta",
                dist.TransformedDistribution(dist.Normal(0.0, 1.0), dist.transforms.AffineTransform(mu, tau)),
            )
        numpyro.sample("obs", dist.Normal(theta, sigma), obs=y)


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
