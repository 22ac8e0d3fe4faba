"""NumPyro's eight schools, non-centred (its examples and Betancourt and Girolami 2015): theta = mu + tau * eta
with eta ~ Normal(0, 1) per school, the form in which NUTS has no divergences. docs/fit.md fits
eight_schools_noncentered.vg to it against NUTS:

    vgc fit examples/eight_schools_noncentered.vg --model examples/eight_schools_noncentered.py:eight_schools \\
        --data examples/eight_schools.json --steps 5000 --lr 0.05 --particles 4 \\
        --compare AutoNormal,AutoMultivariateNormal --reference nuts
"""

import numpyro
import numpyro.distributions as dist


def eight_schools(J, sigma, y=None):
    """mu ~ Normal(0, 5), tau ~ HalfCauchy(5), eta ~ Normal(0, 1) in plate J, y ~ Normal(mu + tau * eta, sigma)."""
    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("J", J):
        eta = numpyro.sample("eta", dist.Normal(0, 1))
        theta = numpyro.deterministic("theta", mu + tau * eta)
        numpyro.sample("obs", dist.Normal(theta, sigma), obs=y)
