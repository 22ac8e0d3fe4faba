"""Batched code generation inside plates, checked element by element.

A plate program is compiled once; its trace (float64, params set to distinct values per element) must
equal, for every element k, the same statements evaluated on element k alone: the values of every
Delta site, and its log-density against -log|det J| computed by jax.jacfwd of the per-element map.
This exercises the batched forms codegen writes only inside plates: size-1 axes for operands of lower
per-element rank, einsum for `·`, stacked vector literals, per-element `sum`/`diag`/`rot`, list targets,
`±` mixtures and conditional draws.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpyro.handlers import seed, substitute, trace

from vgc import compiler, runtime

K = 3

SOURCE = """\
guide batched(K) {
  param g[2] = [0.5, -0.5]
  plate groups(K) {
    param loc[2] = 0.0; param s = 1.0 : positive; param d[2] = 1.0 : positive; param t = 0.3
    u ~ Normal([0, 0], 1)
    x = rot(t) · (diag(d) · (s * u)) + loc + g
    v ~ Normal(0, 1); w ~ Normal(0, 1)
    [p, q] = [[1, 2], [0, 1]] · [v, sinh(w)] + [s, t]
    e ~ Normal(0, 1)
    r = exp(sum(loc) + s * e)
    m ~ Mix(Normal(±t, s))
    c ~ Normal(s * x, d)
  }
}
"""

PARAMS = {
    "g": np.array([0.5, -0.5]),
    "loc": np.array([[0.1, -0.2], [1.0, 0.5], [-1.5, 2.0]]),
    "s": np.array([0.5, 1.5, 2.5]),
    "d": np.array([[1.0, 2.0], [0.5, 0.25], [3.0, 1.0]]),
    "t": np.array([0.3, -1.1, 2.0]),
}


def _rot(t):
    return jnp.array([[jnp.cos(t), -jnp.sin(t)], [jnp.sin(t), jnp.cos(t)]])


def _x(u, k):
    p = PARAMS
    return _rot(p["t"][k]) @ (jnp.diag(p["d"][k]) @ (p["s"][k] * u)) + p["loc"][k] + p["g"]


def _pq(vw, k):
    p = PARAMS
    return jnp.array([[1.0, 2.0], [0.0, 1.0]]) @ jnp.array([vw[0], jnp.sinh(vw[1])]) + jnp.array([p["s"][k], p["t"][k]])


def _r(e, k):
    return jnp.exp(jnp.sum(PARAMS["loc"][k]) + PARAMS["s"][k] * e)


def _logdet(f, z, k):
    return float(jnp.linalg.slogdet(jnp.atleast_2d(jax.jacfwd(f)(z, k)))[1])


@pytest.fixture(scope="module")
def tr():
    result = compiler.run(SOURCE, "<test>")
    assert result.ok, result.diagnostics
    fn = runtime._execute(result.code, "<test>")["batched"]
    with jax.enable_x64(True):
        return trace(substitute(seed(fn, 7), PARAMS)).get_trace(K)


def test_sites_have_the_plate_as_batch_and_the_element_as_event(tr):
    shapes = {name: (site["fn"].batch_shape, site["fn"].event_shape) for name, site in tr.items()
              if site["type"] == "sample"}
    assert shapes == {
        "u": ((K,), (2,)), "x": ((K,), (2,)), "v": ((K,), ()), "w": ((K,), ()), "p": ((K,), ()),
        "q": ((K,), ()), "e": ((K,), ()), "r": ((K,), ()), "m": ((K,), ()), "c": ((K,), (2,)),
    }


def test_every_element_is_its_own_map_with_its_own_jacobian(tr):
    with jax.enable_x64(True):
        u, v, w, e = (np.asarray(tr[n]["value"]) for n in "uvwe")
        for k in range(K):
            np.testing.assert_allclose(tr["x"]["value"][k], _x(u[k], k), rtol=1e-12)
            lq = float(tr["x"]["fn"].log_prob(tr["x"]["value"])[k])
            assert lq == pytest.approx(-_logdet(_x, u[k], k), rel=1e-10)
            pq = _pq(np.array([v[k], w[k]]), k)
            np.testing.assert_allclose([tr["p"]["value"][k], tr["q"]["value"][k]], pq, rtol=1e-12)
            lq = float(tr["p"]["fn"].log_prob(tr["p"]["value"])[k] + tr["q"]["fn"].log_prob(tr["q"]["value"])[k])
            assert lq == pytest.approx(-_logdet(_pq, np.array([v[k], w[k]]), k), rel=1e-10)
            np.testing.assert_allclose(tr["r"]["value"][k], _r(e[k], k), rtol=1e-12)
            lq = float(tr["r"]["fn"].log_prob(tr["r"]["value"])[k])
            assert lq == pytest.approx(-_logdet(lambda z, k: jnp.atleast_1d(_r(z[0], k)), np.array([e[k]]), k),
                                       rel=1e-10)


def test_mixture_and_conditional_draw_use_each_elements_parameters(tr):
    with jax.enable_x64(True):
        m = tr["m"]["fn"]
        locs = np.asarray(m.component_distribution.loc)
        scales = np.broadcast_to(np.asarray(m.component_distribution.scale), locs.shape)
        np.testing.assert_allclose(locs, np.stack([PARAMS["t"], -PARAMS["t"]], axis=-1))
        np.testing.assert_allclose(scales, np.stack([PARAMS["s"], PARAMS["s"]], axis=-1))
        c = tr["c"]["fn"].base_dist
        np.testing.assert_allclose(c.loc, PARAMS["s"][:, None] * np.asarray(tr["x"]["value"]), rtol=1e-12)
        np.testing.assert_allclose(c.scale, PARAMS["d"])


@pytest.mark.parametrize("depth", [16, 17, 150])
def test_deeply_nested_plates_are_vg107_before_python_refuses_them(depth):
    """CPython refuses more than 20 nested blocks in a function: 16 nested plates compile and run, deeper
    nesting is VG107 at the first plate too deep (at the statement when the parse itself is too deep)."""
    src = "guide g(n) {\nparam m = 0.0\n" + "".join(f"plate p{i}(2) {{\n" for i in range(depth))
    src += "x ~ Normal(m, 1)\n" + "}\n" * depth + "}\n"
    result = compiler.run(src, "<test>")
    if depth == 16:
        assert result.ok and result.diagnostics == []
        fn = runtime._execute(result.code, "<test>")["g"]
        with jax.enable_x64(True):
            assert trace(seed(fn, 0)).get_trace(2)["x"]["fn"].batch_shape == (2,) * 16
    else:
        assert [d.code for d in result.diagnostics] == ["VG107"]
        assert result.diagnostics[0].span.line == (19 if depth == 17 else depth + 3)  # the plate; the statement
