"""vgc against the models of NumPyro's example gallery (tests/numpyro_examples.py, written from their math).

For each model ``vgc init`` writes a guide that compiles, passes the model check and holds the lines that map
each latent onto its support (tests/test_gallery.py fits each and asserts it ends within 1 nat of AutoNormal);
hand-written guides with the classic mistakes are caught at their lines.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import vgc
from vgc import compiler, modelcheck
from vgc.diagnostics import render
from vgc.init import write_guide

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpyro_examples as E

# What `vgc init` must write for each (the lines that map each latent onto its support).
EXPECTED = {
    "funnel": ["x ~ Normal(x_loc, x_scale) : batch"],
    "funnel_reparam": ["x_decentered ~ Normal(x_decentered_loc, x_decentered_scale) : batch"],
    "fully_pooled": ["phi = sigmoid(phi_raw)"],
    "not_pooled": ["plate num_players(len(at_bats)) {", "phi = sigmoid(phi_raw)"],
    "partially_pooled": ["m = sigmoid(m_raw)", "kappa = 1.0 + exp(kappa_raw)", "phi = sigmoid(phi_raw)"],
    "partially_pooled_with_logit": ["scale = exp(scale_raw)", "alpha ~ Normal(alpha_loc, alpha_scale)"],
    "glmm": ["sigma = exp(sigma_raw)", "L_Rho = corr_cholesky(L_Rho_raw)", "z ~ Normal(z_loc, z_scale) : batch"],
    "horseshoe": ["lambdas = exp(lambdas_raw)", "tau = exp(tau_raw)", "prec_obs = exp(prec_obs_raw)"],
    "gp": ["kernel_var = exp(kernel_var_raw)", "kernel_length = exp(kernel_length_raw)"],
    "stochastic_volatility": ["sigma = exp(sigma_raw)", "s ~ Normal(s_loc, s_scale)", "nu = exp(nu_raw)"],
    "proportion_test": ["coefficients ~ Normal(coefficients_loc, coefficients_scale)"],
}


@pytest.mark.parametrize("name", sorted(E.MODELS))
def test_init_writes_a_guide_that_passes_the_model_check(name):
    model, data = E.MODELS[name]
    text = write_guide(model, (), data)
    lines = [ln.strip() for ln in text.splitlines()]
    for expected in EXPECTED[name]:
        assert expected in lines, (expected, text)
    result = compiler.run(text, f"{name}.vg")
    assert result.ok and result.diagnostics == [], render(result.diagnostics, text)
    assert modelcheck.check(result, model, (), data) == []


# Hand-written guides with the mistakes the issue names, against these models.
PARTIAL = """\
guide partially_pooled(at_bats, hits) {
  param a = 0.0; param b = 0.5 : positive
  mr ~ Normal(a, b)
  m = sigmoid(mr)
  param c = 0.0; param d = 0.5 : positive
  kr ~ Normal(c, d)
  kappa = exp(kr)
  plate num_players(len(at_bats)) {
    param e = 0.0; param f = 0.5 : positive
    pr ~ Normal(e, f)
    phi = sigmoid(pr)
  }
}
"""


def test_pareto_kappa_needs_values_above_one():
    diags = vgc.guide(PARTIAL).check_model(E.partially_pooled, **E.BASEBALL)
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("VG805", 7, 3)]
    assert "positive in the guide, but greater_than(1) in the model (Pareto)" in diags[0].message
    assert diags[0].hint == "map a real draw above 1: `v ~ Normal(m, s); kappa = 1 + exp(v)`"
    fixed = PARTIAL.replace("kappa = exp(kr)", "kappa = 1 + exp(kr)")
    assert vgc.guide(fixed).check_model(E.partially_pooled, **E.BASEBALL) == []


def test_glmm_batch_dimensions_and_the_correlation_factor():
    guide = """\
guide glmm(dept, male, applications, admit) {
  param vm[2] = 0.0; param vs[2] = 0.1 : positive
  v_mu ~ Normal(vm, vs)
  param sm[2] = 0.0; param ss[2] = 0.1 : positive
  sr ~ Normal(sm, ss) : batch
  sigma = exp(sr)
  param lm[1] = 0.0; param ls[1] = 0.1 : positive
  lr ~ Normal(lm, ls)
  L_Rho = tanh(lr)
  param zm[6, 2] = 0.0; param zs[6, 2] = 0.1 : positive
  z ~ Normal(zm, zs) : batch
}
"""
    diags = vgc.guide(guide).check_model(E.glmm, **E.UCBADMIT)
    got = [(d.code, d.span.line, d.span.column) for d in diags]
    assert got == [("VG803", 3, 3), ("VG803", 9, 3)], render(diags, guide)
    assert "batch shape (2,) and event shape () in the model, but batch shape () and event shape (2,)" in \
        diags[0].message
    right = guide.replace("v_mu ~ Normal(vm, vs)", "v_mu ~ Normal(vm, vs) : batch").replace(
        "L_Rho = tanh(lr)", "L_Rho = corr_cholesky(lr)")
    assert vgc.guide(right).check_model(E.glmm, **E.UCBADMIT) == []
