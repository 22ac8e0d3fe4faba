"""Networks in VG (contract Part 3): an `mlp` encoder against NumPyro's hand-written guide on a VAE of
scikit-learn's digits, an amortized local-means guide against the exact posterior, and the fit report of
array params. Fixed seeds throughout; the diagnostics' lines and columns are in tests/cases/bad/net_*.vg."""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpyro.infer import SVI, Trace_ELBO

import vgc
from vgc import fitting, training

sys.path.insert(0, str(Path(__file__).resolve().parent / "nets"))
import plate_models as pm
import vae_models as V


def test_the_vae_guide_compiles_to_plain_numpyro_with_lazy_params():
    g = vgc.guide(V.VAE_VG)
    code = g.source
    assert 'numpyro.param("enc.w0", _lecun(64, 32))' in code and 'numpyro.param("enc.b1", jnp.zeros(8))' in code
    assert "x_ = jax.nn.softplus(x_ @ enc_w0 + enc_b0)" in code and "return x_ @ enc_w1 + enc_b1" in code
    assert "flax" not in code and "equinox" not in code
    assert g.param_names == ["enc.w0", "enc.b0", "enc.w1", "enc.b1"] and g.latent_names == ["z"]


@pytest.mark.slow
def test_vae_guide_trains_exactly_as_numpyros_hand_written_guide():
    """Same architecture, initializers, optimizer and seed: the same loss at every step (full batches, so
    no subsample draws differ), and the same weights at the end."""
    pytest.importorskip("sklearn")
    train, _ = V.digits()
    x = jnp.asarray(train)
    r = vgc.fit(V.VAE_VG, V.vae, x, len(train), steps=100, eval_particles=10)
    svi = SVI(V.vae, V.hand_guide, fitting._optimizer(r.settings), Trace_ELBO())
    hand = training.train(svi, (x, len(train)), {}, 100, 0, "hand", "none")
    np.testing.assert_allclose(r.losses, hand.losses, rtol=1e-5)
    assert r.losses[-1] < 0.6 * r.losses[0]  # it learns
    params = svi.get_params(hand.state)
    np.testing.assert_allclose(r.params["enc.w1"], params["enc.w1"], rtol=1e-4, atol=1e-5)
    # the model's own network (numpyro.module) is trained with the guide and comes back with the params
    assert "decoder$params" in r.params


@pytest.mark.slow
def test_vae_guide_serves_images_it_has_not_seen():
    """Trained on 1,500 digits, 100 a step: the -ELBO per image on the 297 held out is within 5% of the
    training images' (an amortized guide needs no params per datum)."""
    pytest.importorskip("sklearn")
    train, held = V.digits()
    r = vgc.fit(V.VAE_VG, V.vae, jnp.asarray(train), 100, steps=3000, eval_particles=10)
    key = jax.random.PRNGKey(5)
    seen = fitting.neg_elbo(V.vae, r.guide, r.params, (jnp.asarray(train), len(train)), {}, key, 50).mean
    unseen = fitting.neg_elbo(V.vae, r.guide, r.params, (jnp.asarray(held), len(held)), {}, key, 50).mean
    per_seen, per_unseen = seen / len(train), unseen / len(held)
    assert per_unseen < 1.05 * per_seen
    assert per_seen < 25.0  # measured 18.3 nats per image; the untrained guide gives about 43


local_means = pm.local_means_model  # Part 2's local means: mu ~ N(0, 10), z_i ~ N(mu, 1), y_i ~ N(z_i, 0.5)


def local_data(n=5000):
    rng = np.random.default_rng(0)
    return jnp.asarray(rng.normal(2.0, 1.0, n) + 0.5 * rng.normal(size=n), jnp.float32)


def exact_neg_log_evidence(y) -> float:
    """-log p(y): y ~ N(0, 1.25 I + 100 11') once z and mu are integrated out (Sherman-Morrison)."""
    y = np.asarray(y, np.float64)
    n, a, b = len(y), 1.25, 100.0
    logdet = (n - 1) * np.log(a) + np.log(a + n * b)
    quad = (y @ y - b * y.sum() ** 2 / (a + n * b)) / a
    return 0.5 * (n * np.log(2 * np.pi) + logdet + quad)


AMORTIZED = """
guide amortized(y) {{
  param m = 0.0; param s = 1.0 : positive
  mu ~ Normal(m, s)
  net enc = mlp(2, {hidden}2{act})
  plate data(len(y), subsample=100) {{
    h = enc(concat([y[data]], [mu]))
    z ~ Normal(h[0], exp(h[1]))
  }}
}}
"""

PER_DATUM = """
guide per_datum(y) {
  param m = 0.0; param s = 1.0 : positive
  mu ~ Normal(m, s)
  plate data(len(y), subsample=100) {
    param z_loc = 0.0; param z_scale = 1.0 : positive
    z ~ Normal(z_loc, z_scale)
  }
}
"""


@pytest.mark.slow
def test_amortized_guide_learns_the_exact_posterior_map():
    """A linear encoder of (y_i, mu) is the exact family: q(z_i | y_i, mu) = N(0.8 y_i + 0.2 mu, 1/5).
    The fitted map matches it, and the -ELBO at N = 5,000 is within 1% of -log p(y)."""
    y = local_data()
    r = vgc.fit(AMORTIZED.format(hidden="", act=""), local_means, y, steps=3000, lr=0.02, eval_particles=10)
    w, b = r.params["enc.w0"], r.params["enc.b0"]
    grid = np.array([[yi, mi] for yi in (0.0, 2.0, 4.0) for mi in (1.9, 2.0, 2.1)])
    np.testing.assert_allclose(grid @ w[:, 0] + b[0], grid @ [0.8, 0.2], atol=0.05)
    np.testing.assert_allclose(np.exp(grid @ w[:, 1] + b[1]), 1 / np.sqrt(5), rtol=0.05)
    assert abs(float(r.params["m"]) - float(np.mean(y))) < 0.05
    e = fitting.neg_elbo(local_means, r.guide, r.params, (y,), {}, jax.random.PRNGKey(3), 4000)
    exact = exact_neg_log_evidence(y)
    assert exact - 3 * e.se < e.mean < 1.01 * exact  # measured 7,697.6 ± 5.6 against 7,669.3


@pytest.mark.slow
def test_amortized_guide_is_as_good_as_per_datum_params():
    """With a hidden tanh layer, and against one param pair per datum (5,000 of each), the same steps: the
    amortized -ELBO is no more than 1% above the per-datum guide's (measured 7,720 against 7,884: the
    per-datum params see each datum once in 50 steps and are still moving)."""
    y = local_data()
    key = jax.random.PRNGKey(3)
    net = vgc.fit(AMORTIZED.format(hidden="16, ", act=", act=tanh"), local_means, y, steps=3000, eval_particles=10)
    per = vgc.fit(PER_DATUM, local_means, y, steps=3000, lr=0.05, eval_particles=10)
    e_net = fitting.neg_elbo(local_means, net.guide, net.params, (y,), {}, key, 4000)
    e_per = fitting.neg_elbo(local_means, per.guide, per.params, (y,), {}, key, 4000)
    assert e_net.mean < 1.01 * e_per.mean
    assert e_net.mean < 1.01 * exact_neg_log_evidence(y)
    assert net.num_params == 2 + (2 * 16 + 16) + (16 * 2 + 2) and per.num_params == 2 + 2 * 5000


def test_fit_report_shows_array_params_by_shape_not_entries():
    text = fitting._param_text(np.arange(64 * 32, dtype=float).reshape(64, 32))
    assert text == "array (64, 32): mean 1024, sd 591.2, min 0, max 2047"
    assert fitting._param_text(np.array([1.0, 2.0])) == "[1. 2.]"


@pytest.mark.slow
def test_init_amortize_writes_an_mlp_guide_that_fits(capsys, tmp_path):
    """`vgc init --amortize`: the subsampled plate's local latents (a real z and a positive s) get their
    locations and log-scales from an mlp of the datum; the guide passes its own check and fits."""
    from vgc import cli

    y = np.asarray(local_data())
    data, guide = tmp_path / "y.npz", tmp_path / "guide.vg"
    np.savez(data, y=y)
    spec = f"{Path(__file__).resolve().parent / 'nets' / 'local_models.py'}:local_scales"
    assert cli.main(["init", "--model", spec, "--data", str(data), "--arg", "batch=100", "--amortize",
                     "-o", str(guide)]) == 0
    lines = [ln.strip() for ln in guide.read_text().splitlines()]
    assert lines[lines.index("guide local_scales_guide(y, batch) {") + 1].startswith(
        "net data_enc = mlp(1, 32, 4, act=softplus)")
    assert "plate data(len(y), subsample=batch) {" in lines and "h = data_enc([y[data]])" in lines
    assert "z ~ Normal(h[0], exp(h[1]))" in lines and "s_raw ~ Normal(h[2], exp(h[3]))" in lines
    assert "s = exp(s_raw)" in lines and not any(ln.startswith("param z_") for ln in lines)
    capsys.readouterr()
    out = tmp_path / "params.npz"
    assert cli.main(["fit", str(guide), "--model", spec, "--data", str(data), "--arg", "batch=100",
                     "--steps", "2000", "--eval-particles", "200", "--out", str(out)]) == 0
    report = capsys.readouterr().out
    assert "data_enc.w0 = array (1, 32)" in report  # arrays by shape, not entries
    fitted = np.load(out)
    assert abs(float(fitted["mu_loc"]) - float(np.mean(y))) < 0.1
    assert fitted["data_enc.w0"].shape == (1, 32) and fitted["data_enc.w1"].shape == (32, 4)


def test_init_amortize_gives_a_local_simplex_a_dirichlet_of_the_network():
    """A subsampled plate's simplex (ProdLDA's per-document topic proportions) gets its concentration from the
    network, exp of K outputs, as NumPyro's prodlda.py guide does; the guide passes its own check."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "nets"))
    from prodlda_model import TOPICS, prodlda

    from vgc.init import write_guide

    rng = np.random.default_rng(0)
    docs = jnp.asarray(rng.multinomial(40, np.ones(12) / 12, size=30))
    text = write_guide(prodlda, (), {"docs": docs, "batch": 10}, amortize=True)
    lines = [ln.strip() for ln in text.splitlines()]
    assert f"net documents_enc = mlp(12, 32, {TOPICS}, act=softplus)  # documents's datum -> log-concentrations" \
        in lines
    assert "h = documents_enc(docs[documents])" in lines and "theta ~ Dirichlet(exp(h[0:3]))" in lines
    assert not any(ln.startswith("param ") for ln in lines)
