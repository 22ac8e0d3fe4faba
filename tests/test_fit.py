"""`vgc fit` and `vgc.fit`: fits that recover known answers, the comparison with the autoguides, the NaN stop,
the ELBO estimate, the JSON report against its schema, the plots and the usage errors.

The models are in tests/fit/models.py, the guides next to them. Fits run in-process through ``cli.main``
(one jax start-up for the module); fixed seeds throughout.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import jax
import jsonschema
import numpy as np
import pytest

import vgc
from vgc import cli, fitting, training

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "tests" / "fit"
MODELS = str(HERE / "models.py")
sys.path.insert(0, str(HERE))
import models  # noqa: E402  (tests/fit/models.py)

pytestmark = pytest.mark.slow


def run(capsys, *argv) -> tuple[int, str, str]:
    status = cli.main(["fit", *map(str, argv)])
    out = capsys.readouterr()
    return status, out.out, out.err


def fit_json(capsys, guide, model, *options) -> dict:
    status, out, err = run(capsys, HERE / guide, "--model", f"{MODELS}:{model}", "--format", "json", *options)
    assert status == 0, err
    assert err == ""  # nothing but the JSON in JSON mode: no progress, no warnings on stderr
    return json.loads(out)


# ---------------------------------------------------------------- known answers


def test_two_gaussians_recovers_the_scales(capsys, tmp_path):
    """The seed thread's two-Gaussian model: sig1_q → 1 and sig2_q → 2 within 5%, written to the .npz."""
    out = tmp_path / "params.npz"
    report = fit_json(capsys, "../../examples/two_gaussians.vg", "two_gaussians", "--steps", 3000, "--lr", 0.05,
                      "--decay", 0.01, "--particles", 16, "--out", out)
    p = report["params"]
    assert p["sig1_q"] == pytest.approx(1.0, rel=0.05)
    assert p["sig2_q"] == pytest.approx(2.0, rel=0.05)
    saved = np.load(out)
    assert sorted(saved.files) == ["sig1_q", "sig2_q"]
    assert float(saved["sig2_q"]) == pytest.approx(p["sig2_q"], rel=1e-6)  # constrained values, as reported
    # The exact KL at the fitted scales is the -ELBO (the model is normalized): within 4 standard errors.
    kl = sum(math.log(t / s) + s * s / (2 * t * t) - 0.5 for s, t in ((p["sig1_q"], 1.0), (p["sig2_q"], 2.0)))
    e = report["neg_elbo"]
    assert e["particles"] == 10_000
    assert abs(e["mean"] - kl) < 4 * e["se"] + 1e-4
    assert report["steps_run"] == 3000 and report["stopped"] is None and report["elbo"] == "trace"


def test_the_elbo_estimate_is_the_exact_kl_away_from_the_optimum():
    """At sig = (0.5, 3) the -ELBO is KL = 0.4431 + 0.2195 + ...: the estimate is within 4 s.e. of it."""
    g = vgc.load(ROOT / "examples" / "two_gaussians.vg")
    e = fitting.neg_elbo(models.two_gaussians, g, {"sig1_q": 0.5, "sig2_q": 3.0}, (), {}, jax.random.PRNGKey(3),
                         20_000)
    kl = (math.log(1 / 0.5) + 0.25 / 2 - 0.5) + (math.log(2 / 3) + 9 / 8 - 0.5)
    assert abs(e.mean - kl) < 4 * e.se
    assert 0 < e.se < 0.01
    wrong = fitting.neg_elbo(models.two_gaussians, g, {"sig1_q": 0.6, "sig2_q": 3.0}, (), {},
                             jax.random.PRNGKey(3), 20_000)
    assert abs(wrong.mean - kl) > 4 * wrong.se  # the estimate can tell 0.5 from 0.6


ROTATED = ("--steps", 3000, "--lr", 0.05, "--decay", 0.01, "--particles", 16, "--optimizer", "clipped_adam",
           "--seed", 0, "--compare", "AutoNormal")


def test_rotated_bimodal_beats_autonormal_by_a_third_of_a_nat(capsys):
    """The seed's rotated bimodal × Cauchy target (b = 2, θ = 0.3): the VG ansatz fits it (b and θ recovered)
    and its -ELBO (= KL: the target is normalized) is ≥ 0.3 nats below AutoNormal's, in one run."""
    report = fit_json(capsys, "rotated_bimodal.vg", "rotated_bimodal", *ROTATED)
    assert report["params"]["b"] == pytest.approx(2.0, abs=0.05)
    assert report["params"]["θ"] == pytest.approx(0.3, abs=0.01)
    (auto,) = report["compare"]
    assert auto["guide"] == "AutoNormal" and auto["num_params"] == 4 and report["num_params"] == 2
    vg, an = report["neg_elbo"], auto["neg_elbo"]
    assert an["mean"] - vg["mean"] >= 0.3, (vg, an)
    assert an["mean"] - vg["mean"] > 4 * math.hypot(vg["se"], an["se"])
    assert vg["mean"] > -4 * vg["se"]  # a KL: not below 0 beyond noise


def test_a_mean_field_guide_does_not_beat_autonormal(capsys):
    """The control: the same comparison with AutoNormal's own family written in VG is not a 0.3-nat win."""
    report = fit_json(capsys, "mean_field.vg", "rotated_bimodal", *ROTATED)
    gap = report["compare"][0]["neg_elbo"]["mean"] - report["neg_elbo"]["mean"]
    assert abs(gap) < 0.1


def test_learnable_weights_train_with_tracegraph_by_default(capsys):
    """VG603 guides default to TraceGraph_ELBO and say so; it recovers the weights, Trace_ELBO does not."""
    status, out, err = run(capsys, HERE / "mixture.vg", "--model", f"{MODELS}:mixture", "--steps", 2000,
                           "--lr", 0.05, "--particles", 8)
    assert status == 0
    assert "vgc: using TraceGraph_ELBO: the guide learns mixture weights (VG603)" in err
    assert "TraceGraph_ELBO, seed 0" in out
    report = fit_json(capsys, "mixture.vg", "mixture", "--steps", 2000, "--lr", 0.05, "--particles", 8)
    assert report["elbo"] == "tracegraph" and report["elbo_note"].startswith("using TraceGraph_ELBO")
    w = report["params"]["w"]
    assert w == pytest.approx([0.3, 0.7], abs=0.02)
    biased = fit_json(capsys, "mixture.vg", "mixture", "--steps", 2000, "--lr", 0.05, "--particles", 8,
                      "--elbo", "trace")
    assert biased["elbo"] == "trace" and biased["elbo_note"] is None
    assert abs(biased["params"]["w"][0] - 0.3) > 0.05


# ---------------------------------------------------------------- the NaN stop


def test_an_overflowing_log_density_stops_with_the_step_and_the_site(capsys, tmp_path):
    out = tmp_path / "params.npz"
    status, text, _ = run(capsys, HERE / "overflow.vg", "--model", f"{MODELS}:overflow", "--steps", 2000,
                            "--lr", 0.05, "--out", out)
    assert status == 1
    line = next(x for x in text.splitlines() if x.startswith("stopped: "))
    assert "the loss turned -inf at step 9 (model site 'boom' has log-density inf); kept the params of step 8" in line
    assert "8 of 2000 steps" in text
    saved = np.load(out)
    assert all(np.isfinite(saved[k]).all() for k in saved.files)


def test_the_kept_params_are_those_of_the_last_finite_step():
    """The params handed back equal those of a fit told to stop one step before the bad one."""
    g = vgc.load(HERE / "overflow.vg")
    stopped = vgc.fit(g, models.overflow, steps=2000, lr=0.05, decay=1.0, eval_particles=100)
    assert stopped.stopped.reason == "nan" and stopped.stopped.sites == ("boom",)
    n = stopped.stopped.step - 1
    assert n >= 1 and len(stopped.losses) == n and np.isfinite(stopped.losses).all()
    ref = vgc.fit(g, models.overflow, steps=n, lr=0.05, decay=1.0, eval_particles=100)  # the same constant lr
    assert ref.stopped is None
    for k in stopped.params:
        assert np.isfinite(stopped.params[k]).all()
        np.testing.assert_allclose(stopped.params[k], ref.params[k], rtol=1e-6)
    np.testing.assert_allclose(stopped.losses, ref.losses, rtol=1e-6)


# ---------------------------------------------------------------- JSON, progress, API


def test_json_report_validates_against_the_schema(capsys):
    schema = json.loads((ROOT / "docs" / "fit.schema.json").read_text())
    report = fit_json(capsys, "rotated_bimodal.vg", "rotated_bimodal", "--steps", 50, "--compare",
                      "AutoNormal,AutoDiagonalNormal", "--eval-particles", 1000)
    jsonschema.validate(report, schema)
    assert [r["guide"] for r in report["compare"]] == ["AutoNormal", "AutoDiagonalNormal"]
    status, out, _ = run(capsys, HERE / "overflow.vg", "--model", f"{MODELS}:overflow", "--format", "json")
    assert status == 1
    bad = json.loads(out)
    jsonschema.validate(bad, schema)
    assert bad["stopped"]["reason"] == "nan" and bad["stopped"]["sites"] == ["boom"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**report, "neg_elbo": {"mean": 1.0}}, schema)


def test_text_report_progress_lines_and_table(capsys):
    status, out, err = run(capsys, HERE / "rotated_bimodal.vg", "--model", f"{MODELS}:rotated_bimodal",
                           "--steps", 100, "--compare", "AutoNormal", "--eval-particles", 1000)
    assert status == 0
    # Not a terminal: plain progress lines on stderr, about ten per guide, the last at the last step.
    lines = [x for x in err.splitlines() if x.startswith("rotated_bimodal: step ")]
    assert lines[-1].startswith("rotated_bimodal: step 100/100  loss ") and 5 <= len(lines) <= 12
    assert any(x.startswith("AutoNormal: step 100/100") for x in err.splitlines())
    assert "-ELBO " in out and "(mean ± s.e. over 1,000 particles)" in out
    assert "  b = " in out and "  θ = " in out
    header = next(i for i, x in enumerate(out.splitlines()) if x.startswith("guide "))
    rows = out.splitlines()[header + 1:header + 3]
    assert rows[0].startswith("rotated_bimodal ") and rows[1].startswith("AutoNormal ")


def test_api_fit_sample_and_errors():
    g = vgc.load(ROOT / "examples" / "two_gaussians.vg")
    r = vgc.fit(g, models.two_gaussians, steps=200, lr=0.05, eval_particles=500, compare=["AutoNormal"])
    assert isinstance(r, vgc.FitResult) and set(r.params) == {"sig1_q", "sig2_q"}
    assert r.losses.shape == (200,) and r.elbo.particles == 500 and len(r.compare) == 1
    draws = g.sample(r.params, 3000, jax.random.PRNGKey(1))
    assert set(draws) == {"x", "y"} and draws["x"].shape == (3000,)
    assert float(np.std(draws["y"])) == pytest.approx(float(r.params["sig2_q"]), rel=0.06)
    rot = vgc.load(HERE / "rotated_bimodal.vg")
    assert set(rot.sample({"b": 2.0, "θ": 0.3}, 10)) == {"x", "y"}  # not the auxiliary u1, u2
    with pytest.raises(vgc.FitError, match="steps must be at least 1"):
        vgc.fit(g, models.two_gaussians, steps=0)
    with pytest.raises(vgc.FitError, match="unknown autoguide 'AutoNormel' \\(did you mean 'AutoNormal'\\?\\)"):
        vgc.fit(g, models.two_gaussians, compare=["AutoNormel"])
    with pytest.raises(vgc.CompileError, match="VG802"):
        vgc.fit("z ~ Normal(0, 1)\nx ~ Normal(0, 1)\ny ~ Normal(0, 1)", models.two_gaussians, steps=10)


# ---------------------------------------------------------------- usage errors (exit 2) and refusals


def test_every_allowed_autoguide_exists_in_numpyro():
    from numpyro.infer import autoguide

    for name in (*fitting.AUTOGUIDES, *fitting.ALIASES):
        assert issubclass(fitting.autoguide_class(name), autoguide.AutoGuide)
    assert fitting.autoguide_class("AutoBNAF") is autoguide.AutoBNAFNormal


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--compare", "AutoNormel"], "vgc: error: unknown autoguide 'AutoNormel' (did you mean 'AutoNormal'?)"),
        (["--compare", "AutoDelta"], "vgc: error: AutoDelta fits a point mass"),
        (["--steps", "-5"], "vgc: error: steps must be at least 1, not -5"),
        (["--lr", "0"], "vgc: error: lr must be a positive number, not 0.0"),
        (["--particles", "0"], "vgc: error: particles must be at least 1"),
        (["--decay", "2"], "vgc: error: decay must be in (0, 1]"),
    ],
)
def test_bad_arguments_are_exit_2(capsys, argv, message):
    status, out, err = run(capsys, HERE / "overflow.vg", "--model", f"{MODELS}:overflow", *argv)
    assert status == 2 and out == ""
    assert err.startswith(message)


def test_missing_or_bad_model_is_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["fit", str(HERE / "overflow.vg")])
    assert e.value.code == 2
    assert "the following arguments are required: --model" in capsys.readouterr().err
    status, _, err = run(capsys, HERE / "overflow.vg", "--model", f"{HERE}/nowhere.py:model")
    assert status == 2 and err.startswith("vgc: error: ") and "nowhere.py" in err
    status, _, err = run(capsys, HERE / "overflow.vg", "--model", f"{MODELS}:overflw")
    assert status == 2 and "did you mean 'overflow'" in err


def test_a_guide_that_fails_the_model_check_is_not_fitted(capsys, tmp_path):
    bad = tmp_path / "bad.vg"
    bad.write_text("param m = 0.0\nx ~ Normal(m, 1)\nz ~ Normal(0, 1)\n")
    out = tmp_path / "p.npz"
    status, text, err = run(capsys, bad, "--model", f"{MODELS}:overflow", "--out", out)
    assert status == 1 and text == ""
    assert "bad.vg:3:1: error[VG802]" in err
    assert err.rstrip().endswith(f"vgc: not fitting {bad}: fix the errors above first")
    assert not out.exists()


def test_plot_without_matplotlib_is_exit_2(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status, _, err = run(capsys, HERE / "overflow.vg", "--model", f"{MODELS}:overflow", "--plot", tmp_path / "p")
    assert status == 2
    assert "pip install 'vgc[plot]'" in err
    assert not (tmp_path / "p").exists()


# ---------------------------------------------------------------- plots


PNG = b"\x89PNG\r\n\x1a\n"


def _image(path) -> np.ndarray:
    import matplotlib.image

    assert Path(path).read_bytes()[:8] == PNG
    return matplotlib.image.imread(path)


def test_density_plot_of_a_fitted_guide_differs_from_the_unfitted_one(tmp_path):
    """Two scalar latents: loss.png and density.png; the fitted guide's panel is not the starting guide's."""
    g = vgc.load(HERE / "rotated_bimodal.vg")
    options = dict(lr=0.05, decay=0.01, particles=16, optimizer="clipped_adam", eval_particles=1000)
    fitted = vgc.fit(g, models.rotated_bimodal, steps=1500, **options)
    unfitted = vgc.fit(g, models.rotated_bimodal, steps=1, **options)
    a = fitted.plot(str(tmp_path / "fitted"))
    b = unfitted.plot(str(tmp_path / "unfitted"))
    assert [Path(p).name for p in a] == [Path(p).name for p in b] == ["loss.png", "density.png"]
    ia, ib = _image(a[1]), _image(b[1])
    assert ia.shape == ib.shape and ia.shape[0] > 300
    assert len(np.unique(ia.reshape(-1, ia.shape[-1]), axis=0)) > 50  # contours, not a blank figure
    assert np.abs(ia - ib).mean() > 0.01


def test_marginal_plots_for_a_model_with_more_latents(capsys, tmp_path):
    """The funnel (y and nine x): marginals.png, one panel per entry (the overlay of several guides is
    tested in test_plot.py)."""
    status, out, _ = run(capsys, ROOT / "examples" / "funnel.vg", "--model", f"{ROOT}/examples/funnel.py:funnel",
                         "--steps", 200, "--plot", tmp_path / "plots", "--eval-particles", 1000)
    assert status == 0
    written = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert written == ["loss.png", "marginals.png"]
    assert f"wrote {tmp_path / 'plots' / 'marginals.png'}" in out
    image = _image(tmp_path / "plots" / "marginals.png")
    assert image.shape[1] > image.shape[0]  # 10 panels on a 4-column grid: wider than tall


def test_progress_bar_on_request(capsys):
    g = vgc.load(ROOT / "examples" / "two_gaussians.vg")
    vgc.fit(g, models.two_gaussians, steps=300, eval_particles=100, progress=True)
    err = capsys.readouterr().err
    assert "two_gaussians: 100%" in err and "300/300" in err and "loss " in err
    vgc.fit(g, models.two_gaussians, steps=300, eval_particles=100)
    assert capsys.readouterr().err == ""  # the API is quiet by default


def test_eight_schools_with_data_and_a_plate(capsys):
    """NumPyro's eight schools, data from --data: per-school params come back with the plate's shape."""
    ex = ROOT / "examples"
    status, out, _ = run(capsys, ex / "eight_schools.vg", "--model", f"{ex}/eight_schools.py:eight_schools",
                         "--data", ex / "eight_schools.json", "--steps", 300, "--lr", 0.05, "--format", "json",
                         "--eval-particles", 2000)
    assert status == 0
    report = json.loads(out)
    jsonschema.validate(report, json.loads((ROOT / "docs" / "fit.schema.json").read_text()))
    assert len(report["params"]["th_loc"]) == 8 and report["num_params"] == 20
    assert 30 < report["neg_elbo"]["mean"] < 40  # −log p(y) of the data is 33.4 at the optimum (see test_init)


def test_ctrl_c_keeps_the_params_and_ends_the_comparison(monkeypatch):
    """A KeyboardInterrupt during the VG fit: params of the last finished chunk, no autoguide fitted after."""
    calls = []

    def update(self, done, losses):
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(training.Progress, "update", update)
    g = vgc.load(ROOT / "examples" / "two_gaussians.vg")
    r = vgc.fit(g, models.two_gaussians, steps=1000, eval_particles=100, compare=["AutoNormal"])
    assert r.stopped.reason == "interrupted" and r.compare == []
    assert r.stopped.step == calls[-1] + 1 == 31  # chunks of 10 steps: the third one finished
    assert r.stopped.message == "interrupted at step 31: kept the params of step 30"
    assert all(np.isfinite(v) for v in r.params.values())


def test_num_params_counts_free_numbers_in_the_guides_order():
    """Params come back in declaration order; num_params counts the optimizer's (unconstrained) numbers."""
    g = vgc.load(HERE / "mixture.vg")
    r = vgc.fit(g, models.mixture, steps=1, eval_particles=100)
    assert list(r.params) == ["m", "w"] and r.num_params == 3  # w is a simplex of 2: one free number
    f = vgc.load(ROOT / "examples" / "two_gaussians.vg")
    r = vgc.fit(f, models.two_gaussians, steps=1, eval_particles=100, compare=["AutoMultivariateNormal"])
    assert r.num_params == 2
    assert r.compare[0].num_params == 2 + 3  # loc, and the lower triangle of a 2×2 scale_tril (not 2 + 4)
    assert np.size(r.compare[0].params["auto_scale_tril"]) == 4
