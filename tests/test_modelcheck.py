"""A guide against its model: every kind of mismatch at its exact line and column, the right guides clean,
the command line (text, JSON, exit status 2 for a bad model or data) and the Python API.

The models are NumPyro's eight schools (centred, and non-centred through TransformReparam) and one with
Beta, Dirichlet and interval latents (tests/model_cases.py).
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import vgc
from vgc import cli, compiler, modelcheck
from vgc.diagnostics import render

sys.path.insert(0, str(Path(__file__).resolve().parent))
import model_cases as M

# The user's own file, as `vgc check --model models.py:eight_schools` imports it (NumPyro's README model).
MODELS_PY = "import numpyro\nimport numpyro.distributions as dist\n\n\n" + inspect.getsource(M.eight_schools)

EIGHT = M.EIGHT_SCHOOLS_VG  # NumPyro's eight schools, theta local to plate J

MIXED = """\
guide mixed(counts, y) {
  param a = 0.0; param b = 0.5 : positive
  pr ~ Normal(a, b)
  p = sigmoid(pr)
  param c[3] = 10.0 : positive
  w ~ Dirichlet(c)
  param n_loc = 0.0; param n_scale = 0.5 : positive
  nr ~ Normal(n_loc, n_scale)
  nu = 1 + 9 * sigmoid(nr)
}
"""


def check(source: str, model, data: dict) -> list:
    result = compiler.run(source, "guide.vg")
    assert result.ok, render(result.diagnostics, source)
    return result.diagnostics + modelcheck.check(result, model, (), data, file="guide.vg")


def where(diags) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in diags]


def variant(source: str, old: str, new: str) -> str:
    assert old in source, old
    return source.replace(old, new, 1)


def test_right_guides_pass_with_no_diagnostic():
    assert check(EIGHT, M.eight_schools, M.EIGHT_SCHOOLS_DATA) == []
    assert check(MIXED, M.mixed_supports, M.MIXED_DATA) == []
    noncentered = variant(EIGHT, "theta ~ Normal", "theta_base ~ Normal")
    assert check(noncentered, M.eight_schools_noncentered, M.EIGHT_SCHOOLS_DATA) == []


# (what, source, model, data, [(code, line, column)], words in the first message, words in its hint)
CASES = [
    ("support: a real draw for HalfCauchy's tau",
     variant(EIGHT, "v ~ Normal(v_loc, v_scale)\n  tau = exp(v)", "tau ~ Normal(v_loc, v_scale)"),
     M.eight_schools, M.EIGHT_SCHOOLS_DATA, [("VG805", 5, 3)],
     ["'tau'", "real", "positive", "HalfCauchy"], ["v ~ Normal(v_loc, v_scale); tau = exp(v)", "LogNormal"]),
    ("misspelt site", variant(EIGHT, "tau = exp(v)", "taux = exp(v)"),
     M.eight_schools, M.EIGHT_SCHOOLS_DATA, [("VG802", 6, 3)], ["no site 'taux'"], ["did you mean 'tau'?"]),
    ("missing latent", variant(EIGHT, "    theta ~ Normal(th_loc, th_scale)\n", "    let unused = th_loc + th_scale\n"),
     M.eight_schools, M.EIGHT_SCHOOLS_DATA, [("VG801", 1, 7)], ["latent 'theta'", "plate 'J'", "prior"],
     ["vgc init --model"]),
    ("event shape inside the plate", variant(EIGHT, "param th_loc = 0.0", "param th_loc[2] = 0.0"),
     M.eight_schools, M.EIGHT_SCHOOLS_DATA, [("VG803", 9, 5)],
     ["batch shape (8,) and event shape () in the model", "batch shape (8,) and event shape (2,) in the guide"], []),
    ("a vector where the model has a plate",
     variant(EIGHT, "  plate J(J) {\n    param th_loc = 0.0; param th_scale = 1.0 : positive\n"
             "    theta ~ Normal(th_loc, th_scale)\n  }\n",
             "  param th_loc[8] = 0.0; param th_scale[8] = 1.0 : positive\n  theta ~ Normal(th_loc, th_scale)\n"),
     M.eight_schools, M.EIGHT_SCHOOLS_DATA, [("VG804", 8, 3)], ["in plate 'J', the guide in no plate"],
     ["plate J(8)"]),
    ("plate size", variant(EIGHT, "plate J(J)", "plate J(7)"),
     M.eight_schools, M.EIGHT_SCHOOLS_DATA, [("VG804", 7, 9)], ["size 8 in the model, 7 in the guide"],
     ["plate J(8, dim=-1)"]),
    ("plate dim", variant(EIGHT, "plate J(J)", "plate J(J, dim=-2)"),
     M.eight_schools, M.EIGHT_SCHOOLS_DATA, [("VG804", 7, 9)], ["dim -1 in the model, -2 in the guide"], []),
    ("plate subsample", variant(EIGHT, "plate J(J)", "plate J(J, subsample=4)"),
     M.eight_schools, M.EIGHT_SCHOOLS_DATA, [("VG804", 7, 9)], ["subsample size 8 in the model, 4 in the guide"],
     []),
    ("plate name", variant(EIGHT, "plate J(J)", "plate schools(J)"),
     M.eight_schools, M.EIGHT_SCHOOLS_DATA, [("VG804", 7, 9)], ["no plate 'schools'"], ["the model's plates: J"]),
    ("observed site", variant(EIGHT, "    theta ~ Normal(th_loc, th_scale)\n",
                              "    theta ~ Normal(th_loc, th_scale)\n    obs ~ Normal(theta, 1)\n"),
     M.eight_schools, M.EIGHT_SCHOOLS_DATA, [("VG806", 10, 5)], ["observes 'obs'"], ["remove 'obs'"]),
    ("guide arguments", variant(EIGHT, "guide eight_schools(J, sigma, y)", "guide eight_schools(J, sigma)"),
     M.eight_schools, M.EIGHT_SCHOOLS_DATA, [("VG808", 1, 7)], ["unexpected keyword argument 'y'"],
     ["(J, sigma, y)"]),
    ("a deterministic site of the non-centred model", EIGHT,
     M.eight_schools_noncentered, M.EIGHT_SCHOOLS_DATA, [("VG801", 1, 7), ("VG802", 9, 5)],
     ["latent 'theta_base'"], []),
    # Beta, Dirichlet and interval latents
    ("unit interval: a real draw", variant(MIXED, "pr ~ Normal(a, b)\n  p = sigmoid(pr)", "p ~ Normal(a, b)"),
     M.mixed_supports, M.MIXED_DATA, [("VG805", 3, 3)], ["real in the guide, but unit_interval in the model (Beta)"],
     ["p = sigmoid(v)"]),
    ("unit interval: exp", variant(MIXED, "p = sigmoid(pr)", "p = exp(pr)"),
     M.mixed_supports, M.MIXED_DATA, [("VG805", 4, 3)], ["positive in the guide"], ["sigmoid"]),
    ("simplex: positive entries", variant(MIXED, "w ~ Dirichlet(c)", "wr ~ Normal(c, 1)\n  w = exp(wr)"),
     M.mixed_supports, M.MIXED_DATA, [("VG805", 7, 3)], ["positive in the guide, but simplex in the model"],
     ["Dirichlet", "simplex("]),
    ("simplex: wrong size", variant(MIXED, "param c[3]", "param c[4]"),
     M.mixed_supports, M.MIXED_DATA, [("VG803", 6, 3)], ["event shape (3,) in the model", "event shape (4,)"], []),
    ("interval: too wide", variant(MIXED, "nu = 1 + 9 * sigmoid(nr)", "nu = 1 + 10 * sigmoid(nr)"),
     M.mixed_supports, M.MIXED_DATA, [("VG805", 9, 3)], ["interval(1, 11) in the guide", "interval(1, 10)"],
     ["nu = 1 + (10 - 1) * sigmoid(v)"]),
    ("interval: unbounded above", variant(MIXED, "nu = 1 + 9 * sigmoid(nr)", "nu = 1 + exp(nr)"),
     M.mixed_supports, M.MIXED_DATA, [("VG805", 9, 3)], ["greater_than(1) in the guide"], []),
    ("a bound that is a param: a warning", variant(MIXED, "p = sigmoid(pr)", "p = b * sigmoid(pr)"),
     M.mixed_supports, M.MIXED_DATA, [("VG807", 4, 3)], ["cannot prove", "interval(0, b)"], []),
]


def _batched_scales():
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    numpyro.sample("s", dist.HalfNormal(jnp.ones((3, 2))).to_event(1))  # batch (3,), event (2,)


@pytest.mark.parametrize("kept,hint", [
    (" : batch", "the model keeps 1 batch dimension (3,) before its event dimensions (2,): draw with `: batch(1)`"),
    ("", "the model keeps 1 batch dimension (3,) before its event dimensions (2,): draw with `: batch(1)`"),
    (" : batch(1)", None),
])
def test_batch_before_event_dimensions_hint_batch_k(kept, hint):
    """Outside plates a model site with batch dimensions before event dimensions is drawn with `: batch(K)`: the
    guide that keeps all or none of them as batch dimensions gets VG803 with that hint."""
    source = f"guide g() {{\n  param m[3, 2] = 0.0\n  r ~ Normal(m, 0.1){kept}\n  s = exp(r)\n}}\n"
    diags = check(source, _batched_scales, {})
    if hint is None:
        assert diags == [], render(diags, source)
    else:
        assert where(diags) == [("VG803", 4, 3)] and diags[0].hint == hint, render(diags, source)


@pytest.mark.parametrize("what,source,model,data,expected,words,hint_words", CASES, ids=[c[0] for c in CASES])
def test_each_mismatch_at_its_line_and_column(what, source, model, data, expected, words, hint_words):
    diags = check(source, model, data)
    assert where(diags) == expected, render(diags, source)
    for w in words:
        assert w in diags[0].message, (w, diags[0].message)
    for w in hint_words:
        assert w in diags[0].hint, (w, diags[0].hint)


def test_a_deterministic_site_names_the_latents_it_comes_from():
    diags = check(EIGHT, M.eight_schools_noncentered, M.EIGHT_SCHOOLS_DATA)
    d = diags[1]
    assert d.message.startswith("'theta' is a deterministic site of the model (numpyro.deterministic)")
    assert d.hint == "remove 'theta' from the guide; the model's latents it lacks: theta_base"


def test_the_wrong_support_is_a_real_failure_in_numpyro():
    """The VG805 guide does make SVI's loss NaN or infinite: the check is not a false alarm."""
    import jax
    from numpyro.infer import Trace_ELBO

    def fine(guide, k: int) -> bool:
        try:
            return bool(np.isfinite(float(
                Trace_ELBO().loss(jax.random.PRNGKey(k), {}, M.eight_schools, guide, **M.EIGHT_SCHOOLS_DATA))))
        except ValueError:  # with NumPyro's validation on: "Normal distribution got invalid scale parameter"
            return False

    bad = variant(EIGHT, "v ~ Normal(v_loc, v_scale)\n  tau = exp(v)", "tau ~ Normal(v_loc, v_scale)")
    assert sum(fine(vgc.guide(bad), k) for k in range(20)) < 20  # some draw of tau is negative
    assert all(fine(vgc.guide(EIGHT), k) for k in range(20))


# ---------------------------------------------------------------- the Python API


def test_check_model_returns_the_diagnostics():
    g = vgc.guide(variant(EIGHT, "tau = exp(v)", "taux = exp(v)"))
    diags = g.check_model(M.eight_schools, M.J, M.SIGMA, M.Y)  # positional, as SVI passes them
    assert where(diags) == [("VG802", 6, 3)]
    assert vgc.guide(EIGHT).check_model(M.eight_schools, **M.EIGHT_SCHOOLS_DATA) == []


def test_guide_with_a_model_raises_compile_error_on_a_mismatch():
    bad = variant(EIGHT, "v ~ Normal(v_loc, v_scale)\n  tau = exp(v)", "tau ~ Normal(v_loc, v_scale)")
    with pytest.raises(vgc.CompileError) as info:
        vgc.guide(bad, model=M.eight_schools, model_kwargs=M.EIGHT_SCHOOLS_DATA)
    assert [d.code for d in info.value.diagnostics] == ["VG805"]
    assert "error[VG805]" in str(info.value) and "^^^" in str(info.value)
    g = vgc.guide(EIGHT, model=M.eight_schools, model_args=(M.J, M.SIGMA, M.Y))
    assert g.warnings == []
    warned = vgc.guide(variant(MIXED, "p = sigmoid(pr)", "p = b * sigmoid(pr)"), model=M.mixed_supports,
                       model_kwargs=M.MIXED_DATA)
    assert [d.code for d in warned.warnings] == ["VG807"]


def test_a_model_that_raises_is_a_model_error():
    def broken(J, sigma, y=None):
        raise ValueError("bad data")

    with pytest.raises(vgc.ModelError, match="the model raised ValueError: bad data"):
        vgc.guide(EIGHT).check_model(broken, **M.EIGHT_SCHOOLS_DATA)


# ---------------------------------------------------------------- the command line


@pytest.fixture
def files(tmp_path):
    (tmp_path / "guide.vg").write_text(variant(EIGHT, "tau = exp(v)", "taux = exp(v)"), encoding="utf-8")
    (tmp_path / "good.vg").write_text(EIGHT, encoding="utf-8")
    (tmp_path / "models.py").write_text(MODELS_PY, encoding="utf-8")
    data = {"J": 8, "sigma": M.SIGMA.tolist(), "y": M.Y.tolist()}
    (tmp_path / "data.json").write_text(json.dumps(data), encoding="utf-8")
    np.savez(tmp_path / "data.npz", J=np.array(8), sigma=M.SIGMA, y=M.Y)
    return tmp_path


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    status = cli.main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.mark.parametrize("data", ["data.json", "data.npz"])
def test_cli_check_with_a_model(files, capsys, monkeypatch, data):
    monkeypatch.chdir(files)
    status, out, err = run(capsys, "check", "guide.vg", "--model", "models.py:eight_schools", "--data", data)
    assert status == 1 and err == ""
    assert out.startswith("guide.vg:6:3: error[VG802]: the model has no site 'taux'")
    assert "  = hint: did you mean 'tau'?" in out and out.endswith("guide.vg: 1 error, 0 warnings\n")
    status, out, _ = run(capsys, "check", "good.vg", "--model", "models.py:eight_schools", "--data", data)
    assert (status, out) == (0, "good.vg: 0 errors, 0 warnings\n")


def test_cli_check_with_a_model_as_json(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    status, out, _ = run(capsys, "check", "guide.vg", "--format", "json", "--model", "models.py:eight_schools",
                         "--data", "data.json")
    assert status == 1
    (d,) = json.loads(out)
    assert (d["code"], d["line"], d["column"], d["end_column"]) == ("VG802", 6, 3, 16)
    assert d["hint"] == "did you mean 'tau'?"


@pytest.mark.parametrize("model,data,message", [
    ("nofile.py:f", "data.json", "vgc: error: cannot read nofile.py: no such file\n"),
    ("models.py:eight_school", "data.json", "vgc: error: models.py has no function named 'eight_school'; "
                                            "did you mean 'eight_schools'?\n"),
    ("models.py", "data.json", "vgc: error: --model wants FILE.py:FUNCTION, got 'models.py'\n"),
    ("models.py:eight_schools", "nodata.json", "vgc: error: cannot read nodata.json: no such file\n"),
    ("models.py:eight_schools", "bad.json", "vgc: error: cannot read bad.json: JSONDecodeError: "),
    ("models.py:eight_schools", "list.json", "vgc: error: list.json: the JSON data must be an object of named "
                                             "arguments\n"),
    ("models.py:eight_schools", "few.json", "vgc: error: the model raised TypeError: eight_schools() missing 1 "
                                            "required positional argument: 'sigma'\n"),
    ("broken.py:model", "data.json", "vgc: error: importing broken.py failed: ZeroDivisionError: division by zero "
                                     "(at broken.py:2)\n"),
])
def test_cli_bad_model_or_data_is_exit_2_without_traceback(files, capsys, monkeypatch, model, data, message):
    monkeypatch.chdir(files)
    (files / "bad.json").write_text("{not json", encoding="utf-8")
    (files / "list.json").write_text("[1, 2]", encoding="utf-8")
    (files / "few.json").write_text('{"J": 8}', encoding="utf-8")
    (files / "broken.py").write_text("import numpyro\nx = 1 / 0\n", encoding="utf-8")
    status, out, err = run(capsys, "check", "guide.vg", "--model", model, "--data", data)
    assert status == 2 and out == ""
    assert err.startswith(message) and "Traceback" not in err


def test_cli_bad_model_is_exit_2_even_when_the_guide_has_errors(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    (files / "broken.vg").write_text("x ~ Normal(m, 1)\n", encoding="utf-8")  # VG201: m is undefined
    status, out, err = run(capsys, "check", "broken.vg", "--model", "nofile.py:f")
    assert (status, out, err) == (2, "", "vgc: error: cannot read nofile.py: no such file\n")
    status, out, _ = run(capsys, "check", "broken.vg", "--model", "models.py:eight_schools", "--data", "data.json")
    assert status == 1 and "error[VG201]" in out and "VG8" not in out  # the guide's own errors first


def test_cli_check_without_model_does_not_import_jax(files):
    import subprocess

    probe = ("import sys; from vgc import cli; s = cli.main(['check', 'good.vg']); "
             "assert s == 0; print('jax' in sys.modules, 'numpyro' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=files)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_a_site_named_with_as_meets_the_models_site_of_that_name():
    """`lam ~ ... as "lambda"`: the model check matches the guide's site to the model's "lambda" by its NumPyro
    name, and a misfit names both."""
    import numpyro
    import numpyro.distributions as dist

    import vgc

    def model():
        numpyro.sample("lambda", dist.HalfCauchy(1.0))
        numpyro.sample("trend/alpha", dist.Normal(0.0, 1.0))

    good = 'guide g() {\n  param m = 0.0\n  lam ~ LogNormal(m, 1) as "lambda"\n  u ~ Normal(m, 1)\n' \
           '  alpha = 2 * u as "trend/alpha"\n}\n'
    assert vgc.guide(good).check_model(model) == []
    bad = good.replace("lam ~ LogNormal(m, 1)", "lam ~ Normal(m, 1)")
    (d,) = vgc.guide(bad).check_model(model)
    assert d.code == "VG805" and (d.span.line, d.span.column) == (3, 3)
    assert d.message.startswith("'lambda' (VG `lam`) has support real in the guide")


def scoped_plates(y, M):
    """Sites and plates under NumPyro's ``handlers.scope``: their names are "trend/basis", "trend/beta" (as
    NumPyro's examples/hsgp.py names its components), and a subsampled "obs/rows"."""
    import numpyro
    import numpyro.distributions as dist

    with numpyro.handlers.scope(prefix="trend"), numpyro.plate("basis", M):
        beta = numpyro.sample("beta", dist.Normal(0.0, 1.0))
    with numpyro.handlers.scope(prefix="obs"), numpyro.plate("rows", len(y), subsample_size=4) as idx:
        numpyro.sample("y", dist.Normal(beta.sum(), 1.0), obs=y[idx])


SCOPED = """\
guide scoped(y, M) {
  plate trend_basis(M) as "trend/basis" {
    param l = 0.0; param s = 1.0 : positive
    beta ~ Normal(l, s) as "trend/beta"
  }
  plate obs_rows(len(y), subsample=4) as "obs/rows" {
  }
}
"""


def test_plates_with_numpyro_names_that_are_not_vg_names():
    import jax
    import jax.numpy as jnp
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.optim import Adam

    from vgc.init import write_guide

    data = {"y": jnp.asarray(np.linspace(-1.0, 1.0, 10)), "M": 3}
    assert check(SCOPED, scoped_plates, data) == []
    # the VG name alone is not the model's plate: the hint spells the `as`
    plain = SCOPED.replace(' as "trend/basis"', "")
    diags = check(plain, scoped_plates, data)
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("VG804", 2, 9)]
    assert diags[0].message == "the model has no plate 'trend_basis'"
    assert diags[0].hint == "did you mean 'trend/basis'? (not a VG name: `plate NAME(...) as \"trend/basis\"`)"
    # vgc init writes the same, and the subsampled scoped plate trains (its subsample reaches the plate)
    text = write_guide(scoped_plates, (), data)
    lines = [ln.strip() for ln in text.splitlines()]
    assert 'plate trend_basis(M) as "trend/basis" {' in lines
    assert 'trend_beta ~ Normal(trend_beta_loc, trend_beta_scale) as "trend/beta"' in lines
    svi = SVI(scoped_plates, vgc.guide(text), Adam(0.05), Trace_ELBO())
    losses = np.asarray(svi.run(jax.random.PRNGKey(0), 300, progress_bar=False, **data).losses)
    assert np.all(np.isfinite(losses)) and losses[-50:].mean() < losses[:50].mean()
