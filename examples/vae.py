"""Fit vae.vg, an amortized VAE guide, to scikit-learn's 8x8 digits and plot reconstructions.

The model follows NumPyro's examples/vae.py: z ~ Normal(0, I) per image, pixels ~ Bernoulli(decoder(z)), the
decoder a network of the model's own (``numpyro.module``), so SVI trains it with the guide's encoder. The
digits are binarized (a pixel is on where its grey level is above half) and split 1,500 to train, 297 held
out. Needs scikit-learn for the digits, and matplotlib for ``--plot``.

    python examples/vae.py [--steps 3000] [--plot DIR]
"""

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.example_libraries import stax
from numpyro import handlers

import vgc

guide = vgc.load(Path(__file__).with_suffix(".vg"))
Z_DIM, HIDDEN = 8, 128


def decoder():
    """z -> pixel probabilities: a softplus hidden layer, a sigmoid output."""
    return stax.serial(stax.Dense(HIDDEN), stax.Softplus, stax.Dense(64), stax.Sigmoid)


def vae(x, batch=100):
    n = jnp.shape(x)[0]
    decode = numpyro.module("decoder", decoder(), (batch, Z_DIM))
    with numpyro.plate("data", n, subsample_size=batch) as idx:
        z = numpyro.sample("z", dist.Normal(0.0, 1.0).expand([Z_DIM]).to_event(1))
        numpyro.sample("obs", dist.Bernoulli(decode(z)).to_event(1), obs=x[idx])


def digits():
    from sklearn.datasets import load_digits

    images = (load_digits().data > 8.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(images))
    return jnp.asarray(images[order[:1500]]), jnp.asarray(images[order[1500:]])


def reconstruct(params, x):
    """Each image's pixel probabilities decoded from its latent's location under the fitted guide."""
    sites = handlers.trace(handlers.seed(handlers.substitute(guide, data=params), 0)).get_trace(x, len(x))
    _, apply = decoder()
    return apply(params["decoder$params"], sites["z"]["fn"].base_dist.loc)


def plot(params, held, directory):
    from matplotlib.figure import Figure

    probs = np.asarray(reconstruct(params, held[:10]))
    fig = Figure(figsize=(10, 2.3))
    for i in range(10):
        for row, (img, title) in enumerate(((held[i], "held out"), (probs[i], "reconstructed"))):
            ax = fig.add_subplot(2, 10, row * 10 + i + 1)
            ax.imshow(np.reshape(img, (8, 8)), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_ylabel(title, fontsize=8)
    fig.suptitle("vae.vg: ten held-out digits and their reconstructions")
    Path(directory).mkdir(parents=True, exist_ok=True)
    path = Path(directory) / "vae_reconstructions.png"
    fig.savefig(path, dpi=110)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000, help="SVI steps (default: %(default)s)")
    parser.add_argument("--plot", metavar="DIR", help="write vae_reconstructions.png here")
    args = parser.parse_args()

    train, held = digits()
    result = vgc.fit(guide, vae, train, 100, steps=args.steps, lr=0.01, eval_particles=100)
    print(vgc.fitting.report(result), end="")
    key = jax.random.PRNGKey(1)
    for name, x in (("training", train), ("held-out", held)):
        e = vgc.fitting.neg_elbo(vae, guide, result.params, (x, len(x)), {}, key, 20)
        print(f"-ELBO per {name} image: {e.mean / len(x):.2f}")
    for name in guide.param_names:  # the encoder's params, as `vgc fit --out` names them
        value = np.asarray(result.params[name])
        print(f"{name} = array {value.shape}, mean {value.mean():.4f}")
    if args.plot:
        print(f"wrote {plot(result.params, np.asarray(held), args.plot)}")


if __name__ == "__main__":
    main()
