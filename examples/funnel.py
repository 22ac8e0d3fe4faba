"""Neal's funnel (Neal 2003, "Slice sampling"), the model NumPyro's example gallery uses in
https://github.com/pyro-ppl/numpyro/blob/master/examples/funnel.py, written here from its math, and a script
fitting funnel.vg to it with `vgc.fit`, compared with AutoNormal.

    vgc fit examples/funnel.vg --model examples/funnel.py:funnel --compare AutoNormal,AutoMultivariateNormal
"""

import argparse
from pathlib import Path

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

import vgc


def funnel(dim=10):
    """y ~ N(0, 3); x ~ N(0, exp(y / 2)) in dim - 1 batch entries (no .to_event, as the example keeps them)."""
    y = numpyro.sample("y", dist.Normal(0.0, 3.0))
    spread = jnp.exp(0.5 * y)  # the funnel's neck: x's scale shrinks with y
    numpyro.sample("x", dist.Normal(jnp.zeros(dim - 1), spread))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5000, help="SVI steps (default: %(default)s)")
    args = parser.parse_args()
    guide = vgc.load(Path(__file__).with_suffix(".vg"))
    result = vgc.fit(guide, funnel, steps=args.steps, lr=0.01, particles=4, compare=["AutoNormal"])
    print(vgc.fitting.report(result), end="")  # c ≈ 0.5, d ≈ 0: x's scale exp(y / 2), as in the model


if __name__ == "__main__":
    main()
