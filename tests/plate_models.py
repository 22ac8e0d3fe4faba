"""Models, data and guides with plates, for tests/test_plates_svi.py and bench/plates_*.py.

Not a test module. For each case: a NumPyro model, its data, the VG guide source (the contract's
programs in vg-language.md, Part 2) and the same guide written by hand in NumPyro, mirroring what the
generated code is meant to be:

* a ``param`` inside a plate is ``numpyro.param(name, init broadcast to the full shape,
  event_dim=len(element shape))`` inside the ``numpyro.plate`` context: the full shape is the plate
  sizes at their dims followed by the element shape (a plate at dim -2 with nothing at dim -1 needs a
  size-1 axis: (N, 1), not (N,)), so that a subsampled plate hands back only the visited rows;
* a draw is ``numpyro.sample(name, dist.X(...))``, with ``.to_event(k)`` only for a vector (etc.)
  per element, never for plate dimensions;
* a transform is ``numpyro.sample(name, dist.Delta(value, log_density=-log|det J|))`` per element,
  its base draws auxiliary (``infer={"is_auxiliary": True}``).

The guides take the model's arguments positionally, as SVI passes them.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro import handlers
from numpyro.distributions import constraints
from numpyro.infer import SVI, Trace_ELBO
from numpyro.util import check_model_guide_match

AUX = {"is_auxiliary": True}


def full(value, shape):
    """A param's initial value broadcast to its full (plates + element) shape."""
    return jnp.broadcast_to(jnp.asarray(value), shape)


# ================================================================== 1. eight schools

J = 8
Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def eight_schools_args():
    """Arrays are built when called, so they are float64 under ``jax.enable_x64`` and float32 otherwise."""
    return (J, jnp.asarray(SIGMA), jnp.asarray(Y))


def eight_schools_model(J, sigma, y=None):
    """Eight schools (Rubin 1981), centred, as NumPyro's README writes it: mu ~ N(0, 5), tau ~ HalfCauchy(5), per
    school theta_j ~ N(mu, tau) and the observed effect y_j ~ N(theta_j, sigma_j)."""
    mean = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    spread = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("J", J):
        effect = numpyro.sample("theta", dist.Normal(mean, spread))
        numpyro.sample("obs", dist.Normal(effect, sigma), obs=y)


EIGHT_SCHOOLS_VG = """\
guide eight_schools(J, sigma, y) {
  param mu_loc = 0.0; param mu_scale = 1.0 : positive
  mu ~ Normal(mu_loc, mu_scale)
  param v_loc = 0.0; param v_scale = 0.5 : positive
  v ~ Normal(v_loc, v_scale)
  tau = exp(v)
  plate J(J) {
    param th_loc = 0.0; param th_scale = 1.0 : positive
    theta ~ Normal(th_loc, th_scale)
  }
}
"""


def _eight_schools_guide(J, jacobian: bool):
    mu_loc = numpyro.param("mu_loc", 0.0)
    mu_scale = numpyro.param("mu_scale", 1.0, constraint=constraints.positive)
    numpyro.sample("mu", dist.Normal(mu_loc, mu_scale))
    v_loc = numpyro.param("v_loc", 0.0)
    v_scale = numpyro.param("v_scale", 0.5, constraint=constraints.positive)
    v = numpyro.sample("v", dist.Normal(v_loc, v_scale), infer=AUX)
    # tau = exp(v): log|d tau / d v| = v, so log q(tau) = log q(v) - v
    numpyro.sample("tau", dist.Delta(jnp.exp(v), log_density=-v) if jacobian else dist.Delta(jnp.exp(v)))
    with numpyro.plate("J", J):
        th_loc = numpyro.param("th_loc", full(0.0, (J,)), event_dim=0)
        th_scale = numpyro.param("th_scale", full(1.0, (J,)), constraint=constraints.positive, event_dim=0)
        numpyro.sample("theta", dist.Normal(th_loc, th_scale))


def eight_schools_hand(J, sigma, y):
    """EIGHT_SCHOOLS_VG by hand."""
    _eight_schools_guide(J, jacobian=True)


def eight_schools_hand_no_jacobian(J, sigma, y):
    """Negative control: tau = exp(v) without its log-Jacobian (log_density = 0)."""
    _eight_schools_guide(J, jacobian=False)


# ================================================================== 2. subsampled local latents

N_LOCAL = 5000
SUBSAMPLE = 100
MU_TRUE = 0.0  # ȳ ≈ 0 keeps a·mu and d apart (see test_plates_svi.py, local_means)


def local_means_data(n: int = N_LOCAL, seed: int = 20261125) -> np.ndarray:
    """z_i ~ N(MU_TRUE, 1), y_i ~ N(z_i, 0.5²), fixed seed."""
    rng = np.random.default_rng(seed)
    z = MU_TRUE + rng.standard_normal(n)
    return z + 0.5 * rng.standard_normal(n)


def local_means_args(n: int = N_LOCAL):
    return (jnp.asarray(local_means_data(n)),)


def local_means_model(y):
    mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    with numpyro.plate("data", len(y), subsample_size=SUBSAMPLE) as idx:
        z = numpyro.sample("z", dist.Normal(mu, 1.0))
        numpyro.sample("y", dist.Normal(z, 0.5), obs=y[idx])


LOCAL_MEANS_VG = """\
guide local_means(y) {
  param m = 0.0; param s = 1.0 : positive
  mu ~ Normal(m, s)
  param a = 0.0; param c = 0.5; param d = 0.0; param w = 1.0 : positive
  plate data(len(y), subsample=100) {
    z ~ Normal(a * mu + c * y[data] + d, w)
  }
}
"""


def floyd_subsample(size, k):
    """What vgc's generated guides do for a subsampled plate (its `_subsample`): k distinct indices, every
    k-subset equally likely, in O(k^2) (Floyd's algorithm), handed to the plate with `substitute`.
    NumPyro's own CPU sampler shuffles all of arange(size) each step. The hand-written guides use the same
    draw so that they see the same indices and random stream as the generated ones."""
    if k * k >= size:  # no key drawn: NumPyro's plate draws the subsample
        return None
    key = numpyro.prng_key()
    if key is None:
        return None

    def step(i, chosen):
        j = size - k + i
        t = jax.random.randint(jax.random.fold_in(key, i), (), 0, j + 1)
        return chosen.at[i].set(jnp.where(jnp.any(chosen == t), j, t))

    return jax.lax.fori_loop(0, k, step, jnp.full((k,), -1))


@contextlib.contextmanager
def subsampled_plate(name, size, k):
    """``numpyro.plate(name, size, subsample_size=k)`` with the subsample drawn as vgc draws it."""
    sub = floyd_subsample(size, k)
    with handlers.substitute(data={name: sub}), numpyro.plate(name, size, subsample_size=k) as idx:
        yield idx


def _local_means_guide(y, shift: int):
    m = numpyro.param("m", 0.0)
    s = numpyro.param("s", 1.0, constraint=constraints.positive)
    mu = numpyro.sample("mu", dist.Normal(m, s))
    a = numpyro.param("a", 0.0)
    c = numpyro.param("c", 0.5)
    d = numpyro.param("d", 0.0)
    w = numpyro.param("w", 1.0, constraint=constraints.positive)
    with subsampled_plate("data", len(y), SUBSAMPLE) as idx:
        if shift:
            idx = (idx + shift) % len(y)
        numpyro.sample("z", dist.Normal(a * mu + c * y[idx] + d, w))


def local_means_hand(y):
    """LOCAL_MEANS_VG by hand: y[data] is y at the plate's subsample indices."""
    _local_means_guide(y, shift=0)


def local_means_hand_misaligned(y):
    """Negative control: reads the neighbouring datum y[(i + 1) % N] instead of y[i]."""
    _local_means_guide(y, shift=1)


MLP_MEANS_VG = """\
guide mlp_means(y) {
  param m = 0.0; param s = 1.0 : positive
  mu ~ Normal(m, s)
  net enc = mlp(2, 16, 2, act=tanh)
  plate data(len(y), subsample=100) {
    h = enc(concat([y[data]], [mu]))
    z ~ Normal(h[0], exp(h[1]))
  }
}
"""


def mlp_means_hand(y):
    """MLP_MEANS_VG by hand: the encoder's params (LeCun-normal weights from their keys, zero biases) and
    the network of (y_i, mu) per element."""
    from jax.nn.initializers import lecun_normal

    m = numpyro.param("m", 0.0)
    s = numpyro.param("s", 1.0, constraint=constraints.positive)
    mu = numpyro.sample("mu", dist.Normal(m, s))
    w0 = numpyro.param("enc.w0", lambda key: lecun_normal()(key, (2, 16)))
    b0 = numpyro.param("enc.b0", jnp.zeros(16))
    w1 = numpyro.param("enc.w1", lambda key: lecun_normal()(key, (16, 2)))
    b1 = numpyro.param("enc.b1", jnp.zeros(2))
    with subsampled_plate("data", len(y), SUBSAMPLE) as idx:
        x = jnp.stack([y[idx], jnp.broadcast_to(mu, idx.shape)], axis=-1)
        h = jnp.tanh(x @ w0 + b0) @ w1 + b1
        numpyro.sample("z", dist.Normal(h[..., 0], jnp.exp(h[..., 1])))


PER_DATUM_VG = """\
guide per_datum(y) {
  param m = 0.0; param s = 1.0 : positive
  mu ~ Normal(m, s)
  plate data(len(y), subsample=100) {
    param zl = 0.0; param zs = 1.0 : positive
    z ~ Normal(zl, zs)
  }
}
"""


def per_datum_hand(y):
    """PER_DATUM_VG by hand: one (zl, zs) per datum, full shape (N,), event_dim 0, read at the subsample."""
    m = numpyro.param("m", 0.0)
    s = numpyro.param("s", 1.0, constraint=constraints.positive)
    numpyro.sample("mu", dist.Normal(m, s))
    n = len(y)
    with subsampled_plate("data", n, SUBSAMPLE):
        zl = numpyro.param("zl", full(0.0, (n,)), event_dim=0)
        zs = numpyro.param("zs", full(1.0, (n,)), constraint=constraints.positive, event_dim=0)
        numpyro.sample("z", dist.Normal(zl, zs))


# ================================================================== 3. nested plates, per-element transform

M_NESTED = np.array(
    [
        [-1.5, 0.3, 2.0, -0.7, 1.1],
        [0.8, -2.2, 0.0, 1.6, -0.4],
        [2.5, 1.3, -1.0, -3.0, 0.6],
    ]
)
NESTED_SCALE = 0.5


def nested_args():
    return (jnp.asarray(M_NESTED),)


def nested_model(M):
    with numpyro.plate("rows", 3, dim=-2), numpyro.plate("cols", 5, dim=-1):
        numpyro.sample("z", dist.Normal(M, NESTED_SCALE))


NESTED_VG = """\
guide nested(M) {
  plate rows(3, dim=-2) {
    plate cols(5, dim=-1) {
      param loc = 0.0; param scale = 1.0 : positive
      e ~ Normal(0, 1)
      z = loc + scale * e
    }
  }
}
"""


def _nested_guide(jacobian: bool):
    with numpyro.plate("rows", 3, dim=-2), numpyro.plate("cols", 5, dim=-1):
        loc = numpyro.param("loc", full(0.0, (3, 5)), event_dim=0)
        scale = numpyro.param("scale", full(1.0, (3, 5)), constraint=constraints.positive, event_dim=0)
        e = numpyro.sample("e", dist.Normal(0.0, 1.0), infer=AUX)
        # per element: z = loc + scale·e, log|dz/de| = log scale; log_density has the plates' shape (3, 5)
        value = loc + scale * e
        numpyro.sample("z", dist.Delta(value, log_density=-jnp.log(scale)) if jacobian else dist.Delta(value))


def nested_hand(M):
    """NESTED_VG by hand."""
    _nested_guide(jacobian=True)


def nested_hand_no_jacobian(M):
    """Negative control: the per-element Delta without its log_density."""
    _nested_guide(jacobian=False)


# ================================================================== 4. a vector per plate element

M_VEC = np.array(
    [
        [0.5, -1.0, 2.0],
        [-2.5, 0.0, 1.5],
        [3.0, 1.0, -0.5],
        [-1.5, 2.5, -3.0],
    ]
)


def vec_args():
    return (jnp.asarray(M_VEC),)


def vec_model(m):
    with numpyro.plate("g", 4):
        numpyro.sample("x", dist.Normal(m, 1.0).to_event(1))


VEC_VG = """\
guide vec(m) {
  plate g(4) {
    param loc[3] = 0.0; param sc[3] = 1.0 : positive
    x ~ Normal(loc, sc)
  }
}
"""


def vec_hand(m):
    """VEC_VG by hand: params of full shape (4, 3) with event_dim 1, a 3-vector draw per element."""
    with numpyro.plate("g", 4):
        loc = numpyro.param("loc", full(0.0, (4, 3)), event_dim=1)
        sc = numpyro.param("sc", full(1.0, (4, 3)), constraint=constraints.positive, event_dim=1)
        numpyro.sample("x", dist.Normal(loc, sc).to_event(1))


def vec_hand_no_event(m):
    """Negative control for the model/guide check: the vector drawn as batch dims (event_dim 0, not 1)."""
    with numpyro.plate("g", 4):
        loc = numpyro.param("loc", full(0.0, (4, 3)), event_dim=1)
        sc = numpyro.param("sc", full(1.0, (4, 3)), constraint=constraints.positive, event_dim=1)
        numpyro.sample("x", dist.Normal(loc, sc))


# ================================================================== the four cases


@dataclass(frozen=True)
class Case:
    name: str
    model: Callable
    vg: str
    hand: Callable
    args: Callable[[], tuple]


CASES = {
    case.name: case
    for case in [
        Case("eight_schools", eight_schools_model, EIGHT_SCHOOLS_VG, eight_schools_hand, eight_schools_args),
        Case("local_means", local_means_model, LOCAL_MEANS_VG, local_means_hand, local_means_args),
        Case("nested", nested_model, NESTED_VG, nested_hand, nested_args),
        Case("vec", vec_model, VEC_VG, vec_hand, vec_args),
    ]
}


# ================================================================== helpers


def model_guide_check(model, guide, args, seed: int = 0) -> None:
    """NumPyro's own model/guide checks, with every warning turned into an error.

    ``numpyro.util.check_model_guide_match(model_trace, guide_trace)`` (numpyro 0.22; it raises
    ValueError on event-dim or shape disagreements and warns on missing, extra or non-auxiliary sites
    and on guide plates the model lacks) on a guide trace and the model replayed against it, then one
    ``Trace_ELBO`` loss, which runs the same check plus ``_validate_model`` (missing-plate warnings),
    as SVI does at every step. Raises on any problem; returns nothing.

    Everything runs under ``jax.eval_shape``: the checks look only at names, shapes and event dims, so
    an abstract trace does all of them without compiling anything (eagerly, each subsampled plate
    would compile numpyro's index sampler again, about 2 s apiece).
    """

    def run(key):
        key_g, key_m, key_l = jax.random.split(key, 3)
        guide_trace = handlers.trace(handlers.seed(guide, key_g)).get_trace(*args)
        model_trace = handlers.trace(handlers.replay(handlers.seed(model, key_m), guide_trace)).get_trace(*args)
        check_model_guide_match(model_trace, guide_trace)
        params = {name: site["value"] for name, site in guide_trace.items() if site["type"] == "param"}
        return Trace_ELBO().loss(key_l, params, model, guide, *args)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = jax.eval_shape(run, jax.random.PRNGKey(seed))
    if loss.shape != ():
        raise ValueError(f"the ELBO loss is not a scalar: shape {loss.shape}")


def param_sites(guide, args, plate_indices: dict | None = None) -> dict:
    """{name: (initial value, constraint, event_dim)} of the guide's params, from one trace.

    ``plate_indices`` ({plate name: indices}) fixes a subsampled plate's indices, so that no index
    sampler runs (the trace keeps each param's full value either way).
    """
    fn = handlers.substitute(guide, data=plate_indices) if plate_indices else guide
    trace = handlers.trace(handlers.seed(fn, 0)).get_trace(*args)
    return {
        name: (site["value"], site["kwargs"].get("constraint", constraints.real), site["kwargs"].get("event_dim"))
        for name, site in trace.items()
        if site["type"] == "param"
    }


def init_params(model, guide, args, seed: int = 0) -> dict:
    """The guide's params at initialization (constrained), as SVI sets them up."""
    svi = SVI(model, guide, numpyro.optim.Adam(0.01), Trace_ELBO())
    return svi.get_params(svi.init(jax.random.PRNGKey(seed), *args))


def fit(model, guide, args, *, steps, lr, lrd=1.0, particles=1, seed=0):
    """Adam with step size ``lr * lrd**step`` and Trace_ELBO(num_particles); jitted ``svi.run``.

    Returns the constrained params as NumPy arrays and the losses.
    """
    optim = numpyro.optim.Adam(lambda i: lr * lrd**i)
    svi = SVI(model, guide, optim, Trace_ELBO(num_particles=particles))
    result = svi.run(jax.random.PRNGKey(seed), steps, *args, progress_bar=False)
    return {k: np.asarray(v) for k, v in result.params.items()}, np.asarray(result.losses)


def neg_elbo(model, guide, params, args, *, particles=10**4, seed=1) -> float:
    """−ELBO (Trace_ELBO loss) at ``params``, averaged over ``particles`` vectorized draws."""
    elbo = Trace_ELBO(num_particles=particles)
    params = {k: jnp.asarray(v) for k, v in params.items()}
    loss = jax.jit(lambda p, key: elbo.loss(key, p, model, guide, *args))
    return float(loss(params, jax.random.PRNGKey(seed)))
