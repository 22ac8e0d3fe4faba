"""NumPyro's eight schools, non-centred (its examples and Betancourt and Girolami 2015): theta = mu + tau * eta
with eta ~ Normal(0, 1) per school, the form in which NUTS has no divergences. docs/fit.md fits
eight_schools_noncentered.vg to it against NUTS:

    vgc fit examples/eight_schools_noncentered.vg --model examples/eight_schools_noncentered.py:eight_schools \\
        --data examples/eight_schools.json --steps 5000 --lr 0.05 --particles 4 \\
        --compare AutoNormal,AutoMultivariateNormal --reference nuts
"""

import argparse
import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

import vgc

HERE = Path(__file__).resolve().parent


def eight_schools(J, sigma, y=None):
    """mu ~ Normal(0, 5), tau ~ HalfCauchy(5), eta ~ Normal(0, 1) in plate J, y ~ Normal(mu + tau * eta, sigma)."""
    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("J", J):
        eta = numpyro.sample("eta", dist.Normal(0, 1))
        theta = numpyro.deterministic("theta", mu + tau * eta)
        numpyro.sample("obs", dist.Normal(theta, sigma), obs=y)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=5000, help="SVI steps (default: %(default)s)")
    args = parser.parse_args()
    data = json.loads((HERE / "eight_schools.json").read_text(encoding="utf-8"))
    kwargs = {k: jnp.asarray(v) if isinstance(v, list) else v for k, v in data.items()}
    result = vgc.fit(vgc.load(HERE / "eight_schools_noncentered.vg"), eight_schools, steps=args.steps, lr=0.05,
                     particles=4, **kwargs)
    for name, value in result.params.items():
        print(f"{name} = {np.array2string(np.asarray(value), precision=3)}")
    print(f"-ELBO = {result.elbo.mean:.3f} ± {result.elbo.se:.3f}")


if __name__ == "__main__":
    main()
