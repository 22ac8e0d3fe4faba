#!/usr/bin/env python
"""SVI step time: a vgc-generated guide vs the same guide written by hand in NumPyro.

For each example (``examples/rotated_bimodal.vg``, ``examples/location_scale.vg``) the generated
guide (``vgc.load``) and a hand-written NumPyro guide with the same math — the same params and
constraints, ``MixtureSameFamily``, ``Cauchy``, auxiliary base sites (``infer={"is_auxiliary": True}``)
and ``Delta`` sites whose ``log_density`` carries the log-Jacobian — are fitted against the same
model with the same ``Trace_ELBO(num_particles=P)``:

* sanity first: for several keys, and for the params reached after a few steps, both guides give
  the same ELBO loss (``Trace_ELBO.loss``) — a mismatch is an error (exit 1);
* then ``svi.init`` and a jitted ``svi.update``, compiled and warmed up for both, timed in
  interleaved rounds of ``--steps`` steps each (``block_until_ready`` at the end of a round); the
  median per-step time of each, and their ratio generated / hand-written (target ≤ 1.02).

Also printed: the size of each jitted update (jaxpr equations), which tells whether a difference
is in the traced program or in noise. Missing the target is not an error.

    python bench/svi_step.py [--particles 16] [--steps 300] [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints
from numpyro.infer import SVI, Trace_ELBO
from numpyro.optim import Adam

import vgc

TARGET = 1.02
ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ models


def model_xy():
    """A correlated, curved 2-D target for the rotated bimodal guide (sites x and y)."""
    x = numpyro.sample("x", dist.Normal(0.0, 2.0))
    numpyro.sample("y", dist.Normal(0.5 * x + 0.3 * jnp.tanh(x), 1.0))


def model_x():
    """A 1-D Gaussian target for the location-scale guide (site x)."""
    numpyro.sample("x", dist.Normal(1.5, 0.7))


# ------------------------------------------------------------------ hand-written guides (same math)


def hand_rotated_bimodal(*args, **kwargs):
    """rotated_bimodal.vg by hand: u1 ~ ½N(b,1)+½N(-b,1), u2 ~ Cauchy(0,1), [x, y] = R(θ)[u1, u2].

    A rotation has |det| = 1, so the log-Jacobian term is 0.
    """
    b = numpyro.param("b", 1.0, constraint=constraints.positive)
    theta = numpyro.param("θ", 0.3)
    mix = dist.MixtureSameFamily(dist.Categorical(probs=jnp.array([0.5, 0.5])), dist.Normal(jnp.stack([b, -b]), 1.0))
    u1 = numpyro.sample("u1", mix, infer={"is_auxiliary": True})
    u2 = numpyro.sample("u2", dist.Cauchy(0.0, 1.0), infer={"is_auxiliary": True})
    c, s = jnp.cos(theta), jnp.sin(theta)
    numpyro.sample("x", dist.Delta(c * u1 - s * u2, log_density=0.0))
    numpyro.sample("y", dist.Delta(s * u1 + c * u2))


def hand_location_scale(*args, **kwargs):
    """location_scale.vg by hand: u ~ N(0,1), x = m + s·u, log q(x) = log N(u) - log s."""
    m = numpyro.param("m", 0.0)
    s = numpyro.param("s", 1.0, constraint=constraints.positive)
    u = numpyro.sample("u", dist.Normal(0.0, 1.0), infer={"is_auxiliary": True})
    numpyro.sample("x", dist.Delta(m + s * u, log_density=-jnp.log(s)))


CASES = [
    ("rotated_bimodal", "examples/rotated_bimodal.vg", model_xy, hand_rotated_bimodal),
    ("location_scale", "examples/location_scale.vg", model_x, hand_location_scale),
]


# ------------------------------------------------------------------ checks and timing


def same_loss(model, generated, hand, particles: int) -> float:
    """Largest relative loss difference over several keys and param values; raises on a mismatch."""
    elbo = Trace_ELBO(num_particles=particles)
    svi = SVI(model, generated, Adam(0.02), elbo)
    state = svi.init(jax.random.PRNGKey(0))
    param_sets = [svi.get_params(state)]
    for _ in range(25):
        state, _ = svi.update(state)
    param_sets.append(svi.get_params(state))
    svi_h = SVI(model, hand, Adam(0.02), elbo)
    hand_params = svi_h.get_params(svi_h.init(jax.random.PRNGKey(0)))
    if set(hand_params) != set(param_sets[0]):
        raise SystemExit(f"error: params differ: {sorted(hand_params)} vs {sorted(param_sets[0])}")
    for k in hand_params:
        if not jnp.allclose(hand_params[k], param_sets[0][k]):
            raise SystemExit(f"error: initial value of param {k!r} differs: {hand_params[k]} vs {param_sets[0][k]}")
    worst = 0.0
    seen = set()
    for params in param_sets:
        for seed in range(5):
            key = jax.random.PRNGKey(100 + seed)
            lg = float(elbo.loss(key, params, model, generated))
            lh = float(elbo.loss(key, params, model, hand))
            seen.add(lg)
            rel = abs(lg - lh) / max(1.0, abs(lh))
            worst = max(worst, rel)
            if not rel < 1e-5:
                raise SystemExit(f"error: losses differ for seed {seed}, params {params}: generated {lg}, hand {lh}")
    if len(seen) < 2:
        raise SystemExit("error: the loss does not depend on the key or the params: the comparison proves nothing")
    return worst


def negative_control(particles: int) -> float:
    """The check can fail: location-scale without its Jacobian term gives a different loss."""

    def broken(*args, **kwargs):
        m = numpyro.param("m", 0.0)
        s = numpyro.param("s", 1.0, constraint=constraints.positive)
        u = numpyro.sample("u", dist.Normal(0.0, 1.0), infer={"is_auxiliary": True})
        numpyro.sample("x", dist.Delta(m + s * u))

    elbo = Trace_ELBO(num_particles=particles)
    params = {"m": jnp.array(0.3), "s": jnp.array(2.0)}
    key = jax.random.PRNGKey(7)
    good = float(elbo.loss(key, params, model_x, hand_location_scale))
    bad = float(elbo.loss(key, params, model_x, broken))
    if abs(good - bad) < 1e-3:
        raise SystemExit("error: the negative control did not change the loss")
    return bad - good


def jitted_update(model, guide, particles: int):
    svi = SVI(model, guide, Adam(0.01), Trace_ELBO(num_particles=particles))
    state = svi.init(jax.random.PRNGKey(1))
    return jax.jit(svi.update), state


def run_round(update, state, steps: int):
    t0 = time.perf_counter()
    for _ in range(steps):
        state, loss = update(state)
    jax.block_until_ready((state, loss))
    return state, (time.perf_counter() - t0) / steps


def count_all_eqns(jaxpr) -> int:
    """Equations including those inside sub-jaxprs (pjit, cond, scan, custom_jvp ...)."""
    n = 0
    for eqn in jaxpr.eqns:
        n += 1
        for p in eqn.params.values():
            for sub in p if isinstance(p, (list, tuple)) else [p]:
                inner = getattr(sub, "jaxpr", None)
                if inner is not None:
                    n += count_all_eqns(inner if hasattr(inner, "eqns") else sub.jaxpr)
                elif hasattr(sub, "eqns"):
                    n += count_all_eqns(sub)
    return n


def bench_case(name, path, model, hand, args) -> tuple[float, float, float]:
    generated = vgc.load(ROOT / path)
    worst = same_loss(model, generated, hand, args.particles)

    upd_g, st_g = jitted_update(model, generated, args.particles)
    upd_h, st_h = jitted_update(model, hand, args.particles)
    eq_g = count_all_eqns(jax.make_jaxpr(upd_g)(st_g).jaxpr)
    eq_h = count_all_eqns(jax.make_jaxpr(upd_h)(st_h).jaxpr)
    # compile + warm up
    for _ in range(2):
        st_g, _ = run_round(upd_g, st_g, args.steps)
        st_h, _ = run_round(upd_h, st_h, args.steps)
    tg, th = [], []
    for r in range(args.rounds):  # interleaved; alternate which goes first
        if r % 2 == 0:
            st_g, t = run_round(upd_g, st_g, args.steps)
            tg.append(t)
            st_h, t = run_round(upd_h, st_h, args.steps)
            th.append(t)
        else:
            st_h, t = run_round(upd_h, st_h, args.steps)
            th.append(t)
            st_g, t = run_round(upd_g, st_g, args.steps)
            tg.append(t)
    mg, mh = statistics.median(tg), statistics.median(th)
    ratio = mg / mh
    # paired ratios per round are less sensitive to machine-wide drift than the ratio of medians
    paired = statistics.median(a / b for a, b in zip(tg, th))
    print(
        f"{name:<16} {mg * 1e6:>10.1f} {mh * 1e6:>10.1f} {ratio:>7.3f} {paired:>8.3f} "
        f"{eq_g:>6} {eq_h:>6} {worst:>9.1e}  {'PASS' if ratio <= TARGET else 'MISS'}"
    )
    return mg, mh, ratio


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--particles", type=int, default=16)
    ap.add_argument("--steps", type=int, default=300, help="jitted steps per timed round")
    ap.add_argument("--rounds", type=int, default=15, help="interleaved rounds (median)")
    args = ap.parse_args(argv)

    print(
        f"SVI step: jax {jax.__version__}, numpyro {numpyro.__version__}, {jax.devices()[0].platform}; "
        f"Trace_ELBO(num_particles={args.particles}), Adam; jitted svi.update; "
        f"{args.rounds} interleaved rounds × {args.steps} steps, median per step"
    )
    print()
    print(
        f"{'guide':<16} {'vgc µs':>10} {'hand µs':>10} {'ratio':>7} {'paired':>8} "
        f"{'eqns g':>6} {'eqns h':>6} {'loss Δrel':>9}  verdict"
    )
    print("-" * 92)
    results = [bench_case(*case, args) for case in CASES]
    print()
    delta = negative_control(args.particles)
    print(
        f"sanity: losses agree exactly or to < 1e-5 relative over 5 keys × 2 param sets; negative control "
        f"(location-scale without its -log s term) shifts the loss by {delta:+.3f}, as it must (= log 2)"
    )
    for (name, *_), (_, _, ratio) in zip(CASES, results):
        print(
            f"{'PASS' if ratio <= TARGET else 'MISS'}: {name} generated / hand-written = {ratio:.3f} "
            f"(target ≤ {TARGET})"
        )
    print(
        "(ratio = median generated / median hand; paired = median of per-round ratios; eqns = jaxpr equations "
        "of the jitted update incl. sub-jaxprs; loss Δrel = largest relative ELBO difference, same key & params)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
