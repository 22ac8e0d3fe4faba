"""Models for `vgc init --amortize` through the command line (tests/test_networks.py)."""

import numpyro
import numpyro.distributions as dist


def local_scales(y, batch=100):
    """A global mean, and per observation a real local mean and a positive local scale, subsampled."""
    mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    with numpyro.plate("data", len(y), subsample_size=batch) as idx:
        z = numpyro.sample("z", dist.Normal(mu, 1.0))
        s = numpyro.sample("s", dist.LogNormal(-1.0, 0.3))
        numpyro.sample("y", dist.Normal(z, s), obs=y[idx])
