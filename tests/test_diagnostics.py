"""Diagnostics: every rejected form of the design sketch, at exact lines and columns, plus syntax errors."""

from __future__ import annotations

import pytest

import vgc
from vgc.diagnostics import REGISTRY, render


def codes(source: str, errors_only: bool = True) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in vgc.check(source) if d.is_error or not errors_only]


SKETCH_REJECTED = [
    # (program, expected (code, line, column) errors)
    ("param s = 1.0 : positive\nx ~ Uniform(-10, 10)\nfactor(-0.5 * (x / s)^2)\n", [("VG301", 3, 1)]),
    ("x ~ exp(-(x - b)^2)\n", [("VG302", 1, 5)]),
    ("x ~ ImproperUniform(real)\n", [("VG303", 1, 5)]),
    ("u ~ Normal(0, 1)\n[x, y] = [u, 2 * u]\n", [("VG401", 2, 10)]),
    ("u1 ~ Normal(0, 1); u2 ~ Normal(0, 1)\nx = u1 + u2\n", [("VG401", 2, 5)]),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = abs(u)\n", [("VG403", 3, 5)]),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = sin(u)\n", [("VG403", 3, 5)]),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = cos(u)\n", [("VG403", 3, 5)]),
    ("param m = 0.0\nu ~ Normal(m, 1)\nx = (m + u)^2\n", [("VG403", 3, 5)]),
    ("u1 ~ Normal(0, 1); u2 ~ Normal(0, 1)\n[x, y] = [[1, 2], [2, 4]] · [u1, u2]\n", [("VG404", 2, 10)]),
]


@pytest.mark.parametrize(("source", "expected"), SKETCH_REJECTED)
def test_sketch_rejections(source, expected):
    assert codes(source) == expected


def test_factor_example_also_warns_about_the_fixed_sampler():
    found = codes("param s = 1.0 : positive\nx ~ Uniform(-10, 10)\nfactor(-0.5 * (x / s)^2)\n", errors_only=False)
    assert ("VG601", 2, 1) in found and ("VG301", 3, 1) in found


def test_all_errors_are_collected_not_just_the_first():
    src = "param m = 0.0\nx ~ Normal(m, sigma)\ny ~ Normale(m, 1)\nz ~ ImproperUniform(real)\nfactor(x)\n"
    assert codes(src) == [("VG201", 2, 15), ("VG204", 3, 5), ("VG303", 4, 5), ("VG301", 5, 1)]


def test_warnings_of_the_sketch():
    src = "param s = 0.5\nparam w[2] : simplex\nx ~ Normal(0, s)\ny ~ Cauchy(0, 1)\nz ~ Mix(w, Normal([0, 1], 1))\n"
    found = codes(src, errors_only=False)
    assert ("VG602", 3, 15) in found  # scale param without positive
    assert ("VG601", 4, 1) in found  # nothing learnable on y's path
    assert ("VG603", 5, 9) in found  # learnable mixture weights
    assert all(d.severity == "warning" for d in vgc.check(src))
    vgc.compile(src)  # warnings do not stop compilation


def test_transform_specific_errors():
    assert codes("param m = 0.0\nu ~ Normal(m, 1)\nx = exp(u)\ny = 2 * u\n") == [("VG402", 4, 9)]
    assert codes("param m = 0.0\nu ~ Normal(m, 1)\nx = exp(u)\ny = 2 * x\n") == [("VG405", 4, 9)]
    assert codes("param m = 0.0\nu ~ Normal(m, 1)\nx = u^m\n") == [("VG403", 3, 5)]
    assert codes("param m = 0.0\nu ~ Normal(m, 1)\nx = (-2)^u\n") == [("VG403", 3, 5)]
    assert codes("param m = 0.0\nu ~ Normal(m, 1)\nx = u^3\n") == []  # odd powers are bijections


@pytest.mark.parametrize(
    ("source", "line", "column", "expected_fragment"),
    [
        ("param m = 0.0\nx ~ Normal(m, 1) y ~ Normal(m, 1)\n", 2, 18, "expected a newline, ';'"),
        ("param m = 0.0\nx ~ Normal(m, 1\ny ~ Normal(m, 1)\n", 2, 11, "'(' is never closed"),
        ("param m = 0.0\nx ~ [m, m\n", 2, 5, "'[' is never closed"),
        ("param m = 0.0 +\n", 1, 16, "unexpected newline"),
        ("x ~ Normal(0, 1) $\n", 1, 18, "unexpected character '$'"),
        ("guide g {\n  x ~ Normal(0, 1)\n", 1, 9, "'{' is never closed"),
        ("param = 1\n", 1, 7, "unexpected '='; expected a name"),
    ],
)
def test_syntax_errors_at_the_right_place(source, line, column, expected_fragment):
    (d,) = [d for d in vgc.check(source) if d.is_error]
    assert (d.code in ("VG101", "VG102"), d.span.line, d.span.column) == (True, line, column)
    assert expected_fragment in d.message


def test_rendering_has_location_source_line_caret_and_hint():
    src = "param m = 0.0\nx ~ Normal(m, sigma)\n"
    text = render(vgc.check(src, "model.vg"), src)
    assert text.splitlines() == [
        "model.vg:2:15: error[VG201]: 'sigma' is not defined",
        "  |",
        "2 | x ~ Normal(m, sigma)",
        "  |               ^^^^^",
        "  = hint: define it with `param`, `~`, `=` or `let` first",
    ]


def test_did_you_mean():
    (d,) = [d for d in vgc.check("param scale = 1.0 : positive\nx ~ Normal(0, scal)\n") if d.is_error]
    assert d.hint == "did you mean 'scale'?"
    (d,) = [d for d in vgc.check("param s = 1.0 : postive\nx ~ Normal(0, s)\n") if d.is_error]
    assert d.code == "VG206" and d.hint == "did you mean 'positive'?"


def test_compile_error_carries_diagnostics_and_renders():
    with pytest.raises(vgc.CompileError) as info:
        vgc.guide("x ~ exp(-(x - 1)^2)\n")
    err = info.value
    assert [d.code for d in err.diagnostics] == ["VG302"]
    assert "error[VG302]" in str(err) and "^^^^" in str(err)


def test_registry_codes_are_unique_and_well_formed():
    assert all(code.startswith("VG") and len(code) == 5 for code in REGISTRY)
    assert {c.severity for c in REGISTRY.values()} == {"error", "warning"}


def test_every_diagnostic_emitted_by_the_golden_cases_is_registered():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    seen = set()
    for vg in list((root / "tests" / "cases" / "bad").glob("*.vg")) + list((root / "examples").rglob("*.vg")):
        seen |= {d.code for d in vgc.check(vg.read_text(encoding="utf-8"))}
    assert seen <= set(REGISTRY)
    # Every error code the compiler registers is exercised by a golden case (VG100 by the CLI tests,
    # VG900 by test_recovery's injected compiler fault, the model check's VG8xx by tests/test_modelcheck.py).
    model = {c for c in REGISTRY if c.startswith("VG8")}
    assert {c for c, e in REGISTRY.items() if e.severity == "error"} - seen - model == {"VG100", "VG900"}


def test_language_reference_lists_every_code_distribution_function_and_constraint():
    from pathlib import Path

    from vgc import registry

    doc = (Path(__file__).resolve().parents[1] / "docs" / "language.md").read_text(encoding="utf-8")
    for code in REGISTRY:
        assert f"| {code} |" in doc, code
    for spec in registry.DISTRIBUTIONS.values():
        assert f"`{spec.signature()}`" in doc, spec.name
    for name in list(registry.FUNCTIONS) + list(registry.CONSTRAINTS):
        assert f"`{name}" in doc, name


def test_no_duplicate_or_follow_on_diagnostics_in_params():
    # a constraint bound is checked once; an overflowing initial value is VG104 alone
    assert codes("param t = 0.5 : greater_than(u)\n") == [("VG201", 1, 30)]
    assert codes("param s = 1e400 : positive\n") == [("VG104", 1, 11)]
    assert codes("param s = -1 : positive\n") == [("VG501", 1, 11)]  # the check itself still runs
