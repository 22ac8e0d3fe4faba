"""A ProdLDA-style topic model (Srivastava and Sutton 2017, "Autoencoding variational inference for topic
models"; the model of NumPyro's examples/prodlda.py, written here from its math): each document's topic
proportions theta ~ Dirichlet(1/K), and its word counts ~ Multinomial(total, softmax(BatchNorm(theta W))),
the decoder a Flax linen module with BatchNorm whose running statistics are mutable state
(flax_module(..., mutable=["batch_stats"])). Small: 40 documents, 30 words, 3 topics."""

import flax.linen as nn
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.contrib.module import flax_module

TOPICS = 3


class Decoder(nn.Module):
    """theta (K,) -> the word distribution's logits (V,), batch-normalized (no learned scale)."""

    vocab: int

    @nn.compact
    def __call__(self, theta):
        h = nn.Dense(self.vocab, use_bias=False)(theta)
        return nn.BatchNorm(use_running_average=False, use_scale=False)(h)


def prodlda(docs, batch=None):
    """docs: (D, V) word counts; ``batch``: documents per step (the example subsamples them), None for all."""
    n_docs, vocab = docs.shape
    decoder = flax_module("decoder", Decoder(vocab), input_shape=(1, TOPICS), mutable=["batch_stats"])
    with numpyro.plate("documents", n_docs, subsample_size=batch) as idx:
        theta = numpyro.sample("theta", dist.Dirichlet(jnp.ones(TOPICS) / TOPICS))
        logits = decoder(theta)
        numpyro.sample("obs", dist.Multinomial(docs[idx].sum(-1), logits=logits), obs=docs[idx])
