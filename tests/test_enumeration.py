"""Models whose discrete latents the model enumerates (contract Part 2, "Discrete latents the model
enumerates"): the model check, `vgc init`, and `vgc fit` with TraceEnum_ELBO, against NumPyro's toy enumeration
example, a Gaussian mixture and an HMM (tests/fit/enum_models.py). Fixed seeds throughout."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import jsonschema
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from numpyro.infer import SVI, TraceEnum_ELBO

import vgc
from vgc import cli, enumeration, fitting, training
from vgc.init import write_guide

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "tests" / "fit"
sys.path.insert(0, str(HERE))
import enum_models as M  # noqa: E402  (tests/fit/enum_models.py)

pytest.importorskip("funsor")  # the `vgc[enum]` extra; `.[test]` installs it


def gmm_setup(n=1000):
    y, z = M.gmm_data(n)
    return jnp.asarray(y), z


# ---------------------------------------------------------------- the model check and vgc init


def test_an_enumerated_site_is_covered_and_a_forgotten_one_is_vg801_at_the_header():
    y, _ = gmm_setup(200)
    g = vgc.guide(M.GMM_VG)
    assert g.check_model(M.gmm, y) == []
    found = g.check_model(M.gmm_not_enumerated, y)
    assert [(d.code, d.span.line, d.span.column) for d in found] == [("VG801", 2, 7)]  # the header: `guide gmm_guide`
    assert found[0].message == ("the model's latent 'z' (Categorical) is discrete and the model does not enumerate "
                                "it: a VG guide draws only continuous values, so NumPyro would draw it from its prior")
    assert "infer={'enumerate': 'parallel'}" in found[0].hint and "TraceEnum_ELBO" in found[0].hint


def test_a_discrete_latent_with_infinite_support_says_why_it_cannot_be_enumerated():
    g = vgc.guide("guide g(y) {\n  param m = 0.0; param s = 1.0 : positive\n  v ~ Normal(m, s)\n  rate = exp(v)\n}\n")
    found = g.check_model(M.gmm_poisson, 1.5)
    assert [(d.code, d.span.line, d.span.column) for d in found] == [("VG801", 1, 7)]
    assert "'n' (Poisson) is discrete" in found[0].message
    assert found[0].hint.startswith("Poisson has an infinite support, which cannot be enumerated")


def test_init_writes_a_comment_for_each_enumerated_site():
    y, _ = gmm_setup(200)
    text = write_guide(M.gmm, (y,))
    lines = [ln.strip() for ln in text.splitlines()]
    assert ("# z: Categorical, 3 values in data: the model enumerates and sums it out (TraceEnum_ELBO); "
            "no guide site") in lines
    assert not any(ln.startswith(("z ~", "z =")) for ln in lines)
    assert vgc.guide(text).check_model(M.gmm, y) == []  # the guide it wrote passes the check


# ---------------------------------------------------------------- vgc fit


@pytest.mark.slow
def test_toy_example_vg_guide_gives_the_hand_written_guides_elbo():
    """NumPyro's toy enumeration example: a VG guide with the same family and starting values as the
    example's hand-written guide trains to the same losses step by step and the same -ELBO (within 2 s.e.)."""
    obs = M.toy_data()
    args = (M.TOY_PRIOR, obs, len(obs["A"]))
    r = vgc.fit(M.TOY_VG, M.toy, *args, steps=1500, eval_particles=2000)
    assert r.elbo_kind == "traceenum" and r.elbo_note.startswith("using TraceEnum_ELBO: the model enumerates 'B'")
    settings = r.settings
    svi = SVI(M.toy, M.toy_guide, fitting._optimizer(settings), TraceEnum_ELBO())
    hand = training.train(svi, args, {}, settings.steps, settings.seed, "hand", "none")
    np.testing.assert_allclose(r.losses, hand.losses, rtol=1e-4)
    params = svi.get_params(hand.state)
    key = jax.random.fold_in(jax.random.PRNGKey(settings.seed), 1)
    hand_elbo = fitting.neg_elbo(M.toy, M.toy_guide, params, args, {}, key, 2000, enumerated=True)
    assert abs(r.elbo.mean - hand_elbo.mean) < 2 * np.hypot(r.elbo.se, hand_elbo.se)
    # the fit is right, not only equal: the Beta means against the probabilities that made the data
    p_a = r.params["a0"] / (r.params["a0"] + r.params["a1"])
    p_c = r.params["c0"] / (r.params["c0"] + r.params["c1"])
    assert abs(p_a - M.TOY_TRUTH["p_A"]) < 0.03 and np.all(np.abs(p_c - M.TOY_TRUTH["p_C"]) < 0.06)
    # the hidden B per observation: exact P(B = 1 | A, C) at the fitted means, against the fit's posterior
    p_b = r.params["b0"] / (r.params["b0"] + r.params["b1"])
    a, c = np.asarray(obs["A"]).astype(int), np.asarray(obs["C"])
    like1 = p_b[a] * np.where(c == 1, p_c[1], 1 - p_c[1])
    like0 = (1 - p_b[a]) * np.where(c == 1, p_c[0], 1 - p_c[0])
    exact = like1 / (like0 + like1)
    post = r.discrete["B"]
    assert post.probs.shape == (2000, 2) and list(post.values) == [0, 1]
    assert np.max(np.abs(post.probs[:, 1] - exact)) < 0.08  # 1000 guide draws: Monte Carlo s.e. <= 0.016
    assert np.mean(np.abs(post.probs[:, 1] - exact)) < 0.02


@pytest.mark.slow
def test_gaussian_mixture_recovers_weights_locations_scale_and_classifies(capsys, tmp_path):
    """The GMM through `vgc fit --compare AutoNormal` (both with TraceEnum_ELBO; AutoNormal on the model with
    z blocked): weights, locations and scale recovered, and >= 95% of the points assigned to their component."""
    y, z = gmm_setup()
    data, out, guide = tmp_path / "gmm.npz", tmp_path / "params.npz", tmp_path / "gmm.vg"
    np.savez(data, y=np.asarray(y))
    guide.write_text(M.GMM_VG)
    status = cli.main(["fit", str(guide), "--model", f"{HERE / 'enum_models.py'}:gmm", "--data", str(data),
                       "--steps", "2000", "--lr", "0.05", "--eval-particles", "2000", "--compare", "AutoNormal",
                       "--out", str(out), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    jsonschema.validate(report, json.loads((ROOT / "docs" / "fit.schema.json").read_text()))
    assert report["elbo"] == "traceenum" and report["elbo_note"].startswith("using TraceEnum_ELBO")
    assert [c["elbo"] for c in report["compare"]] == ["traceenum"]
    saved = np.load(out)
    conc = saved["w_conc"]
    counts = np.bincount(z, minlength=3) / len(z)  # the weights the data carry
    np.testing.assert_allclose(conc / conc.sum(), counts, atol=0.02)
    np.testing.assert_allclose(saved["l_loc"], M.GMM_TRUTH["locs"], atol=0.15)
    assert abs(np.exp(saved["s_loc"]) - M.GMM_TRUTH["scale"]) < 0.08
    probs, mode = saved["z.probs"], saved["z.mode"]
    assert probs.shape == (1000, 3) and np.allclose(probs.sum(-1), 1.0)
    assert np.mean(mode == z) >= 0.95
    summary = report["enumerated"]["z"]
    assert summary["values"] == [0, 1, 2] and summary["elements"] == 1000 and sum(summary["mode_counts"]) == 1000
    # AutoNormal, on the same footing: not more than 10 nats better than the VG guide
    auto = report["compare"][0]
    assert auto["neg_elbo"]["mean"] > report["neg_elbo"]["mean"] - 10
    assert "z" in auto["enumerated"]


@pytest.mark.slow
def test_negative_control_trace_elbo_fits_the_mixture_wrongly():
    """The same GMM trained with Trace_ELBO: NumPyro draws z from its prior inside the model, so the fit is far
    worse on the enumerated -ELBO, and the note says why."""
    y, _ = gmm_setup()
    with pytest.warns(UserWarning, match="discrete latent"):
        bad = vgc.fit(M.GMM_VG, M.gmm, y, steps=2000, lr=0.05, eval_particles=1000, elbo="trace")
    good = vgc.fit(M.GMM_VG, M.gmm, y, steps=2000, lr=0.05, eval_particles=1000)
    assert bad.elbo_kind == "trace" and "biased" in bad.elbo_note
    assert bad.elbo.mean > good.elbo.mean + 200
    assert np.max(np.abs(np.sort(good.params["l_loc"]) - M.GMM_TRUTH["locs"])) < 0.15
    assert np.max(np.abs(np.sort(bad.params["l_loc"]) - M.GMM_TRUTH["locs"])) > 1.0


def _brute_force_hmm(seq, px, py):
    """-log p(y, probs) of one sequence by summing over every hidden path (the test of the model's own math)."""
    terms = []
    for xs in itertools.product(range(px.shape[0]), repeat=seq.shape[0]):
        lp, prev = 0.0, 0
        for t, x in enumerate(xs):
            lp += np.log(px[prev, x])
            prev = x
            lp += np.sum(seq[t] * np.log(py[x]) + (1 - seq[t]) * np.log1p(-py[x]))
        terms.append(lp)
    prior = (dist.Dirichlet(0.9 * jnp.eye(2) + 0.1).log_prob(jnp.asarray(px, jnp.float32)).sum()
             + dist.Beta(0.1, 0.9).log_prob(jnp.asarray(py, jnp.float32)).sum())
    return -(np.logaddexp.reduce(terms) + float(prior))


def test_the_hmm_model_sums_its_states_out_exactly():
    """TraceEnum_ELBO of the HMM with the guide a point mass at the truth equals the brute-force marginal."""
    seq = jnp.asarray(M.hmm_data(1, 4))
    px, py = M.HMM_TRUTH["probs_x"], M.HMM_TRUTH["probs_y"]

    def point(sequences, hidden_dim=2):
        numpyro.sample("probs_x", dist.Delta(jnp.asarray(px, jnp.float32), event_dim=2))
        numpyro.sample("probs_y", dist.Delta(jnp.asarray(py, jnp.float32), event_dim=2))

    loss = TraceEnum_ELBO().loss(jax.random.PRNGKey(0), {}, M.hmm, point, seq)
    assert loss == pytest.approx(_brute_force_hmm(np.asarray(seq[0]), px, py), rel=1e-5)


@pytest.mark.slow
def test_hmm_with_enumerated_states_fits_its_transition_probabilities():
    seq = jnp.asarray(M.hmm_data())
    r = vgc.fit(M.HMM_VG, M.hmm, seq, steps=1000, lr=0.05, eval_particles=100)
    assert r.elbo_kind == "traceenum" and "'x_0', ..., 'x_49' (50 sites: Categorical, 2 values)" in r.elbo_note
    cx = r.params["cx"]
    np.testing.assert_allclose(cx / cx.sum(-1, keepdims=True), M.HMM_TRUTH["probs_x"], atol=0.04)
    ya, yb = r.params["ya"], r.params["yb"]
    np.testing.assert_allclose(ya / (ya + yb), M.HMM_TRUTH["probs_y"], atol=0.1)
    # infer_discrete overflows on a 50-step chain: the report says so instead of failing the fit
    assert set(r.discrete_notes) == {f"x_{t}" for t in range(50)} and r.discrete == {}
    assert "x_0, ..., x_49 (50 sites) (enumerated, summed out by the model): posterior not computed" in \
        fitting.report(r)


@pytest.mark.slow
def test_density_plot_of_an_enumerating_model_sums_the_discrete_site_out(tmp_path):
    """`--plot` for two continuous latents beside an enumerated one: the target is the marginal log joint."""
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(1)
    y = jnp.asarray(np.concatenate([rng.normal(-2.0, 1.0, 100), rng.normal(2.0, 1.0, 100)]), jnp.float32)
    r = vgc.fit(M.TWO_MEANS_VG, M.two_means, y, steps=800, lr=0.05, eval_particles=200)
    assert abs(r.params["a_loc"] + 2.0) < 0.3 and abs(r.params["b_loc"] - 2.0) < 0.3
    assert r.discrete["z"].probs.shape == (200, 2)
    paths = r.plot(str(tmp_path))
    assert [Path(p).name for p in paths] == ["loss.png", "density.png", "ppc.png"]
    assert Path(paths[1]).stat().st_size > 10_000
    # the marginal log joint at the truth against a direct sum over z
    at = enumeration.log_joint(M.two_means, r.plan, (y,), {}, {"a": jnp.array(-2.0), "b": jnp.array(2.0)})
    direct = (dist.Normal(0.0, 10.0).log_prob(-2.0) + dist.Normal(0.0, 10.0).log_prob(2.0)
              + jnp.sum(jnp.logaddexp(dist.Normal(-2.0, 1.0).log_prob(y), dist.Normal(2.0, 1.0).log_prob(y))
                        + jnp.log(0.5)))
    assert float(at) == pytest.approx(float(direct), rel=1e-5)


# ---------------------------------------------------------------- funsor missing


def test_without_funsor_an_enumerated_model_is_a_fit_error_with_the_pip_hint(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "funsor", None)  # `import funsor` raises ImportError
    y, _ = gmm_setup(100)
    with pytest.raises(vgc.FitError, match=r"needs funsor: pip install 'vgc\[enum\]'"):
        vgc.fit(M.GMM_VG, M.gmm, y, steps=1, eval_particles=10)
    data, guide = tmp_path / "gmm.npz", tmp_path / "gmm.vg"
    np.savez(data, y=np.asarray(y))
    guide.write_text(M.GMM_VG)
    status = cli.main(["fit", str(guide), "--model", f"{HERE / 'enum_models.py'}:gmm", "--data", str(data),
                       "--steps", "1"])
    err = capsys.readouterr().err
    assert status == 2 and err.strip().splitlines()[-1] == (
        "vgc: error: the model enumerates discrete sites: fitting it needs TraceEnum_ELBO, which needs funsor: "
        "pip install 'vgc[enum]'")


def test_autocontinuous_guides_are_refused_beside_an_enumerating_model(capsys, tmp_path):
    """NumPyro's TraceEnum_ELBO cannot fit AutoDiagonalNormal & co. (it raised KeyError 'data' deep inside):
    a usage error up front instead."""
    y, _ = gmm_setup(100)
    with pytest.raises(vgc.FitError, match=r"TraceEnum_ELBO fits only AutoNormal.*drop AutoDiagonalNormal"):
        vgc.fit(M.GMM_VG, M.gmm, y, steps=1, eval_particles=10, compare=["AutoNormal", "AutoDiagonalNormal"])
    data, guide = tmp_path / "gmm.npz", tmp_path / "gmm.vg"
    np.savez(data, y=np.asarray(y))
    guide.write_text(M.GMM_VG)
    status = cli.main(["fit", str(guide), "--model", f"{HERE / 'enum_models.py'}:gmm", "--data", str(data),
                       "--steps", "1", "--compare", "AutoMultivariateNormal"])
    assert status == 2 and "drop AutoMultivariateNormal" in capsys.readouterr().err


def exact_labels(y):
    """theta ~ Dirichlet(1, 1, 1); each item's class c ~ Categorical(theta), enumerated; its label y = c exactly
    (a one-hot Categorical, as MACE's honest annotator in NumPyro's annotation.py). Summed over c, p(y | theta) is
    prod theta[y]: the posterior is Dirichlet(1 + counts), and any c drawn from its prior for all items at once
    almost surely gives some label a probability of 0."""
    theta = numpyro.sample("theta", dist.Dirichlet(jnp.ones(3)))
    with numpyro.plate("items", y.shape[0]):
        c = numpyro.sample("c", dist.Categorical(theta), infer={"enumerate": "parallel"})
        numpyro.sample("y", dist.Categorical(probs=jax.nn.one_hot(c, 3)), obs=y)


EXACT_LABELS_VG = "guide g(y) {\n  param a[3] = 1.0 : positive\n  theta ~ Dirichlet(a)\n}\n"


@pytest.mark.slow
def test_autonormal_starts_where_numpyros_check_of_its_start_cannot():
    """NumPyro's AutoNormal of the model with c hidden draws c from its prior to check its start, and no draw
    passes (MACE in the gallery): `--compare AutoNormal` used to fail the whole fit. vgc starts it at the same
    init_to_uniform draw without that check, says so, and it fits the full model."""
    import math

    y = jnp.asarray([0] * 15 + [1] * 10 + [2] * 5)
    plan = enumeration.plan(exact_labels, (y,))
    assert plan.names == ["c"]
    checked = numpyro.infer.autoguide.AutoNormal(enumeration.blocked(exact_labels, plan))
    svi = SVI(exact_labels, checked, numpyro.optim.Adam(0.01), TraceEnum_ELBO())
    with pytest.raises(RuntimeError, match=enumeration.NO_VALID_START):  # the wrong variant: NumPyro's own start
        svi.init(jax.random.PRNGKey(0), y)
    counts = np.array([15, 10, 5])
    exact = -(math.lgamma(3) - math.lgamma(3 + 30) + sum(math.lgamma(1 + n) for n in counts))  # -log p(y)
    r = vgc.fit(EXACT_LABELS_VG, exact_labels, y, steps=3000, lr=0.1, eval_particles=4000, compare=["AutoNormal"])
    auto = r.compare[0]
    assert r.start_note is None and auto.start_note.startswith("AutoNormal started without NumPyro's check")
    assert "(c)" in auto.start_note and auto.start_note in fitting.report(r)
    assert fitting.summary(r, "m.py:exact_labels")["compare"][0]["start_note"] == auto.start_note
    np.testing.assert_allclose(r.params["a"], 1 + counts, rtol=0.06)  # the exact posterior Dirichlet(1 + counts)
    assert abs(r.elbo.mean - exact) < 0.03, (r.elbo.mean, exact)  # 33.086 against 33.074
    # AutoNormal's logistic normal is not a Dirichlet, but it fits the full model: 33.091, a small gap above
    assert 0.0 < auto.elbo.mean - exact < 0.1, (auto.elbo.mean, exact)


def test_plan_finds_values_and_the_first_free_dim():
    y, _ = gmm_setup(50)
    plan = enumeration.plan(M.gmm, (y,))
    assert [(s.name, s.family, s.values.tolist(), s.batch_shape) for s in plan.sites] == [
        ("z", "Categorical", [0, 1, 2], (50,))]
    assert plan.first_available_dim == -2
    assert enumeration.plan(M.hmm, (jnp.asarray(M.hmm_data(2, 3)),)).first_available_dim == -3
