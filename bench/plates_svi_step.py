#!/usr/bin/env python
"""SVI step time with plates: a vgc-generated guide vs the same guide written by hand in NumPyro.

Two models from ``tests/plate_models.py`` (shared with ``tests/test_plates_svi.py``):

* ``eight_schools``: NumPyro's eight schools model; the guide has a global Normal, tau = exp(v) as a
  ``Delta`` with its log-Jacobian, and a per-school Normal in ``plate J(J)``
  (``Trace_ELBO(num_particles=--particles)``, default 16);
* ``local_means``: N = 5,000 observations, one local latent each, ``plate data(len(y), subsample=100)``
  and the amortized local guide ``z ~ Normal(a * mu + c * y[data] + d, w)``
  (``--particles-local``, default 1: the usual setting with subsampling);
* ``vae (mlp)``: NumPyro's VAE model (``tests/nets/vae_models.py``) on 1,500 random images, 100 a step,
  and the guide with an ``mlp`` encoder (``net enc = mlp(64, 32, 2 * 4, act=softplus)``) against the same
  encoder written by hand (``--particles-local``).

For each, the generated guide (``vgc.guide`` of the VG source) and the hand-written guide are
fitted against the same model:

* sanity first: the same params (names, full shapes, initial values), and the same ELBO loss
  (``Trace_ELBO.loss``) for 5 keys x 2 param sets (the initial params and those after 25 steps);
  the loss must vary with the key. A negative control removes tau's Jacobian from the hand-written
  eight schools guide and must move the loss. A mismatch is an error (exit 1), as is a guide that
  does not compile;
* then ``svi.init`` and a jitted ``svi.update``, compiled and warmed up for both, timed in interleaved
  rounds (the order alternates; ``block_until_ready`` ends a round); the median per-step time of
  each, their ratio generated / hand-written (target <= 1.02) and the median of per-round ratios.

``--hand-only`` puts the hand-written guide on both sides (an A/A run): it checks the harness before
the compiler supports plates, and shows the noise floor of the ratio.

    python bench/plates_svi_step.py [--particles 16] [--particles-local 1] [--steps 300]
                                    [--steps-local 60] [--rounds 15] [--hand-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the models and hand-written guides are shared with the tests
sys.path.insert(0, str(ROOT / "tests" / "nets"))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpyro  # noqa: E402
import plate_models as pm  # noqa: E402
from numpyro.infer import SVI, Trace_ELBO  # noqa: E402
from numpyro.optim import Adam  # noqa: E402
from svi_step import count_all_eqns  # noqa: E402  (bench/ is on sys.path: scripts run from there)

import vgc  # noqa: E402

TARGET = 1.02


class Broken(Exception):
    """Something is wrong (not just slow): the script exits 1."""


# ------------------------------------------------------------------ cases


def eight_schools():
    """(name, model, vg source, hand guide, static args, dynamic args): the plate size J stays a Python int."""
    J, sigma, y = pm.eight_schools_args()
    return "eight_schools", pm.eight_schools_model, pm.EIGHT_SCHOOLS_VG, pm.eight_schools_hand, (J,), (sigma, y)


def local_means():
    (y,) = pm.local_means_args()
    return "local_means", pm.local_means_model, pm.LOCAL_MEANS_VG, pm.local_means_hand, (), (y,)


def vae():
    """NumPyro's VAE model (a stax decoder of the model's own) on 1,500 random binary 64-pixel images, 100 a
    step; the `mlp` encoder guide against the same encoder written by hand (tests/nets/vae_models.py). The
    batch size is static (it sizes the plate), so the arguments are reordered to put it first."""
    import vae_models as V

    x = (jax.random.uniform(jax.random.PRNGKey(0), (1500, 64)) < 0.3).astype(jnp.float32)
    source = V.VAE_VG.replace("guide vae_guide(x, batch)", "guide vae_guide(batch, x)")

    def model(batch, x):
        return V.vae(x, batch)

    def hand(batch, x):
        return V.hand_guide(x, batch)

    return "vae (mlp)", model, source, hand, (100,), (x,)


# ------------------------------------------------------------------ checks and timing


def same_params_and_loss(model, generated, hand, args, particles: int) -> float:
    """Largest relative loss difference over 5 keys x 2 param sets; raises Broken on any mismatch."""
    elbo = Trace_ELBO(num_particles=particles)
    svi = SVI(model, generated, Adam(0.02), elbo)
    state = svi.init(jax.random.PRNGKey(0), *args)
    param_sets = [svi.get_params(state)]
    update = jax.jit(lambda s: svi.update(s, *args))
    for _ in range(25):
        state, _ = update(state)
    param_sets.append(svi.get_params(state))
    svi_h = SVI(model, hand, Adam(0.02), elbo)
    hand_params = svi_h.get_params(svi_h.init(jax.random.PRNGKey(0), *args))
    if sorted(hand_params) != sorted(param_sets[0]):
        raise Broken(f"params differ: {sorted(param_sets[0])} vs hand-written {sorted(hand_params)}")
    for k, v in hand_params.items():  # a module's params (the VAE's decoder) are a tree: compare its leaves
        for g, h in zip(jax.tree.leaves(param_sets[0][k]), jax.tree.leaves(v), strict=True):
            if jnp.shape(g) != jnp.shape(h) or not bool(jnp.allclose(g, h)):
                raise Broken(f"initial value of param {k!r} differs: {g} (shape {jnp.shape(g)}) vs {h} "
                             f"(shape {jnp.shape(h)})")
    loss = jax.jit(lambda key, params, guide: elbo.loss(key, params, model, guide, *args), static_argnums=2)
    worst, seen = 0.0, set()
    for params in param_sets:
        for seed in range(5):
            key = jax.random.PRNGKey(100 + seed)
            lg, lh = float(loss(key, params, generated)), float(loss(key, params, hand))
            seen.add(lg)
            rel = abs(lg - lh) / max(1.0, abs(lh))
            worst = max(worst, rel)
            if not rel < 1e-5:
                raise Broken(f"losses differ for key {100 + seed}: generated {lg}, hand-written {lh}")
    if len(seen) < 2:
        raise Broken("the loss does not depend on the key or the params: the comparison proves nothing")
    return worst


def negative_control(particles: int) -> float:
    """The loss check can fail: eight schools without tau's Jacobian gives another loss."""
    J, sigma, y = pm.eight_schools_args()
    elbo = Trace_ELBO(num_particles=particles)
    svi = SVI(pm.eight_schools_model, pm.eight_schools_hand, Adam(0.02), elbo)
    params = svi.get_params(svi.init(jax.random.PRNGKey(0), J, sigma, y))
    params = {**params, "v_loc": jnp.asarray(1.5)}
    key = jax.random.PRNGKey(7)
    good = float(elbo.loss(key, params, pm.eight_schools_model, pm.eight_schools_hand, J, sigma, y))
    bad = float(elbo.loss(key, params, pm.eight_schools_model, pm.eight_schools_hand_no_jacobian, J, sigma, y))
    if abs(good - bad) < 1e-3:
        raise Broken("the negative control did not change the loss")
    return bad - good


def jitted_update(model, guide, static, dynamic, particles: int):
    """jit(svi.update) with the static args (plate sizes) closed over and the arrays passed in."""
    svi = SVI(model, guide, Adam(0.01), Trace_ELBO(num_particles=particles))
    state = svi.init(jax.random.PRNGKey(1), *static, *dynamic)
    update = jax.jit(lambda s, *dyn: svi.update(s, *static, *dyn))
    return update, state


def run_round(update, state, dynamic, steps: int):
    t0 = time.perf_counter()
    for _ in range(steps):
        state, loss = update(state, *dynamic)
    jax.block_until_ready((state, loss))
    return state, (time.perf_counter() - t0) / steps


def bench_case(case, particles: int, steps: int, rounds: int, hand_only: bool):
    name, model, source, hand, static, dynamic = case
    if hand_only:
        generated = hand
    else:
        try:
            generated = vgc.guide(source)
        except vgc.CompileError as e:
            raise Broken(f"{name}: the VG guide does not compile:\n{e}") from None
    args = (*static, *dynamic)
    worst = same_params_and_loss(model, generated, hand, args, particles)

    upd_g, st_g = jitted_update(model, generated, static, dynamic, particles)
    upd_h, st_h = jitted_update(model, hand, static, dynamic, particles)
    eq_g = count_all_eqns(jax.make_jaxpr(upd_g)(st_g, *dynamic).jaxpr)
    eq_h = count_all_eqns(jax.make_jaxpr(upd_h)(st_h, *dynamic).jaxpr)
    for _ in range(2):  # compile + warm up
        st_g, _ = run_round(upd_g, st_g, dynamic, steps)
        st_h, _ = run_round(upd_h, st_h, dynamic, steps)
    tg, th = [], []
    for r in range(rounds):  # interleaved; alternate which goes first
        order = [(upd_g, "g"), (upd_h, "h")] if r % 2 == 0 else [(upd_h, "h"), (upd_g, "g")]
        for upd, side in order:
            if side == "g":
                st_g, t = run_round(upd, st_g, dynamic, steps)
                tg.append(t)
            else:
                st_h, t = run_round(upd, st_h, dynamic, steps)
                th.append(t)
    mg, mh = statistics.median(tg), statistics.median(th)
    ratio = mg / mh
    paired = statistics.median(a / b for a, b in zip(tg, th))
    print(
        f"{name:<14} {particles:>4} {mg * 1e6:>10.1f} {mh * 1e6:>10.1f} {ratio:>7.3f} {paired:>8.3f} "
        f"{eq_g:>6} {eq_h:>6} {worst:>9.1e}  {'PASS' if ratio <= TARGET else 'MISS'}"
    )
    return ratio


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--particles", type=int, default=16, help="Trace_ELBO particles, eight schools")
    ap.add_argument("--particles-local", type=int, default=1, help="Trace_ELBO particles, local_means")
    ap.add_argument("--steps", type=int, default=300, help="jitted steps per timed round, eight schools")
    ap.add_argument("--steps-local", type=int, default=60, help="jitted steps per timed round, local_means")
    ap.add_argument("--rounds", type=int, default=15, help="interleaved rounds (median)")
    ap.add_argument("--hand-only", action="store_true", help="A/A run: the hand-written guide on both sides")
    args = ap.parse_args(argv)

    print(
        f"SVI step with plates: jax {jax.__version__}, numpyro {numpyro.__version__}, "
        f"{jax.devices()[0].platform}; Adam; jitted svi.update; {args.rounds} interleaved rounds, median per step"
    )
    if args.hand_only:
        print("HAND-ONLY (A/A): both columns are the hand-written guide; the ratio shows the noise floor")
    print()
    side = "hand(A) µs" if args.hand_only else "vgc µs"
    print(
        f"{'guide':<14} {'part':>4} {side:>10} {'hand µs':>10} {'ratio':>7} {'paired':>8} "
        f"{'eqns g':>6} {'eqns h':>6} {'loss Δrel':>9}  verdict"
    )
    print("-" * 96)
    runs = [
        (eight_schools(), args.particles, args.steps),
        (local_means(), args.particles_local, args.steps_local),
        (vae(), args.particles_local, args.steps_local),
    ]
    try:
        ratios = [(case[0], bench_case(case, p, s, args.rounds, args.hand_only)) for case, p, s in runs]
        delta = negative_control(args.particles)
    except Broken as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print()
    print(
        "sanity: same params and initial values; losses agree to < 1e-5 relative over 5 keys x 2 param sets; "
        f"negative control (eight schools without tau's -v term, v_loc = 1.5) shifts the loss by {delta:+.3f}"
    )
    for name, ratio in ratios:
        label = "hand/hand (A/A)" if args.hand_only else "generated / hand-written"
        print(f"{'PASS' if ratio <= TARGET else 'MISS'}: {name} {label} = {ratio:.3f} (target ≤ {TARGET})")
    print(
        "(ratio = median generated / median hand; paired = median of per-round ratios; eqns = jaxpr equations "
        "of the jitted update incl. sub-jaxprs; loss Δrel = largest relative ELBO difference, same key & params)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
