#!/usr/bin/env python
"""The fit loop at the limit: ``vgc.fit``'s training time vs NumPyro's ``SVI.run(progress_bar=False)``.

Eight schools (NumPyro's model, written below from its math) with ``examples/eight_schools.vg`` and the data
of ``examples/eight_schools.json``, ``--steps`` steps (default 20,000), seed 0, ``Trace_ELBO`` with
``--particles`` particles and vgc's default optimizer: Adam whose step size decays geometrically from lr to
lr × 0.1. Both sides use the same guide, model, data, seed and the same optimizer (``vgc.fitting._optimizer``
of the same settings), so they do the same work:

* **vgc**: ``vgc.fit(..., progress=True)`` with the tqdm bar written to a sink (``--progress lines``: the
  plain progress lines of ``vgc fit`` when stderr is not a terminal, through ``vgc.fitting.fit_guide``).
  Timed by its own ``FitResult.time``: ``svi.init``, compilation, the steps, the progress display and the
  loss transfer, not the model check before it nor the −ELBO estimate after it;
* **baseline**: ``SVI.run(PRNGKey(0), steps, progress_bar=False, **data)`` — one ``lax.scan`` over all the
  steps, no host round trip, the fastest loop a user can write — timed around the call, with
  ``block_until_ready`` and the losses brought to the host: also ``svi.init``, compilation and the steps.

A warm-up round (both sides, not counted) takes the one-time costs (jax's eager ops compiled in
``svi.init``); then ``--repeats`` interleaved rounds, the order alternating. Each round compiles both
loops afresh, as a user's fit does. The table gives the medians and their ratio vgc / baseline (target
≤ 1.1), and the median of the per-round ratios ("paired").

Sanity first, and it is an error (exit 1) when it fails: same seed and steps give the same trajectory, so
the final params and every step's loss must agree (relative 1e-4; they differ only by XLA's rounding), and
the losses must vary. Missing the target is not an error. ``--breakdown`` adds where each side's time goes
(``svi.init``, tracing and lowering, XLA compilation, the steps), timed separately.

    python bench/fit_loop.py [--steps 20000] [--particles 1] [--repeats 7] [--progress bar|lines] [--breakdown]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import SVI

import vgc
from vgc import fitting, training

TARGET = 1.1
ROOT = Path(__file__).resolve().parents[1]
SEED = 0


class Broken(Exception):
    """Something is wrong (not just slow): the script exits 1."""


def eight_schools(J, sigma, y=None):
    """Eight schools, centred (the model of NumPyro's README): mu ~ N(0, 5), tau ~ HalfCauchy(5), per school
    theta_j ~ N(mu, tau), and y_j ~ N(theta_j, sigma_j) observed."""
    mean = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    spread = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("J", J):
        effect = numpyro.sample("theta", dist.Normal(mean, spread))
        numpyro.sample("obs", dist.Normal(effect, sigma), obs=y)


class Case:
    """The guide, the data and the settings shared by both sides."""

    def __init__(self, steps: int, particles: int, progress: str):
        self.guide = vgc.load(ROOT / "examples" / "eight_schools.vg")
        raw = json.loads((ROOT / "examples" / "eight_schools.json").read_text())  # as `vgc fit --data` reads it
        self.data = {k: np.asarray(v) if isinstance(v, list) else v for k, v in raw.items()}
        self.settings = fitting.Settings(steps=steps, particles=particles, seed=SEED, eval_particles=2)
        self.goal = fitting.objective(self.guide, eight_schools, (), self.data)
        self.progress = progress

    def svi(self) -> SVI:
        """A fresh SVI with vgc's optimizer and ELBO for these settings (what ``vgc.fit`` builds)."""
        s = self.settings
        return SVI(eight_schools, self.guide, fitting._optimizer(s), fitting._elbo(self.goal.kind, s.particles))


def run_vgc(case: Case):
    """(seconds of training, params, losses) of one fit with progress shown into a sink."""
    sink = io.StringIO()
    with contextlib.redirect_stderr(sink):
        if case.progress == "bar":
            r = vgc.fit(
                case.guide,
                eight_schools,
                steps=case.settings.steps,
                particles=case.settings.particles,
                seed=SEED,
                eval_particles=2,
                progress=True,
                check=False,
                **case.data,
            )
        else:
            r = fitting.fit_guide(case.guide, eight_schools, (), case.data, case.settings, "lines", case.goal)
    if r.stopped is not None:
        raise Broken(f"vgc.fit stopped: {r.stopped.message}")
    if not sink.getvalue():
        raise Broken("vgc.fit showed no progress: the measurement would not include it")
    return r.time, r.params, np.asarray(r.losses)


def run_baseline(case: Case):
    """(seconds, params, losses) of ``SVI.run(progress_bar=False)``: init, compilation and the steps."""
    svi = case.svi()
    t0 = time.perf_counter()
    r = svi.run(jax.random.PRNGKey(SEED), case.settings.steps, progress_bar=False, **case.data)
    jax.block_until_ready(r)
    losses = np.asarray(r.losses)
    seconds = time.perf_counter() - t0
    return seconds, {k: np.asarray(v) for k, v in r.params.items()}, losses


def same_trajectory(vg, base) -> float:
    """The largest relative difference of the final params and the losses; Broken when they differ."""
    _, pv, lv = vg
    _, pb, lb = base
    if sorted(pv) != sorted(pb):
        raise Broken(f"different params: {sorted(pv)} vs {sorted(pb)}")
    if lv.shape != lb.shape:
        raise Broken(f"{len(lv)} losses from vgc, {len(lb)} from SVI.run")
    if np.ptp(lb) == 0:
        raise Broken("the loss never changed: the comparison proves nothing")
    worst = 0.0
    for name, a, b in [*((k, pv[k], pb[k]) for k in pb), ("losses", lv, lb)]:
        a, b = np.asarray(a, float), np.asarray(b, float)
        rel = float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))
        if not rel < 1e-4:
            raise Broken(f"{name} differs between vgc.fit and SVI.run (relative {rel:.2g}): not the same trajectory")
        worst = max(worst, rel)
    return worst


def breakdown(case: Case) -> None:
    """Where the time goes: each phase of both loops timed on its own (same process, after the rounds)."""

    def timed(f):
        t0 = time.perf_counter()
        out = f()
        jax.block_until_ready(out)
        return out, time.perf_counter() - t0

    steps = case.settings.steps
    rows = []
    for side in ("baseline", "vgc"):
        svi = case.svi()
        state, t_init = timed(lambda: svi.init(jax.random.PRNGKey(SEED), **case.data))  # noqa: B023
        if side == "baseline":

            def body(s, _):
                return svi.update(s, **case.data)  # noqa: B023

            fn = jax.jit(lambda s: jax.lax.scan(body, s, None, length=steps))  # SVI.run's loop, jitted
            lowered, t_lower = timed(lambda: fn.trace(state).lower())  # noqa: B023
            compiled, t_xla = timed(lowered.compile)
            _, t_run = timed(lambda: compiled(state))  # noqa: B023
        else:
            chunk = training.chunk_size(steps)
            fn = training.chunk_runner(svi, (), case.data, chunk)
            limit = np.int32(chunk)
            lowered, t_lower = timed(lambda: fn.trace(state, limit).lower())  # noqa: B023
            compiled, t_xla = timed(lowered.compile)

            def loop():
                s, done = state, 0  # noqa: B023
                while done < steps:
                    n = min(chunk, steps - done)  # noqa: B023
                    s, losses = compiled(s, np.int32(n))  # noqa: B023
                    jax.device_get((losses, svi.optim.get_params(s.optim_state)))  # noqa: B023  (train's sync)
                    done += n
                return s

            _, t_run = timed(loop)
        rows.append((side, t_init, t_lower, t_xla, t_run))
    print()
    print(f"breakdown (one run each, s): {'init':>7} {'trace+lower':>12} {'XLA compile':>12} {'steps':>7} {'sum':>7}")
    for side, *ts in rows:
        print(f"  {side:<27} {ts[0]:>7.3f} {ts[1]:>12.3f} {ts[2]:>12.3f} {ts[3]:>7.3f} {sum(ts):>7.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=20_000)
    ap.add_argument("--particles", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7, help="interleaved timed rounds (median), after one warm-up")
    ap.add_argument(
        "--progress",
        choices=("bar", "lines"),
        default="bar",
        help="vgc's progress display: vgc.fit's tqdm bar, or vgc fit's plain lines (default: bar)",
    )
    ap.add_argument("--breakdown", action="store_true", help="also time init, lowering, compilation and steps")
    args = ap.parse_args(argv)

    case = Case(args.steps, args.particles, args.progress)
    shown = "vgc.fit(progress=True), tqdm bar into a sink" if args.progress == "bar" else "progress lines into a sink"
    print(
        f"fit loop: jax {jax.__version__}, numpyro {numpyro.__version__}, {jax.devices()[0].platform}; eight schools, "
        f"{args.steps} steps, Trace_ELBO(num_particles={args.particles}), Adam lr {case.settings.lr} decaying to "
        f"{case.settings.lr * case.settings.decay:g}, seed {SEED}"
    )
    print(f"vgc: {shown}; baseline: SVI.run(progress_bar=False); 1 warm-up + {args.repeats} interleaved rounds")
    print()
    try:
        worst = same_trajectory(run_vgc(case), run_baseline(case))  # also the warm-up
        tv, tb = [], []
        for r in range(args.repeats):
            order = (("vgc", run_vgc), ("base", run_baseline))
            for side, run in order if r % 2 == 0 else order[::-1]:
                (tv if side == "vgc" else tb).append(run(case)[0])
    except Broken as e:
        print(f"BROKEN: {e}", file=sys.stderr)
        return 1
    mv, mb = statistics.median(tv), statistics.median(tb)
    ratio = mv / mb
    paired = statistics.median(a / b for a, b in zip(tv, tb))
    print(f"{'loop':<34} {'median s':>9} {'min s':>7} {'max s':>7}")
    print("-" * 60)
    print(f"{'vgc.fit (FitResult.time)':<34} {mv:>9.3f} {min(tv):>7.3f} {max(tv):>7.3f}")
    print(f"{'SVI.run(progress_bar=False)':<34} {mb:>9.3f} {min(tb):>7.3f} {max(tb):>7.3f}")
    print()
    print(f"rounds, vgc s:  {' '.join(f'{t:.3f}' for t in tv)}")
    print(f"rounds, base s: {' '.join(f'{t:.3f}' for t in tb)}")
    print(f"sanity: same trajectory (final params and {args.steps} losses agree to {worst:.1e} relative)")
    if args.breakdown:
        breakdown(case)
    print()
    print(
        f"{'PASS' if ratio <= TARGET else 'MISS'}: vgc.fit / SVI.run = {ratio:.3f} (paired {paired:.3f}; "
        f"{(mv - mb) * 1e3:+.0f} ms; target ≤ {TARGET})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
