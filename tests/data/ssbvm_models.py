"""A mixture of sine-skewed bivariate von Mises distributions of dihedral-angle pairs (phi, psi), written here
from the math of https://github.com/pyro-ppl/numpyro/blob/master/examples/ssbvm_mixture.py (the same sites,
shapes, distributions and plates), for tests/test_init.py. Its two component locations are reparametrized
with ``CircularReparam``: each becomes an ``ImproperUniform`` latent on the real line (``*_unwrapped``), wrapped
onto [-pi, pi) and weighted by the von Mises density through a ``factor``."""

import math

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.distributions.transforms import L1BallTransform
from numpyro.infer.reparam import CircularReparam


def _beta_hyperprior(angle: str, components: int):
    """A Beta's mean ~ dist.Uniform(0, 1) and pseudo-count ~ dist.Gamma(1, rate 1/K), as its two parameters."""
    mean = numpyro.sample(f"beta_mean_{angle}", dist.Uniform(0.0, 1.0))
    count = numpyro.sample(f"beta_count_{angle}", dist.Gamma(1.0, 1.0 / components))
    return mean * count, count * (1.0 - mean)


@numpyro.handlers.reparam(config={"phi_loc": CircularReparam(), "psi_loc": CircularReparam()})
def ss_model(data, num_data, num_mix_comp=2):
    """Component weights ~ Dirichlet(1); per component (plate ``mixture``) the locations phi_loc ~ VonMises(pi, 2)
    and psi_loc ~ VonMises(0, 0.1), concentrations 1000 x Beta draws with the hyperpriors above, a
    correlation weight ~ Beta(2, 10) and a skewness in the L1 ball (a Normal(0, 0.5) pair mapped into it); per
    datum (plate ``obs_plate``) an enumerated component and (phi, psi) ~ SineSkewed(SineBivariateVonMises)."""
    mix_weights = numpyro.sample("mix_weights", dist.Dirichlet(jnp.ones((num_mix_comp,))))
    a_phi, b_phi = _beta_hyperprior("phi", num_mix_comp)
    a_psi, b_psi = _beta_hyperprior("psi", num_mix_comp)
    with numpyro.plate("mixture", num_mix_comp):
        phi_loc = numpyro.sample("phi_loc", dist.VonMises(math.pi, 2.0))
        psi_loc = numpyro.sample("psi_loc", dist.VonMises(0.0, 0.1))
        phi_conc = numpyro.sample("phi_conc", dist.Beta(a_phi, b_phi))
        psi_conc = numpyro.sample("psi_conc", dist.Beta(a_psi, b_psi))
        corr_scale = numpyro.sample("corr_scale", dist.Beta(2.0, 10.0))
        skewness = L1BallTransform()(numpyro.sample("skewness", dist.Normal(0.0, 0.5).expand((2,)).to_event(1)))
    with numpyro.plate("obs_plate", num_data, dim=-1):
        k = numpyro.sample("mix_comp", dist.Categorical(mix_weights), infer={"enumerate": "parallel"})
        bvm = dist.SineBivariateVonMises(phi_loc=phi_loc[k], psi_loc=psi_loc[k], phi_concentration=1000 * phi_conc[k],
                                    psi_concentration=1000 * psi_conc[k], weighted_correlation=corr_scale[k])
        numpyro.sample("phi_psi", dist.SineSkewed(bvm, skewness[k]), obs=data)


def ssbvm_data(n: int = 60, seed: int = 0) -> dict:
    """n angle pairs from two well-separated bivariate von Mises clusters (no skew), as the model's arguments."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-1.2, 2.4], [-2.0, -0.5]])
    which = rng.integers(0, 2, size=n)
    angles = centres[which] + rng.vonmises(0.0, 20.0, size=(n, 2))
    angles = np.remainder(angles + np.pi, 2 * np.pi) - np.pi
    return {"data": jnp.asarray(angles), "num_data": n}
