"""Supports: the registry's families and functions, the derivation of each site's support, containment.

The golden files (tests/cases/supports/*.txt, ``--update-golden``) list the support of every site of every
good case and example; the table tests pin the rules one by one.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from vgc import compiler
from vgc import supports as SP
from vgc.diagnostics import render
from vgc.ir import sites
from vgc.registry import DISTRIBUTIONS, FUNCTIONS

ROOT = Path(__file__).resolve().parents[1]
GOOD = sorted((ROOT / "tests" / "cases" / "good").glob("*.vg")) + sorted((ROOT / "examples").glob("*.vg"))


def listing(source: str, file: str = "<test>") -> str:
    """Every site of every guide with its kind, plates and support, one per line."""
    result = compiler.run(source, file, generate=False)
    assert result.ok, render(result.diagnostics, source)
    out = []
    for g in result.irs:
        out.append(f"guide {g.name}")
        for s in sites(g):
            where = f" in {', '.join(s.plates)}" if s.plates else ""
            aux = " (auxiliary)" if s.auxiliary else ""
            out.append(f"  {s.kind.value} {s.name}{where}{aux}: {s.support}")
    return "\n".join(out) + "\n"


def supports_of(source: str) -> dict[str, str]:
    result = compiler.run(source, "<test>", generate=False)
    assert result.ok, render(result.diagnostics, source)
    (g,) = result.irs
    return {s.name: str(s.support) for s in sites(g)}


@pytest.mark.parametrize("vg", GOOD, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_support_of_every_site_of_every_good_case_and_example(vg: Path, update_golden: bool):
    actual = listing(vg.read_text(encoding="utf-8"), vg.name)
    golden = ROOT / "tests" / "cases" / "supports" / (vg.stem + ".txt")
    if update_golden:
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), "run pytest --update-golden"
    assert actual == golden.read_text(encoding="utf-8")
    assert "None" not in actual  # every site has a support


def test_every_family_and_function_states_a_support_the_module_reads():
    for spec in DISTRIBUTIONS.values():
        s = SP.parse(spec.support, lambda name: name)  # argument names stand for their values
        assert s.name() in {"real", "positive", "unit_interval", "simplex", "circular", "interval(low, high)",
                            "greater_than(scale)"}, spec.name
    for f in FUNCTIONS.values():
        SP.parse(f.domain)
        SP.parse(f.image)


# (program, site, support): the rules one by one
RULES = [
    ("param m = 0.0; param s = 1.0 : positive\nx ~ Normal(m, s)", "x", "real"),
    ("param m = 0.0; param s = 1.0 : positive\nx ~ LogNormal(m, s)", "x", "positive"),
    ("param a = 2.0 : positive; param b = 3.0 : positive\nx ~ Beta(a, b)", "x", "unit_interval"),
    ("param m = 0.0\nx ~ Uniform(m - 1, 2 * 3)", "x", "interval(m - 1, 6)"),
    ("param m = 0.0\nx ~ Uniform(-1, 2)", "x", "interval(-1, 2)"),
    ("param m = 0.0\nx ~ Uniform(high=4)", "x", "interval(0, 4)"),
    ("param a = 2.0 : positive\nx ~ Pareto(1.5, a)", "x", "greater_than(1.5)"),
    ("param c[3] = 1.0 : positive\nx ~ Dirichlet(c)", "x", "simplex"),
    ("param m = 0.0\nx ~ VonMises(m, 2)", "x", "circular"),
    # images of transforms
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = exp(u)", "x", "positive"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = sigmoid(u)", "x", "unit_interval"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = softplus(u)", "x", "positive"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = tanh(u)", "x", "interval(-1, 1)"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = 2 + exp(u)", "x", "greater_than(2)"),
    ("param m = 0.0; param a = 1.0\nu ~ Normal(m, 1)\nx = a + exp(u)", "x", "greater_than(a)"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = 3 - exp(u)", "x", "less_than(3)"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = 2 + (5 - 2) * sigmoid(u)", "x", "interval(2, 5)"),
    ("param m = 0.0; param s = 1.0 : positive\nu ~ Normal(m, 1)\nx = s * exp(u)", "x", "positive"),
    ("param m = 0.0; param s = 1.0\nu ~ Normal(m, 1)\nx = m + s * u", "x", "real"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = -exp(u)", "x", "less_than(0)"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = exp(u) / 4", "x", "positive"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = 1 / exp(u)", "x", "positive"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = log(1 + exp(u))", "x", "positive"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = expm1(u)", "x", "greater_than(-1)"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = exp(u)^3", "x", "positive"),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = 2^u", "x", "positive"),
    ("param m = 0.0\nu ~ Beta(2, 3)\nx = logit(u)", "x", "real"),
    ("param m = 0.0\nu ~ Beta(2, 3)\nx = 4 * u - 2", "x", "interval(-2, 2)"),
    ("param m = 0.0\nu ~ Gamma(2, 3)\nx = log(u)", "x", "real"),
    ("param m = 0.0\nu ~ Gamma(2, 3)\nx = sqrt(u)", "x", "positive"),
    # a let chain is followed
    ("param m = 0.0\nu ~ Normal(m, 1)\nlet e = exp(u)\nlet f = 1 + e\nx = f", "x", "greater_than(1)"),
    # linear maps of real draws are onto the reals; of bounded draws not derived (no error, a warning later)
    ("param t = 0.3\nu1 ~ Normal(t, 1); u2 ~ Normal(t, 1)\n[x, y] = rot(t) · [u1, u2]", "y", "real"),
    ("param t = 0.3\nu1 ~ Gamma(2, 1); u2 ~ Gamma(2, 1)\n[x, y] = rot(t) · [u1, u2]", "y", "unknown"),
    # a vector literal: each target its own item's image
    ("param m = 0.0\nu1 ~ Normal(m, 1); u2 ~ Normal(m, 1)\n[x, y] = [exp(u1), u2]", "x", "positive"),
    ("param m = 0.0\nu1 ~ Normal(m, 1); u2 ~ Normal(m, 1)\n[x, y] = [exp(u1), u2]", "y", "real"),
    # a vector value: its entries' hull
    ("param m = 0.0\nu1 ~ Normal(m, 1); u2 ~ Normal(m, 1)\nx = [exp(u1), sigmoid(u2)]", "x", "positive"),
    # two random operands: an enclosing interval only
    ("param m = 0.0\nu1 ~ Normal(m, 1); u2 ~ Normal(m, 1)\n[x, y] = [exp(u1) + exp(u2), u2]", "x",
     "positive (at most)"),
    # mixtures: the components' common support
    ("param b = 1.0 : positive\nx ~ Mix(Normal(±b, 1))", "x", "real"),
    ("param a = 2.0 : positive; param m = 0.0\nx ~ Mix(Gamma(a, 1), LogNormal(m, 1))", "x", "positive"),
    # point masses: the param's support
    ("param m = 1.0 : positive\nparam s = 1.0 : positive\nu ~ Normal(0, s)\nx = m", "x", "positive"),
    # inside a plate, per element
    ("guide g(N) {\n param m = 0.0\n plate p(N) {\n  param l = 0.0\n  u ~ Normal(l, 1)\n  x = 1 + exp(u)\n }\n}",
     "x", "greater_than(1)"),
    ("param a[3] = 0.0; param c = 0.5\nx ~ Normal(a, exp(c)) : batch\ny = exp(x)", "y", "positive"),
]


@pytest.mark.parametrize("source,site,expected", RULES, ids=[f"{i}-{r[2]}" for i, r in enumerate(RULES)])
def test_support_rule(source: str, site: str, expected: str):
    assert supports_of(source)[site] == expected


def test_inside():
    pos, real, unit = SP.Support(lo=0.0), SP.REAL, SP.Support(lo=0.0, hi=1.0)
    assert SP.inside(pos, real) is True
    assert SP.inside(real, pos) is False
    assert SP.inside(unit, pos) is True
    assert SP.inside(pos, unit) is False
    assert SP.inside(SP.Support(lo=2.0), SP.Support(lo=1.0)) is True
    assert SP.inside(SP.Support(lo=0.5), SP.Support(lo=1.0)) is False
    assert SP.inside(SP.Support(lo="a"), pos) is None  # depends on a param: undecided
    assert SP.inside(SP.Support(lo="a"), real) is True
    assert SP.inside(SP.Support("simplex"), unit) is True
    assert SP.inside(SP.Support("simplex"), SP.Support("simplex")) is True
    assert SP.inside(unit, SP.Support("simplex")) is False
    assert SP.inside(SP.Support("corr_cholesky"), SP.Support("lower_cholesky")) is True
    assert SP.inside(SP.Support(lo=-math.pi, hi=math.pi), SP.Support(lo=-4.0, hi=4.0)) is True
