"""A VAE on scikit-learn's digits, as NumPyro's examples/vae.py builds it (written from that example's math:
a Gaussian latent per image, a decoder network in the model, Bernoulli pixels), for tests/test_networks.py."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.example_libraries import stax
from jax.nn.initializers import lecun_normal

Z_DIM, HIDDEN = 4, 32


def digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 digits as 64 binary pixels (on where the grey level is above half), shuffled once with
    ``seed`` and split 1,500 to train, 297 to hold out."""
    from sklearn.datasets import load_digits

    images = (load_digits().data > 8.0).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(images))
    return images[order[:1500]], images[order[1500:]]


def decoder(hidden_dim: int, out_dim: int):
    """z -> pixel probabilities: a softplus hidden layer, a sigmoid output (vae.py's decoder)."""
    return stax.serial(stax.Dense(hidden_dim), stax.Softplus, stax.Dense(out_dim), stax.Sigmoid)


def vae(x, batch=100):
    """z ~ Normal(0, I) per image, pixels ~ Bernoulli(decoder(z)); the decoder is the model's own network
    (``numpyro.module``: its params are trained with the guide's); images subsampled ``batch`` at a time."""
    n, pixels = jnp.shape(x)
    decode = numpyro.module("decoder", decoder(HIDDEN, pixels), (batch, Z_DIM))
    with numpyro.plate("data", n, subsample_size=batch) as idx:
        z = numpyro.sample("z", dist.Normal(0.0, 1.0).expand([Z_DIM]).to_event(1))
        numpyro.sample("obs", dist.Bernoulli(decode(z)).to_event(1), obs=x[idx])


VAE_VG = """
guide vae_guide(x, batch) {
  net enc = mlp(64, 32, 2 * 4, act=softplus)
  plate data(len(x), subsample=batch) {
    h = enc(x[data])
    z ~ Normal(h[0:4], exp(h[4:8]))
  }
}
"""


def hand_guide(x, batch=100):
    """The same guide written by hand in NumPyro: the same layers, params, initializers and order."""
    n, pixels = jnp.shape(x)
    w0 = numpyro.param("enc.w0", lambda key: lecun_normal()(key, (pixels, HIDDEN)))
    b0 = numpyro.param("enc.b0", jnp.zeros(HIDDEN))
    w1 = numpyro.param("enc.w1", lambda key: lecun_normal()(key, (HIDDEN, 2 * Z_DIM)))
    b1 = numpyro.param("enc.b1", jnp.zeros(2 * Z_DIM))
    with numpyro.plate("data", n, subsample_size=batch) as idx:
        h = jnp.logaddexp(0.0, x[idx] @ w0 + b0) @ w1 + b1
        numpyro.sample("z", dist.Normal(h[..., :Z_DIM], jnp.exp(h[..., Z_DIM:])).to_event(1))
