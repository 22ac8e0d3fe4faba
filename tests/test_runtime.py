"""The embedded API and the generated guides at run time.

The strongest check of the transform analysis: every closed-form log-Jacobian
must equal the one jax.jacfwd + slogdet computes for the same map (the
compiler's ``numeric_jacobians`` mode), on the same draws, in float64.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import numpyro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpyro.handlers import seed, substitute, trace

import vgc
from vgc import compiler, runtime

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = sorted((ROOT / "tests" / "cases" / "good").glob("*.vg")) + sorted((ROOT / "examples").glob("*.vg"))


def _guides(source: str, numeric: bool) -> dict:
    result = compiler.run(source, "<test>", numeric_jacobians=numeric)
    assert result.ok
    ns = runtime._execute(result.code, "<test>")
    return {name: ns[name] for name in result.guides}


def _log_q(fn, rng_seed: int, args=()):
    tr = trace(seed(fn, rng_seed)).get_trace(*args)
    sites = {k: v for k, v in tr.items() if v["type"] == "sample"}
    total = sum(float(np.sum(v["fn"].log_prob(v["value"]))) for v in sites.values())
    return total, {k: np.asarray(v["value"]) for k, v in sites.items()}


# Inside a plate vgc derives only closed forms (numeric Jacobians are VG410 there): the plate programs are
# checked per element against the change-of-variables formula below instead.
UNPLATED = [p for p in PROGRAMS if "plate " not in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("vg", UNPLATED, ids=lambda p: p.stem)
def test_closed_form_log_jacobians_match_jacfwd(vg: Path):
    source = vg.read_text(encoding="utf-8")
    with jax.enable_x64(True):
        closed, numeric = _guides(source, False), _guides(source, True)
        for name in closed:
            args = (np.array([1.0, 2.0]),) if f"{name}(data)" in source else ()
            for s in range(5):
                lq1, v1 = _log_q(closed[name], s, args)
                lq2, v2 = _log_q(numeric[name], s, args)
                assert np.isfinite(lq1)
                assert v1.keys() == v2.keys()
                assert all(np.allclose(v1[k], v2[k]) for k in v1)
                assert lq1 == pytest.approx(lq2, rel=1e-9, abs=1e-9), (name, s)


def test_per_element_log_jacobian_in_a_plate():
    """`theta = loc + scale * e + g` in plate groups(K): log q(theta) = Σ_k [log N(e_k) - log scale_k]."""
    source = (ROOT / "tests" / "cases" / "good" / "plate_groups.vg").read_text(encoding="utf-8")
    (fn,) = _guides(source, False).values()
    params = {"g": 0.3, "loc": np.array([0.0, 1.0, -2.0]), "scale": np.array([0.5, 2.0, 3.0])}
    with jax.enable_x64(True):
        tr = trace(substitute(seed(fn, 4), params)).get_trace(3)
        e, theta = np.asarray(tr["e"]["value"]), np.asarray(tr["theta"]["value"])
        np.testing.assert_allclose(theta, params["loc"] + params["scale"] * e + params["g"], rtol=1e-12)
        delta = np.asarray(tr["theta"]["fn"].log_prob(tr["theta"]["value"]))
        assert delta.shape == (3,)  # one log-density per element, not summed over the plate
        np.testing.assert_allclose(delta, -np.log(params["scale"]), rtol=1e-12)
        assert tr["e"]["infer"] == {"is_auxiliary": True}
        assert tr["e"]["fn"].batch_shape == (3,) and tr["e"]["fn"].event_shape == ()


def test_per_entry_log_jacobian_of_batch_draws():
    """`x = a + c * e` with `e ~ ... : batch`: event dim 0, log q(x_i) = log N(e_i) - log c_i per entry."""
    source = (ROOT / "tests" / "cases" / "good" / "batch_transforms.vg").read_text(encoding="utf-8")
    (fn,) = _guides(source, False).values()
    c = np.arange(1.0, 10.0)
    with jax.enable_x64(True):
        tr = trace(substitute(seed(fn, 2), {"c": c})).get_trace()
        x, w = tr["x"]["fn"], tr["w"]["fn"]
        assert (x.batch_shape, x.event_shape, w.batch_shape, w.event_shape) == ((9,), (), (3,), ())
        np.testing.assert_allclose(np.asarray(x.log_prob(tr["x"]["value"])), -np.log(c), rtol=1e-12)
        e2 = np.asarray(tr["e2"]["value"])
        np.testing.assert_allclose(np.asarray(w.log_prob(tr["w"]["value"])), -np.log(np.cosh(e2)), rtol=1e-10)
        assert tr["e"]["fn"].batch_shape == (9,) and tr["e"]["fn"].event_shape == ()


def test_batch_k_draws_have_numpyros_transformed_log_density_per_entry():
    """`: batch(1)`: the site keeps one batch dimension and its transforms act per batch entry. Each Delta's
    log-density is NumPyro's TransformedDistribution of the base draw, one value per batch entry (float64,
    exact to 1e-10): four 3x3 correlation Cholesky factors, three positive 2-vectors, two ordered 5-vectors.
    Summing the log-Jacobian over the batch entries too (the shape a plain draw would give) is off."""
    from numpyro.distributions import TransformedDistribution
    from numpyro.distributions import transforms as T

    source = (ROOT / "tests" / "cases" / "good" / "batch_dims.vg").read_text(encoding="utf-8")
    guides = _guides(source, False)
    fn = guides["batch_dims"]
    with jax.enable_x64(True):
        tr = trace(seed(fn, 3)).get_trace()
        shapes = {k: (tr[k]["fn"].batch_shape, tr[k]["fn"].event_shape) for k in ("e", "L", "u", "x", "t", "p")}
        assert shapes == {"e": ((4,), (3,)), "L": ((4,), (3, 3)), "u": ((3,), (2,)), "x": ((3,), (2,)),
                          "t": ((2,), (5,)), "p": ((2,), (4, 3))}
        # the compiler's list of sites (hover text, vgc fit's tables) says the same
        from vgc import ir

        listed = {x.name: (x.batch_dims, x.event_shape) for x in ir.sites(compiler.run(source, "b.vg").irs[0])}
        assert all(listed[k] == v for k, v in shapes.items()), listed
        # `: batch` of an argument's shape: all its dimensions are batch dimensions, whatever they are
        y = np.arange(6.0).reshape(2, 3)
        x = trace(seed(guides["batch_of_data"], 0)).get_trace(y)["x"]["fn"]
        assert (x.batch_shape, x.event_shape) == ((2, 3), ())
        p = {k: np.asarray(tr[k]["value"]) for k in ("l", "s", "m", "w", "o")}
        import numpyro.distributions as dist

        expected = {
            "L": TransformedDistribution(dist.Normal(p["l"], p["s"]).to_event(1), T.CorrCholeskyTransform()),
            "x": TransformedDistribution(dist.Normal(p["m"], 1.0), [T.AffineTransform(1.0, p["w"]),
                                                                      T.ExpTransform()]).to_event(1),
            "t": TransformedDistribution(dist.Normal(p["o"], 1.0).to_event(1), T.OrderedTransform()),
        }
        for name, want in expected.items():
            drawn = tr[{"L": "e", "x": "u", "t": "v"}[name]]
            base = np.asarray(drawn["fn"].log_prob(drawn["value"]))  # log q of the auxiliary draw, per entry
            delta = np.asarray(tr[name]["fn"].log_prob(tr[name]["value"]))  # -log|det J| per entry
            exact = np.asarray(want.log_prob(tr[name]["value"]))
            assert base.shape == delta.shape == exact.shape == shapes[name][0]
            np.testing.assert_allclose(base + delta, exact, rtol=1e-10)
            assert not np.allclose(base + delta.sum(), exact)  # the log-Jacobian summed over the entries too


def test_batch_draws_inside_a_plate_are_numpyros_sites_and_densities_per_entry():
    """Inside `plate p(N, dim=-2)` a `: batch` draw's own dimensions take dim -1: each site has NumPyro's batch
    shape (N, 3) (or (N, 4)), and log q of each transform is NumPyro's TransformedDistribution per entry (float64,
    1e-10). Left in VG's layout, (N, 1, 3), the plate would broadcast the draw to (N, N, 3)."""
    import numpyro.distributions as dist
    from numpyro.distributions import TransformedDistribution
    from numpyro.distributions import transforms as T

    source = (ROOT / "tests" / "cases" / "good" / "batch_in_plates.vg").read_text(encoding="utf-8")
    (fn,) = _guides(source, False).values()
    with jax.enable_x64(True):
        tr = trace(seed(fn, 1)).get_trace(2)
        shapes = {k: (tr[k]["fn"].batch_shape, tr[k]["fn"].event_shape) for k in ("u", "x", "e", "y", "q", "v", "t")}
        assert shapes == {"u": ((2, 3), (2,)), "x": ((2, 3), (2,)), "e": ((2, 3), ()), "y": ((2, 3), ()),
                          "q": ((2, 3), (4,)), "v": ((2, 4), (2,)), "t": ((2, 4), (2,))}
        m, sc, w, o, lo = (np.asarray(tr[k]["value"]) for k in ("m", "sc", "w", "o", "l"))
        assert m.shape == (2, 1, 3, 2) and lo.shape == (2, 1, 3)  # params per element, in VG's layout
        expected = {
            "x": ("u", TransformedDistribution(dist.Normal(m[:, 0], sc[:, 0, None, None]),
                                               [T.AffineTransform(1.0, w[0]), T.ExpTransform()]).to_event(1)),
            "y": ("e", TransformedDistribution(dist.Normal(lo[:, 0], 1.0), T.AffineTransform(0.0, 2.0))),
            "t": ("v", TransformedDistribution(dist.Normal(o[:, 0], 1.0).to_event(1), T.OrderedTransform())),
        }
        for name, (drawn, want) in expected.items():
            value = tr[name]["value"]
            got = np.asarray(tr[drawn]["fn"].log_prob(tr[drawn]["value"])) + np.asarray(tr[name]["fn"].log_prob(value))
            np.testing.assert_allclose(got, np.asarray(want.log_prob(value)), rtol=1e-10)
        # the sites are what the model check compares: NumPyro's own shapes, per element of the plate
        from vgc import ir

        # the arguments left in VG's layout, (N, 1, 3): the plate broadcasts the draw to (N, N, 3)
        def layout_as_is():
            with numpyro.plate("p", 2, dim=-2):
                numpyro.sample("e", dist.Normal(lo, 1.0))

        assert trace(seed(layout_as_is, 0)).get_trace()["e"]["fn"].batch_shape == (2, 2, 3)
        listed = {x.name: (x.batch_axes(), x.batch_dims, x.event_shape)
                  for x in ir.sites(compiler.run(source, "b.vg").irs[0])}
        assert listed["x"] == (["p", 0], (3,), (2,)) and listed["t"] == (["p", 0], (4,), (2,))


def test_batch_draws_left_of_a_plates_dim_are_numpyros_sites_and_densities_per_entry():
    """Inside `plate p(N)` (dim -1) a `: batch` draw's own dimension takes dim -2, and inside `plate q(M,
    dim=-2)` two own dimensions take -3 and -1: each site has NumPyro's batch shape ((3, N), (5, M, 3)), log q of
    each transform is NumPyro's TransformedDistribution per entry of the params moved into that layout (float64,
    1e-10), and the names keep VG's layout for the rest of the guide. The params left as VG stores them, (N, 3),
    give another shape: the wrong variant fails."""
    import numpyro.distributions as dist
    from numpyro.distributions import TransformedDistribution
    from numpyro.distributions import transforms as T

    from vgc import ir

    source = (ROOT / "tests" / "cases" / "good" / "batch_beyond_plates.vg").read_text(encoding="utf-8")
    (fn,) = _guides(source, False).values()
    n, m = 2, 4
    with jax.enable_x64(True):
        tr = trace(seed(fn, 1)).get_trace(n, m)
        shapes = {x: (tr[x]["fn"].batch_shape, tr[x]["fn"].event_shape) for x in "eygvtdzw"}
        assert shapes == {"e": ((3, n), ()), "y": ((3, n), ()), "g": ((3, n), ()), "v": ((3, n), (2,)),
                          "t": ((3, n), (2,)), "d": ((3, n), (4,)), "z": ((5, m, 3), ()), "w": ((5, m, 3), ())}
        loc, sc, o, a, k = (np.asarray(tr[x]["value"]) for x in ("m", "sc", "o", "a", "k"))
        assert loc.shape == (n, 3) and o.shape == (n, 3, 2) and a.shape == (m, 1, 5, 3)  # VG's layout
        expected = {
            "y": ("e", TransformedDistribution(dist.Normal(loc.T, sc),
                                               [T.AffineTransform(1.0, 2.0), T.ExpTransform()])),
            "t": ("v", TransformedDistribution(dist.Normal(o.transpose(1, 0, 2), 1.0).to_event(1),
                                               T.OrderedTransform())),
            "w": ("z", TransformedDistribution(dist.Normal(a[:, 0].transpose(1, 0, 2), 1.0), T.ExpTransform())),
        }
        for name, (drawn, want) in expected.items():
            value = tr[name]["value"]
            got = np.asarray(tr[drawn]["fn"].log_prob(tr[drawn]["value"])) + np.asarray(tr[name]["fn"].log_prob(value))
            np.testing.assert_allclose(got, np.asarray(want.log_prob(value)), rtol=1e-10)
        # k, the same for every element, moves too: (3,) would broadcast against the plate's dim -1
        np.testing.assert_array_equal(np.asarray(tr["g"]["fn"].base_dist.loc), k[:, None])
        np.testing.assert_allclose(np.asarray(tr["d"]["fn"].concentration), np.ones((3, n, 4)))

        def layout_as_is():  # the wrong variant: VG's layout, (N, 3), given to NumPyro under the plate at dim -1
            with numpyro.plate("p", n):
                numpyro.sample("e", dist.Normal(loc, sc[:, None]))

        with pytest.raises(ValueError, match="Incompatible shapes for broadcasting"):
            seed(layout_as_is, 0)()
        listed = {x.name: (x.batch_axes(), x.batch_shape) for x in ir.sites(compiler.run(source, "b.vg").irs[0])}
        assert listed["e"] == ([0, "p"], None) and listed["z"] == ([0, "q", 1], None)  # sizes from the arguments


def _subset_counts(sub, size: int, k: int, n: int) -> dict:
    keys = jax.random.split(jax.random.PRNGKey(0), n)
    draws = np.asarray(jax.vmap(lambda key: seed(lambda: sub(size, k), key)())(keys))
    assert draws.shape == (n, k)
    counts: dict = {}
    for d in draws:
        key = tuple(sorted(d.tolist()))
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_subsample_is_uniform_over_subsets_and_the_plate_uses_it():
    """The generated `_subsample` (Floyd's algorithm) gives k distinct indices, each of the C(size, k) subsets
    equally often (chi-square over 15 subsets, 30,000 draws); a sampler that ignores collisions fails."""
    import math
    from itertools import combinations

    source = (ROOT / "tests" / "cases" / "good" / "plate_local_means.vg").read_text(encoding="utf-8")
    ns = runtime._execute(compiler.run(source, "<test>").code, "<test>")
    n, subsets = 30_000, list(combinations(range(6), 2))

    def chi2(counts):
        return sum((counts.get(s, 0) - n / len(subsets)) ** 2 / (n / len(subsets)) for s in subsets)

    counts = _subset_counts(ns["_subsample"], 6, 2, n)
    assert set(counts) == set(subsets)  # always distinct: no (i, i)
    assert chi2(counts) < 36.1  # the 0.999 quantile of chi-square with 14 degrees of freedom

    def naive(size, k):  # the wrong variant: independent draws, collisions kept
        return jax.random.randint(numpyro.prng_key(), (k,), 0, size)

    wrong = _subset_counts(naive, 6, 2, n)
    assert any(a == b for a, b in wrong) or chi2(wrong) > 36.1
    # the plate takes the indices: `data` in the trace is the subsample, `z` has one value per index
    y = np.arange(5000.0)
    tr = trace(seed(ns["local_means"], 3)).get_trace(y)
    idx = np.asarray(tr["data"]["value"])
    assert idx.shape == (100,) and len(set(idx.tolist())) == 100 and tr["z"]["value"].shape == (100,)
    assert tr["z"]["fn"].loc.shape == (100,)
    assert math.isclose(tr["z"]["scale"], 50.0)  # N / subsample: the plate scales the log-density


# Monotone maps of R onto their range, and affine steps: random compositions must still agree.
_UNARY = ["exp({})", "sinh({})", "arcsinh({})", "sigmoid({})", "softplus({})", "tanh({})", "-({})", "({})^3",
          "2^({})", "expm1({})"]
_AFFINE = ["0.5 * ({})", "({}) / 1.5", "({}) + 0.3", "1.2 - ({})", "m + s * ({})"]


@st.composite
def _maps(draw):
    expr = "u"
    for _ in range(draw(st.integers(1, 3))):
        expr = draw(st.sampled_from(_UNARY + _AFFINE)).format(expr)
    return expr


@settings(max_examples=40, deadline=None, derandomize=True)
@given(_maps())
def test_random_elementwise_compositions_match_jacfwd(expr):
    source = f"param m = 0.1\nparam s = 0.7 : positive\nu ~ Normal(m, s)\nx = {expr}\n"
    with jax.enable_x64(True):
        closed, numeric = _guides(source, False)["guide"], _guides(source, True)["guide"]
        for s in range(3):
            try:  # saturating maps (e.g. sigmoid(exp(exp(u)))) have no finite Jacobian to compare
                lq2, _ = _log_q(numeric, s)
            except ValueError:
                continue
            if np.isfinite(lq2):
                lq1, _ = _log_q(closed, s)
                assert lq1 == pytest.approx(lq2, rel=1e-7, abs=1e-7), expr


def test_location_scale_delta_carries_minus_log_s():
    g = vgc.guide("param m = 0.0\nparam s = 1.0 : positive\nu ~ Normal(0, 1)\nx = m + s * u\n")
    assert 'dist.Delta(m + s * u, log_density=-jnp.log(jnp.abs(s)))' in g.source
    tr = trace(substitute(seed(g, 3), data={"s": 2.5, "m": 0.0})).get_trace()
    assert float(tr["x"]["fn"].log_prob(tr["x"]["value"])) == pytest.approx(-np.log(2.5), rel=1e-6)
    assert tr["u"]["infer"] == {"is_auxiliary": True}


def test_closed_forms_in_generated_code():
    rot = vgc.compile("param t = 0.0 : real\nu1 ~ Normal(t, 1); u2 ~ Cauchy(0, 1)\nx = rot(t) · [u1, u2]\n")
    assert "log_density=0.0, event_dim=1" in rot
    ex = vgc.compile("param m = 0.0\nu ~ Normal(m, 1)\nx = exp(u)\n")
    assert "dist.Delta(jnp.exp(u), log_density=-u)" in ex
    inv = vgc.compile("param A[2, 2] : lower_cholesky\nu ~ Normal([0, 0], 1)\nx = inv(A) · u\n")
    assert "log_density=jnp.linalg.slogdet(A)[1], event_dim=1" in inv


def test_guide_api_and_names():
    src = "guide a() {\n param m = 0.0\n x ~ Normal(m, 1)\n}\nguide b(data) {\n param m = 0.0\n x ~ Normal(m, 1)\n}\n"
    with pytest.raises(ValueError, match="a, b"):
        vgc.guide(src)
    gb = vgc.guide(src, name="b")
    assert gb.name == "b" and "def b(data=None):" in gb.source  # as the model may be called without it
    tr = trace(seed(gb, 0)).get_trace(np.zeros(3))
    assert set(tr) == {"m", "x"}
    with pytest.raises(ValueError, match="no guide named"):
        vgc.guide(src, name="c")
    assert vgc.load(ROOT / "examples" / "location_scale.vg").name == "location_scale"


def test_guide_runs_under_svi_init():
    g = vgc.load(ROOT / "examples" / "rotated_bimodal.vg")

    def model():
        numpyro.sample("x", numpyro.distributions.Normal(0, 1))
        numpyro.sample("y", numpyro.distributions.Normal(0, 1))

    svi = numpyro.infer.SVI(model, g, numpyro.optim.Adam(0.01), numpyro.infer.Trace_ELBO())
    state = svi.init(jax.random.PRNGKey(0))
    state, loss = svi.update(state)
    assert np.isfinite(float(loss))
    assert set(svi.get_params(state)) == {"b", "θ"}


def test_param_named_dist_does_not_shadow_the_distributions_module():
    g = vgc.guide("param dist = 0.5\nparam jnp = 1.0 : positive\nx ~ Normal(dist, jnp)\n")
    tr = trace(seed(g, 0)).get_trace()
    assert float(tr["dist"]["value"]) == 0.5 and float(tr["x"]["fn"].loc) == 0.5


def test_executed_code_can_import_only_jax_and_numpyro():
    with pytest.raises(ImportError, match="may import only"):
        runtime._execute("import os\n", "<t>")
    with pytest.raises(NameError):
        runtime._execute("open('x')\n", "<t>")


def test_source_text_never_reaches_the_generated_code():
    # Comments are dropped and statements are re-printed from the AST.
    src = 'param m = 0.0  # """; import os; os.system("x") \\\nx ~ Normal(m, 1)\n'
    code = vgc.compile(src)
    assert "os.system" not in code and "import os" not in code


def test_sigmoid_stays_inside_the_unit_interval_as_numpyro_keeps_it():
    """A draw far in the tail maps to 1 - eps, not 1: jax.nn.sigmoid(60.0) rounds to exactly 1.0 in float32,
    where a Beta model's log-density is -inf (the hmm_enum fit met it); NumPyro's SigmoidTransform clips."""
    import numpyro.distributions as dist
    from numpyro import handlers

    g = vgc.guide("guide g() {\n  param m = 0.0; param s = 1.0 : positive\n  r ~ Normal(m, s)\n  p = sigmoid(r)\n}")
    with handlers.seed(rng_seed=0), handlers.substitute(data={"m": 60.0, "s": 1.0}):
        tr = handlers.trace(g).get_trace()
    p, r = tr["p"]["value"], tr["r"]["value"]
    assert p == np.float32(1.0) - np.finfo(np.float32).eps
    assert np.isfinite(dist.Beta(2.0, 2.0).log_prob(p))
    assert float(jax.nn.sigmoid(r)) == 1.0 and not np.isfinite(dist.Beta(2.0, 2.0).log_prob(jax.nn.sigmoid(r)))
    # the log-Jacobian is still the exact one of the unclipped map
    assert np.isclose(float(tr["p"]["fn"].log_prob(p)), float(jax.nn.softplus(r) + jax.nn.softplus(-r)), rtol=1e-6)


@pytest.mark.parametrize("constraint,free", [("softplus_positive", np.log(np.expm1(0.1))), ("positive", np.log(0.1))])
def test_a_softplus_positive_param_is_stepped_as_autonormals_scale(constraint, free):
    """`: softplus_positive` is NumPyro's constraint of AutoNormal's scales: the optimizer holds y with
    0.1 = log(1 + e^y), y = -2.2522, where `: positive` holds log(0.1) = -2.3026 (vgc init writes the first)."""
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.infer.autoguide import AutoNormal

    def model():
        numpyro.sample("z", numpyro.distributions.Normal(0.0, 1.0))

    g = vgc.guide(f"guide g() {{\n  param m = 0.0; param s = 0.1 : {constraint}\n  z ~ Normal(m, s)\n}}\n")
    svi = SVI(model, g, numpyro.optim.Adam(0.01), Trace_ELBO())
    state = svi.init(jax.random.PRNGKey(0))
    np.testing.assert_allclose(svi.optim.get_params(state.optim_state)["s"], free, rtol=1e-6)
    assert float(svi.get_params(state)["s"]) == pytest.approx(0.1, rel=1e-6)
    auto = SVI(model, AutoNormal(model), numpyro.optim.Adam(0.01), Trace_ELBO())
    held = auto.optim.get_params(auto.init(jax.random.PRNGKey(0)).optim_state)["z_auto_scale"]
    assert (abs(float(held) - free) < 1e-6) == (constraint == "softplus_positive")
