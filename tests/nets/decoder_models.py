"""Models whose own network (a decoder) is a Flax linen, Flax NNX or Equinox module, registered with
numpyro.contrib.module's flax_module, nnx_module and eqx_module (tests/test_modules.py): z_i ~ N(0, 1),
y_i ~ N(dec(z_i), 0.1), dec a linear map of one input. Data: dec(z) = 2 z + 1."""

import equinox as eqx
import flax.linen as linen
import jax
import numpyro
import numpyro.distributions as dist
from flax import nnx
from numpyro.contrib.module import eqx_module, flax_module, nnx_module

_NNX = nnx.Linear(1, 1, rngs=nnx.Rngs(0))
_EQX = eqx.nn.Linear(1, 1, key=jax.random.PRNGKey(0))


def _model(y, dec):
    with numpyro.plate("data", y.shape[0]):
        z = numpyro.sample("z", dist.Normal(0.0, 1.0))
        numpyro.sample("y", dist.Normal(dec(z[..., None])[..., 0], 0.1), obs=y)


def linen_decoder(y):
    _model(y, flax_module("dec", linen.Dense(1), input_shape=(1,)))


def nnx_decoder(y):
    _model(y, nnx_module("dec", _NNX))


def eqx_decoder(y):
    _model(y, jax.vmap(eqx_module("dec", _EQX)))
