"""`vgc lsp`: the pure helpers (positions, hover text, completion, formatting) and the server over stdio.

The server tests drive `python -m vgc lsp` with a real LSP client (pytest-lsp); one server serves the
whole module, each test on its own document.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("pygls.lsp.server")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

from vgc import lsp  # noqa: E402
from vgc.fmt import format_source  # noqa: E402
from vgc.nodes import Span  # noqa: E402

lsp_test = pytest.mark.asyncio(loop_scope="module")
TIMEOUT = 15


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def rng(line: int, start: int, end_line: int, end: int) -> types.Range:
    return types.Range(start=pos(line, start), end=pos(end_line, end))


# ---------------------------------------------------------------- positions (no server)


@pytest.mark.parametrize(
    ("line", "index", "utf16", "utf8", "utf32"),
    [
        ("abc", 2, 2, 2, 2),
        ("𝜃 = q", 4, 5, 7, 4),  # U+1D703: 2 UTF-16 units, 4 UTF-8 bytes
        ("θ = q", 4, 4, 5, 4),  # U+03B8: BMP, 2 UTF-8 bytes
        ("a𝜃𝜃b", 3, 5, 9, 3),
        ("ab", 9, 2, 2, 2),  # clamped to the line
    ],
)
def test_encode_column(line, index, utf16, utf8, utf32):
    assert lsp.encode_column(line, index) == utf16
    assert lsp.encode_column(line, index, types.PositionEncodingKind.Utf8) == utf8
    assert lsp.encode_column(line, index, "utf-32") == utf32
    for enc, units in (("utf-16", utf16), ("utf-8", utf8), ("utf-32", utf32)):
        assert lsp.decode_column(line, units, enc) == min(index, len(line))


def test_decode_column_inside_a_surrogate_pair_is_the_character():
    assert lsp.decode_column("a𝜃b", 2) == 1  # between the two halves of 𝜃
    assert lsp.decode_column("a𝜃b", 3) == 2
    assert lsp.decode_column("a𝜃b", 99) == 3


def test_range_conversion():
    src = lsp.Source.of("x\r\nu ~ Normal(𝜃, q)\rlast")
    assert src.lines == ("x", "u ~ Normal(𝜃, q)", "last")
    # the compiler's 1-based code-point span of `q` (end exclusive) → 0-based UTF-16
    assert lsp.to_range(src, Span(2, 15, 2, 16)) == rng(1, 15, 1, 16)
    assert lsp.to_range(src, Span(2, 15, 2, 16), "utf-32") == rng(1, 14, 1, 15)
    assert lsp.to_range(src, Span(3, 1, 3, 99)) == rng(2, 0, 2, 4)  # clamped to the line
    assert lsp.to_range(src, Span(9, 1, 9, 2)) == rng(2, 4, 2, 4)  # past the end: the end
    assert lsp.from_position(src, pos(1, 15)) == (2, 15)
    assert lsp.end_position(src) == pos(2, 4)


def test_byte_order_mark_shifts_the_first_line():
    src = lsp.Source.of("\ufeffparam q = 0.0\n")
    assert lsp.to_position(src, 1, 7) == pos(0, 7)
    assert lsp.to_position(src, 2, 1) == pos(1, 0)
    assert lsp.from_position(src, pos(0, 7)) == (1, 7)


def test_diagnostics_pure():
    diags = lsp.diagnostics("u ~ Normal(𝜃, 1)\nx = u\n")
    assert [(d.code, d.range) for d in diags] == [("VG201", rng(0, 11, 0, 13)), ("VG601", rng(1, 0, 1, 1))]
    d = diags[0]
    assert d.source == "vgc" and d.severity == types.DiagnosticSeverity.Error
    assert d.message.startswith("'θ' is not defined\nhint: ")
    assert d.code_description is None or d.code_description.href.endswith("#vg201--undefined-name")
    warn = lsp.diagnostics("param m = 0.0\nparam s = 1.0\nu ~ Normal(m, s)\n")
    assert [(d.code, d.severity) for d in warn] == [("VG602", types.DiagnosticSeverity.Warning)]


# ---------------------------------------------------------------- hover and completion text (no server)

PROGRAM = """\
param m = 0.0; param s = 1.0 : positive
param d[3] = 1.0 : positive
u ~ Normal(0, 1)
x = m + s * u
v ~ Normal([0, 0, 0], 1)
y = exp(d * v)
w1 ~ Normal(0, 1); w2 ~ Normal(0, 1)
[a, b] = [w1 + w2, w1 - w2 + w1^3]
let c = m
p = c
"""


def hover_text(text: str, line: int, character: int) -> str | None:
    h = lsp.hover(text, pos(line, character))
    return None if h is None else h.contents.value


def test_hover_registry():
    normal = hover_text(PROGRAM, 2, 6)
    assert "Normal(loc=…, scale=…)" in normal and "`scale`: optional, > 0" in normal and "event rank 0" in normal
    assert "e^x" in hover_text(PROGRAM, 5, 5) and "monotone" in hover_text(PROGRAM, 5, 5)
    assert "x > 0" in hover_text(PROGRAM, 0, 33)
    assert "keyword" in hover_text(PROGRAM, 0, 2)
    assert "event rank 1" in lsp.registry_markdown("Dirichlet")
    assert "VG403" in lsp.registry_markdown("sin")
    assert "matrix or a reduction" in lsp.registry_markdown("rot")
    assert "interval(a, b)" in lsp.registry_markdown("interval")
    assert "Mix(Normal(±b, 1))" in lsp.registry_markdown("Mix")
    for refused, code in (("factor", "VG301"), ("ImproperUniform", "VG303"), ("Poisson", "VG304")):
        assert code in lsp.registry_markdown(refused)
    assert lsp.registry_markdown("nothing") is None


def test_hover_symbols_and_log_jacobians():
    x = hover_text(PROGRAM, 3, 0)
    assert "log|det J| = log|s|" in x and "`u`" in x and "-jnp.log(jnp.abs(s))" in x
    y = hover_text(PROGRAM, 5, 0)
    assert "log|det J| = Σ (d * v) + Σ log|d|" in y and "shape [3]" in y
    a, b = hover_text(PROGRAM, 7, 1), hover_text(PROGRAM, 7, 4)
    assert "jax.jacfwd" in a and "`w1`, `w2`" in a and "carried by `a`" in b
    assert "point mass" in hover_text(PROGRAM, 9, 0)
    assert "**param** `s`: scalar, constraint `positive`" in hover_text(PROGRAM, 3, 8)
    assert "consumed by the transform on line 4" in hover_text(PROGRAM, 3, 12)
    assert "a latent site" in hover_text("param m = 0.0\nu ~ Normal(m, 1)\n", 1, 0)
    assert "**let** `c`" in hover_text(PROGRAM, 8, 4)
    assert hover_text(PROGRAM, 3, 2) is None  # '='
    assert hover_text("x ~ Normal(0, 1)  # Normal\n", 0, 20) is None  # a comment
    assert hover_text("param q = 1e3\n", 0, 11) is None  # a number, not the name `e3`


def test_hover_in_guide_blocks():
    text = "guide g(data) {\n  u ~ Normal(0, 1)\n  x = 2 * u\n}\nguide h {\n  x ~ Normal(0, 1)\n}\n"
    assert "model argument" in hover_text(text, 0, 9)
    assert "log|det J| = log|2|" in hover_text(text, 2, 2)
    assert "**draw** `x`" in hover_text(text, 5, 2)  # the `x` of guide h


def test_log_jacobian_rendering():
    text = (
        "param d[2] = 1.0 : positive\nparam θ = 0.0\nparam k = 2.0\nz ~ Normal([0, 0], 1)\n"
        "q = rot(θ) · diag(d) · inv([[1, 2], [3, 4]]) · z\n"
        "u ~ Normal(0, 1)\nr = sqrt(k + exp(u))\n"
        "t ~ Normal([0, 0], 1)\ns = k * t\n"
    )
    assert "log|det J| = Σ log|d| - log|1 * 4 - 2 * 3|" in hover_text(text, 4, 0)
    assert "log|det J| = -0.5·log|k + exp(u)| - log(2.0) + u" in hover_text(text, 6, 0)
    assert "log|det J| = 2·log|k|" in hover_text(text, 8, 0)


def labels(text: str, line: int, character: int) -> list[str]:
    return [i.label for i in lsp.completions(text, pos(line, character))]


GUIDE = """\
guide g(data) {
  param m = 0.0
  param s = 1.0 : positive
  u ~ Normal(m, s)
  x = m + s * u
  param later = 2.0
}
"""


def test_completion_pure():
    got = labels(GUIDE, 4, 14)  # after `x = m + s * `
    assert {"m", "s", "u", "data", "exp", "Normal", "Mix"} <= set(got)
    assert "later" not in got and "x" not in got and "positive" not in got and "param" not in got
    items = {i.label: i for i in lsp.completions(GUIDE, pos(4, 14))}
    assert items["m"].sort_text < items["exp"].sort_text < items["Normal"].sort_text
    assert items["m"].detail == "param" and items["u"].detail == "draw" and items["data"].detail == "model argument"
    assert set(labels(GUIDE, 2, 18)) == set(lsp.R.CONSTRAINTS)  # after ':'
    tilde = {i.label: i for i in lsp.completions(GUIDE, pos(3, 6))}  # after `u ~ `
    assert tilde["Normal"].sort_text < tilde["exp"].sort_text and "m" not in tilde
    assert {"param", "let", "guide"} <= set(labels(GUIDE, 5, 2))  # a statement's start
    assert labels("x ~ Normal(0, 1)  # N", 0, 21) == []  # a comment
    assert "m" not in labels(GUIDE, 0, 0) and "Normal" in labels(GUIDE, 0, 0)  # outside the guide
    assert "m" in labels("param m = 0.0; u ~ Normal(", 0, 26)  # bare statements, same line
    assert "m" in labels("guide g {\n  param m = 0.0\n  u ~ Normal(", 2, 13)  # an unclosed block


PLATES = """\
guide eight_schools(J, sigma, y) {
  param mu_loc = 0.0; param mu_scale = 1.0 : positive
  mu ~ Normal(mu_loc, mu_scale)
  plate J(J) {
    param th_loc = 0.0; param th_scale = 1.0 : positive
    theta ~ Normal(th_loc, th_scale)
  }
}
guide local_means(y, K) {
  param m = 0.0; param s = 1.0 : positive
  mu ~ Normal(m, s)
  plate data(len(y), subsample=100) {
    param a[2] = 0.0
    z ~ Normal(mu, s)
    x ~ Normal(y[data], s)
    plate inner(K, dim=-3) {
      e ~ Normal(a, 1)
      t = 2 * e
    }
  }
}
"""


def test_plate_example_is_valid():
    assert lsp.diagnostics(PLATES) == []


def test_hover_site_shapes():
    site = "Site `theta`: batch shape (J,) from plate `J` (dim -1); event shape scalar (event_dim 0)."
    assert site in hover_text(PLATES, 5, 4)
    assert "**draw** `theta`: scalar; a latent site." in hover_text(PLATES, 5, 4)
    th_loc = hover_text(PLATES, 4, 10)
    assert "**param** `th_loc`: scalar" in th_loc
    assert "Site `th_loc`: batch shape (J,) from plate `J` (dim -1); event shape scalar (event_dim 0)." in th_loc
    assert "stored in full" not in th_loc  # not subsampled
    assert "Site `mu`: batch shape () — outside any plate; event shape scalar (event_dim 0)." in hover_text(
        PLATES, 2, 2
    )
    assert (
        "Site `z`: batch shape (100,) from plate `data` (dim -1; subsample 100 of len(y)); "
        "event shape scalar (event_dim 0)."
    ) in hover_text(PLATES, 13, 4)
    # a param in a subsampled plate: one value per element, stored for all of them
    assert (
        "Site `a`: batch shape (100,) from plate `data` (dim -1; subsample 100 of len(y)); event shape (2,) "
        "(event_dim 1); stored in full as (len(y), 2), each step reads the rows it visits."
    ) in hover_text(PLATES, 12, 10)
    # nested plates, an explicit dim leaving a size-1 axis; an auxiliary draw and the transform consuming it
    nested = "batch shape (K, 1, 100) from plates `data` (dim -1; subsample 100 of len(y)), `inner` (dim -3)"
    e = hover_text(PLATES, 16, 6)
    assert f"Site `e`: {nested}; event shape (2,) (event_dim 1)." in e and "an auxiliary site" in e
    t = hover_text(PLATES, 17, 6)
    assert f"Site `t`: {nested}; event shape (2,) (event_dim 1)." in t and "log|det J| = 2·log|2|" in t
    # outside plates, on the old example: the site line follows the existing text
    x = hover_text(PROGRAM, 3, 0)
    assert x.endswith("Site `x`: batch shape () — outside any plate; event shape scalar (event_dim 0).\n\n"
                      "support: `real`")
    assert "Site `d`: batch shape () — outside any plate; event shape (3,) (event_dim 1)." in hover_text(
        PROGRAM, 5, 8
    )
    assert "Site" not in hover_text(PROGRAM, 8, 4)  # a let is no site
    # `: batch` draws and the transforms of them: batch dimensions outside any plate
    funnel = "param a[9] = 0.0; param s = 1.0 : positive\nx ~ Normal(a, s) : batch\nz = 2 * x\n"
    batch = "batch shape (9,) from `: batch` (the draw's own batch dimensions); event shape scalar (event_dim 0)."
    assert f"Site `x`: {batch}" in hover_text(funnel, 1, 0)
    assert f"Site `z`: {batch}" in hover_text(funnel, 2, 0)


SUPPORTS = """\
guide g(J) {
  param m = 0.0; param s = 1.0 : positive
  v ~ Normal(m, s); tau = exp(v)
  param b = 2.0 : positive
  p ~ Beta(b, b)
  plate J(J) {
    param loc = 0.0; param d[2] = 1.0 : positive
    u ~ Normal(loc, s); th = 2 + (5 - 2) * sigmoid(u)
    e ~ Normal([loc, loc], s); w = m + exp(e) * d
  }
  k1 ~ Normal(m, s); k2 ~ Normal(m, s)
  [q1, q2] = [exp(k1) + exp(k2), k2]
}
"""


def test_hover_shows_supports():
    assert [d.code for d in lsp.diagnostics(SUPPORTS)] == ["VG604"]  # no closed form for [q1, q2]
    assert hover_text(SUPPORTS, 2, 20) == (
        "```vg\ntau = exp(v)\n```\n\n**latent** `tau`: a `Delta` site, scalar.\n\n"
        "Consumes the draw `v` (now an auxiliary site).\n\n"
        "log-Jacobian derived by vgc:\n\n```\nlog|det J| = v\n```\n\n"
        "Generated: `log_density=-v` (that is −log|det J|).\n\n"
        "Site `tau`: batch shape () — outside any plate; event shape scalar (event_dim 0).\n\n"
        "support: `positive`"
    )
    assert hover_text(SUPPORTS, 4, 2) == (
        "```vg\np ~ Beta(b, b)\n```\n**draw** `p`: scalar; a latent site.\n\n"
        "Site `p`: batch shape () — outside any plate; event shape scalar (event_dim 0).\n\n"
        "support: `unit_interval`"
    )
    assert hover_text(SUPPORTS, 3, 8) == (
        "```vg\nparam b = 2.0 : positive\n```\n**param** `b`: scalar, constraint `positive`.\n\n"
        "Site `b`: batch shape () — outside any plate; event shape scalar (event_dim 0).\n\n"
        "support: `positive`"
    )
    # per element in a plate: the support of each element
    assert hover_text(SUPPORTS, 7, 24) == (
        "```vg\nth = 2 + (5 - 2) * sigmoid(u)\n```\n\n**latent** `th`: a `Delta` site, scalar.\n\n"
        "Consumes the draw `u` (now an auxiliary site).\n\n"
        "log-Jacobian derived by vgc:\n\n```\nlog|det J| = log|5 - 2| - (softplus(u) + softplus(-u))\n```\n\n"
        "Generated: `log_density=-jnp.log(jnp.abs(5.0 - 2.0)) + (jax.nn.softplus(u) + jax.nn.softplus(-u))` "
        "(that is −log|det J|).\n\n"
        "Site `th`: batch shape (J,) from plate `J` (dim -1); event shape scalar (event_dim 0).\n\n"
        "support: `interval(2, 5)`"
    )
    # what qualifies a support: a vector's entries, a bound known only at run time, an enclosing set
    assert hover_text(SUPPORTS, 6, 27).endswith(
        "Site `d`: batch shape (J,) from plate `J` (dim -1); event shape (2,) (event_dim 1).\n\n"
        "support: `positive` (each entry)"
    )
    assert hover_text(SUPPORTS, 8, 31).endswith(
        "support: `greater_than(m)` (each entry; a bound known only when the guide runs)"
    )
    assert hover_text(SUPPORTS, 11, 3).endswith(
        "support: `positive (at most)` (an enclosing set: vgc derives no exact image for this map)"
    )
    assert hover_text(SUPPORTS, 11, 7).endswith("support: `real`")
    assert "support" not in hover_text("let c = 1.0\nx ~ Normal(c, 1)\n", 0, 4)  # a let is no site


def test_hover_plates():
    header = hover_text(PLATES, 3, 8)  # the J of `plate J(J)`: the plate
    assert header.startswith("```vg\nplate J(J)\n```\n**plate** `J` (`numpyro.plate`): size J; no subsampling; "
                             "dim -1 (allocated: the outermost plate).")
    assert "Sites inside, batched by it: `th_loc`, `th_scale`, `theta`." in header
    assert "**argument** `J` of guide `eight_schools`" in hover_text(PLATES, 3, 10)  # its size: the argument
    data = hover_text(PLATES, 11, 8)
    assert "size len(y) (the length of `y`'s first axis); subsample 100 of len(y) (a random subset each step); " \
        "dim -1 (allocated: the outermost plate)." in data
    assert "Sites inside, batched by it: `a`, `z`, `x`, `e`, `t`." in data
    assert hover_text(PLATES, 14, 18) == data  # `data` in `y[data]`: the plate
    assert "**argument** `y` of guide `local_means`" in hover_text(PLATES, 14, 15)
    inner = hover_text(PLATES, 15, 10)
    assert "**plate** `inner` (`numpyro.plate`): size K; no subsampling; dim -3." in inner
    assert "Sites inside, batched by it: `e`, `t`." in inner
    # nested without dim: the next dim to the left
    text = "guide g(n) {\n  plate a(n) {\n    plate b(3) {\n      u ~ Normal(0, 1)\n    }\n  }\n}\n"
    assert "size 3; no subsampling; dim -2 (allocated: inside `a`)." in hover_text(text, 2, 10)
    assert "batch shape (3, n) from plates `a` (dim -1), `b` (dim -2)" in hover_text(text, 3, 6)


def test_hover_plate_words():
    plate = hover_text(PLATES, 3, 2)
    assert plate.startswith("**plate** (keyword) — `plate NAME(SIZE, subsample=K, dim=D) { ... }`")
    assert "numpyro.plate" in plate
    assert hover_text(PLATES, 11, 21).startswith("`subsample=K` (plate option) — `subsample_size=K`")
    assert hover_text(PLATES, 15, 19).startswith("`dim=D` (plate option)")
    length = hover_text(PLATES, 11, 13)
    assert "`len(ARG)` — the length of guide argument ARG's first axis" in length
    assert "valid only as a plate's size" in length
    assert lsp.registry_markdown("len") == length and lsp.registry_markdown("dim") is None
    # subsample and dim are not reserved: elsewhere they are whatever the guide makes them
    text = "param dim = 1.0\nu ~ Normal(dim, 1)\nplate p(3, dim=-1) {\n  v ~ Normal(dim, 1)\n}\nw = subsample\n"
    assert "**param** `dim`" in hover_text(text, 0, 7)
    assert "**param** `dim`" in hover_text(text, 1, 12)
    assert hover_text(text, 2, 12).startswith("`dim=D` (plate option)")
    assert "**param** `dim`" in hover_text(text, 3, 14)
    assert hover_text(text, 5, 6) is None  # undefined: no option doc


def test_hover_plates_never_raise_on_broken_headers():
    text = "guide g(y) {\n  plate c(dim=2, foo=1) {\n    w ~ Normal(0, 1)\n  }\n  plate d(2.5, subsample=y) {\n  }\n}\n"
    assert "**plate** `c`" in hover_text(text, 1, 8)
    assert "**plate** `d`" in hover_text(text, 4, 8)
    assert hover_text(text, 4, 16).startswith("`subsample=K`")


def sorted_labels(text: str, line: int, character: int) -> list[str]:
    registry = {*lsp.R.FUNCTIONS, *lsp.R.DISTRIBUTIONS, "Mix", lsp.R.MLP, lsp.R.CONCAT}
    return sorted(set(labels(text, line, character)) - registry)


SCOPES = """\
guide g(y, K) {
  param m = 0.0
  plate a(len(y), subsample=10) {
    param p = 0.0
    u ~ Normal(p, 1)
    plate b(K, dim=-2) {
      v ~ Normal(u, 1)
      w = v + u
    }
    q = u * m
  }
  r = m + m
}
"""


def test_completion_knows_plate_scopes():
    assert sorted_labels(SCOPES, 7, 10) == ["K", "m", "p", "u", "v", "y"]  # `w = ` in b
    assert sorted_labels(SCOPES, 9, 8) == ["K", "m", "p", "u", "y"]  # `q = ` in a, after b closed
    assert sorted_labels(SCOPES, 11, 6) == ["K", "m", "y"]  # `r = ` after a closed
    assert lsp.names_in_scope(SCOPES, 8, 11) == [("y", "arg"), ("K", "arg"), ("m", "param"), ("p", "param"),
                                                 ("u", "random"), ("v", "random")]
    assert lsp.names_in_scope(SCOPES, 11, 2) == [("y", "arg"), ("K", "arg"), ("m", "param"), ("p", "param"),
                                                 ("u", "random"), ("q", "latent")]
    assert lsp.names_in_scope(SCOPES, 12, 5) == [("y", "arg"), ("K", "arg"), ("m", "param")]
    # bare statements; an unclosed plate runs to the end
    bare = "param c = 1.0\nplate p(3) {\n  u ~ Normal(c, 1)\n}\nx = c"
    assert lsp.names_in_scope(bare, 5, 5) == [("c", "param")]
    assert lsp.names_in_scope(bare, 3, 20) == [("c", "param"), ("u", "random")]
    unclosed = "guide g(y) {\n  plate p(3) {\n    u ~ Normal(0, 1)\n    x = "
    assert "u" in labels(unclosed, 3, 8)
    assert "plate" in labels(SCOPES, 10, 2)  # a keyword at a statement's start


def test_completion_in_plate_headers():
    size = {i.label: i for i in lsp.completions(SCOPES, pos(2, 10))}  # `plate a(`
    assert list(size) == ["y", "K", "len"]
    assert size["len"].insert_text == "len(" and size["len"].kind == types.CompletionItemKind.Function
    assert labels(SCOPES, 2, 14) == ["y", "K"]  # `len(`
    options = {i.label: i for i in lsp.completions(SCOPES, pos(2, 18))}  # `len(y), `
    assert list(options) == ["subsample=", "dim="]
    assert options["dim="].insert_text == "dim=" and options["dim="].kind == types.CompletionItemKind.Property
    assert labels(SCOPES, 2, 28) == ["y", "K"]  # `subsample=`: a number or an argument
    assert labels(SCOPES, 5, 12) == ["y", "K", "len"]  # `plate b(`, nested
    assert labels(SCOPES, 5, 15) == ["subsample=", "dim="]  # `plate b(K, `
    assert labels(SCOPES, 5, 19) == []  # `dim=`: a negative number
    assert labels("plate p(3, dim=-1, ", 0, 19) == ["subsample="]  # given once
    assert labels("guide g(y) {\n  plate p(len(y),\n    su", 2, 6) == ["subsample=", "dim="]  # over lines
    body = "guide g(y) {\n  plate p(3, subsample=2) { x ~ Normal("  # the header is closed: the usual list
    got = labels(body, 1, len(body.splitlines()[1]))
    assert {"y", "Normal", "exp"} <= set(got) and "subsample=" not in got and "len" not in got


def test_completion_of_plate_indices():
    text = "guide g(y) {\n  param m = 0.0\n  plate p(3) {\n    plate q(2) {\n      u ~ Normal(y["
    assert labels(text, 4, 19) == ["q", "p"]  # the open plates, innermost first
    assert "m" in labels(text.replace("y[", "m["), 4, 19)  # not an argument: no plates
    assert labels("guide g(y) {\n  plate p(3) { }\n  x ~ Normal(y[", 2, 15) == []  # no plate open


def test_formatting_pure():
    text = "param m=0.0;param s=1.0:positive\nu~Normal(m,s)\n"
    (edit,) = lsp.formatting(text)
    assert edit.new_text == format_source(text).text and edit.range == rng(0, 0, 2, 0)
    assert lsp.formatting(edit.new_text) == []
    assert lsp.formatting("u ~ Normal(0,\n") == []  # a syntax error: not formatted


GARBAGE = [
    "",
    "guide {{{ ((( 𝜃 ±± ''' \x00 \ufeff",
    "\ufeff[[[" * 50,
    "x = " + "(" * 300 + "u" + ")" * 300,
    "guide g(a, a) { x ~ Mix(Normal(±1, 1), Cauchy(0, 1)) \n [p, q] = [x, 1]; y = x'\r\n",
    "param 𝜃[2, 2] = [[1, 2], [3, 4]] : lower_cholesky\nz ~ MultivariateNormal([0, 0], scale_tril=𝜃)\nw = 𝜃 · z",
    "plate p(len(y[ , subsample=dim=, dim) { plate { q ~ y[p] }\n}}} plate plate(len(len(x)), ｄｉｍ=-1) {(\n"
    "guide g(y) { plate p(y) { plate p(len(y), subsample=1000, dim=0) { u ~ Normal(y[p], 1) } } v = y[p]",
]


@pytest.mark.parametrize("text", GARBAGE, ids=[f"garbage{i}" for i in range(len(GARBAGE))])
def test_pure_functions_never_raise(text):
    src = lsp.Source.of(text)
    lsp.diagnostics(text)
    lsp.formatting(text)
    for line, content in enumerate(src.lines[:3]):
        for character in range(0, min(len(content), 80) + 2, 3):
            lsp.hover(text, pos(line, character))
            lsp.completions(text, pos(line, character))
    lsp.hover(text, pos(99, 99))
    lsp.completions(text, pos(99, 99))


def test_cli_without_pygls_exits_2(tmp_path):
    blocker = tmp_path / "pygls.py"
    blocker.write_text("raise ImportError('no pygls here')\n")
    proc = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); from vgc.cli import main; "
         "sys.exit(main(['lsp']))"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "vgc: error: the language server needs pygls 2: pip install 'vgc[lsp]'"


# ---------------------------------------------------------------- the model: pragma and settings (no server)


def test_pragma():
    text = "# a guide\nparam m = 0.0  # vg: model=models.py:eight_schools data=\"my data.json\" guide=g\n"
    p = lsp.find_pragma(lsp.Source.of(text))
    assert (p.model, p.data, p.guide, p.problems) == ("models.py:eight_schools", "my data.json", "g", ())
    assert p.span == Span(2, 16, 2, 79)  # from its `#` to the end of the line
    assert lsp.find_pragma(lsp.Source.of("#vg: model=m.py:f\n")).model == "m.py:f"
    assert lsp.find_pragma(lsp.Source.of("x ~ Normal(0, 1)  # a comment: vg: model=m.py:f\n")) is None
    assert lsp.find_pragma(lsp.Source.of("param m = 0.0\n")) is None
    first = lsp.find_pragma(lsp.Source.of("# vg: model=a.py:f\n# vg: model=b.py:g\n"))
    assert first.model == "a.py:f" and first.span == Span(1, 1, 1, 19)
    bad = lsp.find_pragma(lsp.Source.of("# vg: modle=m.py:f data=d.json data=e.json oops\n"))
    assert bad.model is None and bad.data == "d.json"
    assert bad.problems == (
        "unknown key 'modle' (the keys are model, data, guide)",
        "'data' is given twice",
        "cannot read 'oops': write KEY=VALUE, a value with spaces in double quotes",
        "it names no model: `# vg: model=FILE.py:FUNCTION data=DATA.json`",
    )
    (d,) = lsp.diagnostics("# vg: data=d.json\nparam m = 0.0\nu ~ Normal(m, 1)\n")
    assert (d.code, d.severity, d.range) == (None, types.DiagnosticSeverity.Warning, rng(0, 0, 0, 17))
    assert d.message == "vg pragma: it names no model: `# vg: model=FILE.py:FUNCTION data=DATA.json`"


def test_client_settings():
    assert lsp.client_settings({"model": "m.py:f"}) == {"model": "m.py:f", "data": None}
    assert lsp.client_settings({"vg": {"model": "m.py:f", "data": "d.json", "server": {}}}) == {
        "model": "m.py:f", "data": "d.json"}
    assert lsp.client_settings({"vg": {"model": "", "data": 3}}) == {"model": None, "data": None}  # unset
    assert lsp.client_settings({"python": {"x": 1}}) is None  # about something else: ignored
    assert lsp.client_settings(None) is None and lsp.client_settings([1]) is None


def test_model_errors_are_one_diagnostic(tmp_path):
    """Problems found before anything is imported: a model not written FILE.py:FUNCTION, a missing file,
    several guides and no `guide=`, a settings model (reported on line 1, with where it came from)."""
    path = str(tmp_path / "g.vg")
    text = "# vg: model=models.py\nparam m = 0.0\nu ~ Normal(m, 1)\n"
    (d,) = lsp.diagnostics(text, path)
    assert (d.code, d.severity, d.range, d.source) == (None, types.DiagnosticSeverity.Error, rng(0, 0, 0, 21), "vgc")
    assert d.message == "cannot check against the model: the model must be written FILE.py:FUNCTION, got 'models.py'"
    (d,) = lsp.diagnostics(text.replace("models.py", "models.py:f"), path)
    assert d.message == f"cannot check against the model: cannot read {tmp_path / 'models.py'}: no such file"
    two = "# vg: model=models.py:f\nguide a { u ~ Normal(0, 1) }\nguide b { u ~ Normal(0, 1) }\n"
    assert [d.message for d in lsp.diagnostics(two, path) if d.code is None] == [
        "cannot check against the model: this file defines guides a, b\n"
        "hint: name the one to check: `guide=NAME` in the `# vg:` line"
    ]
    plain = "param m = 0.0\nu ~ Normal(m, 1)\n"
    (d,) = lsp.diagnostics(plain, path, settings={"model": "../models.py:f", "data": None})
    assert d.range == rng(0, 0, 0, 13)
    assert d.message == (
        f"cannot check against the model: cannot read {tmp_path.parent / 'models.py'}: no such file\n"
        "hint: the model comes from the editor's settings (vg.model, vg.data); a `# vg: model=...` line in this "
        "file overrides them"
    )
    broken = "# vg: model=models.py:f\nu ~ Normal(0, q)\n"  # compile errors: the model is not consulted
    assert [d.code for d in lsp.diagnostics(broken, path)] == ["VG201"]


def test_plain_documents_never_import_the_model_check():
    """jax (imported by vgc.modelcheck) takes seconds: a document without a model must not load it."""
    code = (
        "import sys\n"
        "from lsprotocol import types\n"
        "from vgc import lsp\n"
        "text = 'param m = 0.0; param s = 1.0 : positive\\nu ~ Normal(m, s)\\nx = exp(u)\\n'\n"
        "assert [d.code for d in lsp.diagnostics(text, '/tmp/plain.vg', settings={'model': None})] == []\n"
        "assert lsp.diagnostics('# vg: data=d.json\\n' + text)[0].message.startswith('vg pragma:')\n"
        "assert 'support' in lsp.hover(text, types.Position(line=2, character=0)).contents.value\n"
        "lsp.completions(text, types.Position(line=2, character=4))\n"
        "print(sorted(m for m in ('vgc.modelcheck', 'jax', 'numpyro') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# ---------------------------------------------------------------- the server over stdio


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "vgc", "lsp"]),
)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def diagnostics_after(client: LanguageClient, send) -> None:
    waiter = client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    send()
    await asyncio.wait_for(waiter, TIMEOUT)


def open_doc(client: LanguageClient, uri: str, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="vg", version=1, text=text)
        )
    )


@lsp_test
async def test_server_diagnostics_open_change_close(client: LanguageClient):
    uri = "file:///tmp/vgc-lsp/two_errors.vg"
    text = "param 𝜃 = 0.0\nu ~ Normal(𝜃, q)\nx = 𝜃 + u\ny ~ Nromal(𝜃, 1)\n"
    await diagnostics_after(client, lambda: open_doc(client, uri, text))
    got = [(d.code, d.range, d.severity, d.source) for d in client.diagnostics[uri]]
    error = types.DiagnosticSeverity.Error
    assert got == [
        ("VG201", rng(1, 15, 1, 16), error, "vgc"),  # after 𝜃 (2 UTF-16 units): column 15, not 14
        ("VG204", rng(3, 4, 3, 10), error, "vgc"),
    ]
    assert client.diagnostics[uri][1].message == "unknown distribution 'Nromal'\nhint: did you mean 'Normal'?"

    fixed = text.replace("Nromal", "Normal")
    await diagnostics_after(
        client,
        lambda: client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
            )
        ),
    )
    assert [(d.code, d.range) for d in client.diagnostics[uri]] == [("VG201", rng(1, 15, 1, 16))]

    await diagnostics_after(
        client,
        lambda: client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        ),
    )
    assert list(client.diagnostics[uri]) == []


@lsp_test
async def test_server_hover(client: LanguageClient):
    uri = "file:///tmp/vgc-lsp/hover.vg"
    text = "param m = 0.0; param s = 1.0 : positive\nu ~ Normal(0, 1)\nx = m + s * u\n"
    await diagnostics_after(client, lambda: open_doc(client, uri, text))
    doc = types.TextDocumentIdentifier(uri=uri)
    normal = await client.text_document_hover_async(types.HoverParams(text_document=doc, position=pos(1, 6)))
    assert normal.contents.kind == types.MarkupKind.Markdown
    assert "Normal(loc=…, scale=…)" in normal.contents.value
    assert normal.range == rng(1, 4, 1, 10)
    x = await client.text_document_hover_async(types.HoverParams(text_document=doc, position=pos(2, 0)))
    assert "log|det J| = log|s|" in x.contents.value and "`u`" in x.contents.value
    none = await client.text_document_hover_async(types.HoverParams(text_document=doc, position=pos(2, 2)))
    assert none is None


@lsp_test
async def test_server_hover_on_a_plate_site(client: LanguageClient):
    uri = "file:///tmp/vgc-lsp/plates.vg"
    await diagnostics_after(client, lambda: open_doc(client, uri, PLATES))
    assert list(client.diagnostics[uri]) == []
    doc = types.TextDocumentIdentifier(uri=uri)
    theta = await client.text_document_hover_async(types.HoverParams(text_document=doc, position=pos(5, 6)))
    assert "Site `theta`: batch shape (J,) from plate `J` (dim -1); event shape scalar (event_dim 0)." in \
        theta.contents.value
    assert theta.range == rng(5, 4, 5, 9)
    plate = await client.text_document_hover_async(types.HoverParams(text_document=doc, position=pos(11, 9)))
    assert "subsample 100 of len(y)" in plate.contents.value and plate.range == rng(11, 8, 11, 12)
    result = await client.text_document_completion_async(types.CompletionParams(text_document=doc,
                                                                                position=pos(11, 21)))
    assert [i.label for i in result.items] == ["subsample=", "dim="]


@lsp_test
async def test_server_completion(client: LanguageClient):
    uri = "file:///tmp/vgc-lsp/complete.vg"
    await diagnostics_after(client, lambda: open_doc(client, uri, GUIDE))
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(4, 14))
    )
    got = {i.label for i in result.items}
    assert {"Normal", "exp", "m", "s", "u", "data"} <= got
    assert "later" not in got


@lsp_test
async def test_server_formatting(client: LanguageClient):
    uri = "file:///tmp/vgc-lsp/format.vg"
    text = "param m=0.0;param s=1.0:positive\nu~Normal(m,s)\nx=m+s*u\n"
    await diagnostics_after(client, lambda: open_doc(client, uri, text))
    options = types.FormattingOptions(tab_size=2, insert_spaces=True)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=types.TextDocumentIdentifier(uri=uri), options=options)
    )
    assert [(e.range, e.new_text) for e in edits] == [(rng(0, 0, 3, 0), format_source(text).text)]


@lsp_test
async def test_server_survives_garbage(client: LanguageClient):
    uri = "file:///tmp/vgc-lsp/garbage.vg"
    text = GARBAGE[1] + "\n" + GARBAGE[3]
    await diagnostics_after(client, lambda: open_doc(client, uri, text))
    assert client.diagnostics[uri]
    doc = types.TextDocumentIdentifier(uri=uri)
    for p in (pos(0, 0), pos(0, 13), pos(1, 400), pos(50, 3)):
        await client.text_document_hover_async(types.HoverParams(text_document=doc, position=p))
        await client.text_document_completion_async(types.CompletionParams(text_document=doc, position=p))
    options = types.FormattingOptions(tab_size=2, insert_spaces=True)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc, options=options)
    )
    assert not edits


@lsp_test
async def test_server_logs_a_failing_request_and_goes_on(client: LanguageClient):
    missing = types.TextDocumentIdentifier(uri="file:///nonexistent/vgc-lsp/never_opened.vg")
    before = len(client.log_messages)
    assert await client.text_document_hover_async(types.HoverParams(text_document=missing, position=pos(0, 0))) is None
    errors = [m for m in client.log_messages[before:] if m.type == types.MessageType.Error]
    assert errors and errors[0].message.startswith("vgc: on_hover failed: ")
    uri = "file:///tmp/vgc-lsp/after_failure.vg"
    await diagnostics_after(client, lambda: open_doc(client, uri, "u ~ Normal(0, q)\n"))
    assert [d.code for d in client.diagnostics[uri]] == ["VG201"]


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "vgc", "lsp"]),
)
async def client_utf32(lsp_client: LanguageClient):
    general = types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf32])
    result = await lsp_client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(general=general))
    )
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf32
    yield
    await lsp_client.shutdown_session()


@lsp_test
async def test_server_honours_the_negotiated_position_encoding(client_utf32: LanguageClient):
    uri = "file:///tmp/vgc-lsp/utf32.vg"
    await diagnostics_after(client_utf32, lambda: open_doc(client_utf32, uri, "param 𝜃 = 0.0\nu ~ Normal(𝜃, q)\n"))
    assert [(d.code, d.range) for d in client_utf32.diagnostics[uri]] == [("VG201", rng(1, 14, 1, 15))]
    hover = await client_utf32.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(1, 12))
    )
    assert "**param** `θ`" in hover.contents.value and hover.range == rng(1, 11, 1, 12)


# ---------------------------------------------------------------- the server checks against a model

MODEL_TIMEOUT = 90  # the first model check imports jax (seconds)

# NumPyro's eight schools (tests/model_cases.py), noting each import and run in calls.log and printing (the
# server must keep the model's output off the protocol's stdout).
MODEL_PY = """\
import os

import numpyro
import numpyro.distributions as dist

LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.log")


def note(what):
    with open(LOG, "a") as f:
        f.write(what + "\\n")


note("import")
print("the model prints when imported")


def eight_schools(J, sigma, y=None):
    note("trace")
    print("the model prints when run")
    mean = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    spread = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("J", J):
        effect = numpyro.sample("theta", dist.Normal(mean, spread))
        numpyro.sample("obs", dist.Normal(effect, sigma), obs=y)
"""
DATA = {"J": 8, "sigma": [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0],
        "y": [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]}
PRAGMA = "# vg: model=models.py:eight_schools data=data.json"
EIGHT = """\
guide eight_schools(J, sigma, y) {
  param mu_loc = 0.0; param mu_scale = 1.0 : positive
  mu ~ Normal(mu_loc, mu_scale)
  param m = 0.0; param s = 1.0 : positive
  tau ~ Normal(m, s)
  plate J(J) {
    param th_loc = 0.0; param th_scale = 1.0 : positive
    theta ~ Normal(th_loc, th_scale)
  }
}
"""
TAU_OUTSIDE = (
    "'tau' has support real in the guide, but positive in the model (HalfCauchy): the model's log-density would "
    "be evaluated outside its support (a NaN or -inf loss)\n"
    "hint: map a real draw onto positive values: `v ~ Normal(m, s); tau = exp(v)` (or `tau ~ LogNormal(m, s)`)"
)


def write_model(folder) -> None:
    (folder / "models.py").write_text(MODEL_PY)
    (folder / "data.json").write_text(json.dumps(DATA))


def calls(folder) -> list[str]:
    log = folder / "calls.log"
    return log.read_text().split() if log.exists() else []


def change_doc(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def published(client: LanguageClient, send, timeout: float = MODEL_TIMEOUT) -> None:
    waiter = client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    send()
    await asyncio.wait_for(waiter, timeout)


def found(client: LanguageClient, uri: str) -> list[tuple]:
    return [(d.code, d.range, d.severity) for d in client.diagnostics[uri]]


ERROR = types.DiagnosticSeverity.Error


@lsp_test
async def test_server_checks_against_the_pragma_model(client: LanguageClient, tmp_path):
    write_model(tmp_path)
    uri = (tmp_path / "eight.vg").as_uri()
    text = PRAGMA + "\n" + EIGHT
    await published(client, lambda: open_doc(client, uri, text))
    assert found(client, uri) == [("VG805", rng(5, 2, 5, 20), ERROR)]  # `tau ~ Normal(m, s)`, line 6
    assert client.diagnostics[uri][0].message == TAU_OUTSIDE
    fixed = text.replace("tau ~ Normal(m, s)", "v ~ Normal(m, s); tau = exp(v)")
    await published(client, lambda: change_doc(client, uri, 2, fixed))
    assert found(client, uri) == []
    misspelt = text.replace("tau ~", "tua ~")
    await published(client, lambda: change_doc(client, uri, 3, misspelt))
    assert found(client, uri) == [("VG802", rng(5, 2, 5, 20), ERROR)]
    assert client.diagnostics[uri][0].message.endswith("\nhint: did you mean 'tau'?")
    assert calls(tmp_path) == ["import", "trace"]  # once for the three checks
    # a changed model file is imported and traced again
    stat = os.stat(tmp_path / "models.py")
    os.utime(tmp_path / "models.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    await published(client, lambda: change_doc(client, uri, 4, fixed))
    assert found(client, uri) == [] and calls(tmp_path) == ["import", "trace", "import", "trace"]
    # the model's own diagnostics and the compiler's, together and in order
    warned = fixed.replace("param mu_scale = 1.0 : positive", "param mu_scale = 1.0")
    await published(client, lambda: change_doc(client, uri, 5, warned))
    assert [d.code for d in client.diagnostics[uri]] == ["VG602"]
    await published(client, lambda: change_doc(client, uri, 6, warned.replace("tau = exp", "tau = -exp")))
    assert [d.code for d in client.diagnostics[uri]] == ["VG602", "VG805"]


@lsp_test
async def test_server_reports_a_broken_model_once_and_goes_on(client: LanguageClient, tmp_path):
    write_model(tmp_path)
    uri = (tmp_path / "broken.vg").as_uri()
    pragma = "# vg: model=models.py:eight_school data=data.json"
    await published(client, lambda: open_doc(client, uri, pragma + "\n" + EIGHT))
    assert found(client, uri) == [(None, rng(0, 0, 0, len(pragma)), ERROR)]
    assert client.diagnostics[uri][0].message == (
        f"cannot check against the model: {tmp_path / 'models.py'} has no function named 'eight_school'; "
        "did you mean 'eight_schools'?"
    )
    doc = types.TextDocumentIdentifier(uri=uri)
    hover = await client.text_document_hover_async(types.HoverParams(text_document=doc, position=pos(5, 2)))
    assert hover.contents.value.endswith("support: `real`")
    # the model raising (data without `sigma`): its exception and its line
    (tmp_path / "partial.json").write_text(json.dumps({"J": 8}))
    raising = PRAGMA.replace("data.json", "partial.json")
    await published(client, lambda: change_doc(client, uri, 2, raising + "\n" + EIGHT))
    assert found(client, uri) == [(None, rng(0, 0, 0, len(raising)), ERROR)]
    assert client.diagnostics[uri][0].message == (
        "cannot check against the model: the model raised TypeError: eight_schools() missing 1 required "
        "positional argument: 'sigma'"
    )
    hover = await client.text_document_hover_async(types.HoverParams(text_document=doc, position=pos(5, 2)))
    assert hover.contents.value.endswith("support: `real`")


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "vgc", "lsp"]),
)
async def client_settings(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        initialization_options={"model": "models.py:eight_schools", "data": "data.json"},
    ))
    yield
    await lsp_client.shutdown_session()


@lsp_test
async def test_server_takes_the_model_from_settings(client_settings: LanguageClient, tmp_path):
    client = client_settings
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    write_model(tmp_path / "with")
    # relative to each document's folder
    uri = (tmp_path / "with" / "eight.vg").as_uri()
    await published(client, lambda: open_doc(client, uri, EIGHT))
    assert found(client, uri) == [("VG805", rng(4, 2, 4, 20), ERROR)]
    assert client.diagnostics[uri][0].message == TAU_OUTSIDE
    # no models.py there: one error on line 1
    lonely = (tmp_path / "without" / "eight.vg").as_uri()
    await published(client, lambda: open_doc(client, lonely, EIGHT))
    assert found(client, lonely) == [(None, rng(0, 0, 0, 34), ERROR)]
    assert client.diagnostics[lonely][0].message.startswith(
        f"cannot check against the model: cannot read {tmp_path / 'without' / 'models.py'}: no such file\n"
        "hint: the model comes from the editor's settings"
    )
    # a pragma wins, data and all (it names none here, so the model misses its arguments)
    await published(client, lambda: change_doc(client, uri, 2, "# vg: model=models.py:eight_schools\n" + EIGHT))
    assert [d.message.split(":")[1] for d in client.diagnostics[uri]] == [" the model raised TypeError"]
    await published(client, lambda: client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))))
    # new settings re-check the open documents; an empty model turns the check off
    await published(client, lambda: client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"vg": {"model": "", "server": {"command": ["vgc", "lsp"]}}})))
    assert found(client, lonely) == []


VAE = """guide vae(x, batch) {
  net enc = mlp(64, 128, 2 * 8, act=softplus)
  plate data(len(x), subsample=batch) {
    h = enc(x[data])
    z ~ Normal(h[0:8], exp(h[8:16]))
  }
}
"""


def test_hover_on_a_network_shows_its_layers_widths_and_params():
    at_declaration = hover_text(VAE, 1, 7)
    at_application = hover_text(VAE, 3, 9)
    assert at_declaration == at_application
    assert "**network** `enc`: mlp 64 → 128 → 16, softplus, 10,384 params." in at_declaration
    assert "`enc.w0` (64, 128)" in at_declaration and "`enc.b1` (16,)" in at_declaration
    assert "multilayer perceptron" in hover_text(VAE, 1, 13)  # `mlp`
    assert hover_text(VAE, 1, 2).startswith("**net** (keyword)")


def test_completion_of_activations_and_network_names():
    text = "guide g(x) {\n  net enc = mlp(4, 2, act=\n}\n"
    assert labels(text, 1, 26) == ["relu", "softplus", "tanh", "sigmoid", "elu", "gelu", "silu"]
    inside = labels(VAE, 4, 4)
    assert "enc" in inside and "mlp" in inside and "concat" in inside
    assert {i.label: i.detail for i in lsp.completions(VAE, pos(4, 4))}["enc"] == "network"


def test_hover_shows_a_sites_numpyro_name():
    text = 'guide g() {\n  param m = 0.0\n  lam ~ LogNormal(m, 1) as "lambda"\n}\n'
    assert 'Site `lam` (NumPyro name `"lambda"`): batch shape ()' in hover_text(text, 2, 2)
    assert "NumPyro name" not in hover_text(text, 1, 8)  # a site named as in VG says nothing more
