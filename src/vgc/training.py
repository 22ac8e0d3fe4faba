"""Phase 6 (training): the SVI loop of ``vgc fit``, its progress display and its NaN stop.

SVI runs in jitted chunks of steps (``lax.scan``), so a progress display costs one host sync per chunk,
not per step. Each step's result is kept only when its loss and the updated params are finite: the first
non-finite step freezes the state, so the params handed back are those of the last finite step, and
:func:`offending_sites` says which site's log-density was not finite there. Ctrl-C ends the loop the same
way, keeping the last finished chunk.
"""

from __future__ import annotations

import math
import sys
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpyro import handlers
from numpyro.infer import SVI


class Stop(NamedTuple):
    """Why a fit ended before its last step: ``reason`` is ``"nan"`` or ``"interrupted"``; ``step`` is the
    first step not taken (1-based); ``sites`` the sites whose log-density was not finite there."""

    reason: str
    step: int
    sites: tuple[str, ...]
    message: str


class Trained(NamedTuple):
    """The outcome of :func:`train`: the final SVI state, the loss of every step taken, why it stopped early
    (a :class:`Stop` or None) and the wall time in seconds (init and compilation included)."""

    state: object
    losses: np.ndarray
    stopped: Stop | None
    seconds: float


def train(svi: SVI, args: tuple, kwargs: dict, steps: int, seed: int, name: str, progress: str) -> Trained:
    """Run ``steps`` SVI steps from ``svi.init(PRNGKey(seed))``, showing ``progress`` ("bar", "lines" or
    "none"); stop at the first non-finite step or at Ctrl-C, keeping the last finite state."""
    start = time.perf_counter()
    state = svi.init(jax.random.PRNGKey(seed), *args, **kwargs)
    chunk = max(1, min(200, steps // 100))
    run = chunk_runner(svi, args, kwargs, chunk)
    losses: list[np.ndarray] = []
    stopped = None
    bar = Progress(name, steps, progress)
    done = 0
    try:
        while done < steps:
            limit = min(chunk, steps - done)
            state, chunk_losses, bad = run(state, jnp.int32(limit))
            chunk_losses = np.asarray(chunk_losses)
            bad = int(bad)
            taken = limit if bad < 0 else bad
            losses.append(chunk_losses[:taken])
            done += taken
            bar.update(done, chunk_losses[:taken])
            if bad >= 0:
                loss = float(chunk_losses[bad])
                stopped = nan_stop(svi, state, args, kwargs, done + 1, loss)
                break
    except KeyboardInterrupt:
        stopped = Stop("interrupted", done + 1, (), f"interrupted at step {done + 1}: kept the params of step {done}")
    finally:
        bar.close()
    all_losses = np.concatenate(losses) if losses else np.zeros(0)
    return Trained(state, all_losses, stopped, time.perf_counter() - start)


def chunk_runner(svi: SVI, args: tuple, kwargs: dict, chunk: int):
    """A jitted ``(state, limit) -> (state, losses, first bad index or -1)`` taking up to ``limit`` steps.

    The state only moves on while the loss and the new params are finite, so after the first bad step it
    stays at the last finite one; the chunk length is fixed (``limit`` masks the tail) to compile once.
    """

    @jax.jit
    def run(state, limit):
        def body(carry, i):
            state, bad = carry
            new, loss = svi.update(state, *args, **kwargs)
            leaves = jax.tree.leaves(svi.optim.get_params(new.optim_state))
            finite = jnp.isfinite(loss) & jnp.all(jnp.stack([jnp.all(jnp.isfinite(p)) for p in leaves]))
            go = (bad < 0) & (i < limit)
            ok = go & finite
            state = jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, state)
            return (state, jnp.where(go & ~finite, i, bad)), loss

        (state, bad), losses = jax.lax.scan(body, (state, jnp.int32(-1)), jnp.arange(chunk))
        return state, losses, bad

    return run


def nan_stop(svi: SVI, state, args, kwargs, step: int, loss: float) -> Stop:
    """Why step ``step`` (taken from ``state``, the last finite one) was not finite, naming the sites."""
    params = svi.get_params(state)
    _, key = jax.random.split(state.rng_key)  # the key SVI.update gives the step's loss
    bad = offending_sites(svi.model, svi.guide, params, args, kwargs, key)
    if bad:
        where = "; ".join(f"{owner} site '{site}' has log-density {value}" for owner, site, value in bad[:3])
    elif math.isfinite(loss):
        where = "the loss was finite but the update made a param non-finite (an infinite gradient)"
    else:
        where = "no single site's log-density was non-finite in fresh draws: the sum overflowed"
    what = "the loss" if not math.isfinite(loss) else "a param"
    message = (f"{what} turned {loss if not math.isfinite(loss) else 'nan'} at step {step} ({where}); "
               f"kept the params of step {step - 1}")
    return Stop("nan", step, tuple(dict.fromkeys(site for _, site, _ in bad)), message)


def offending_sites(model, guide, params, args, kwargs, key, draws: int = 256) -> list[tuple[str, str, str]]:
    """(guide or model, site, the non-finite log-density) for each site that is not finite in some of
    ``draws`` runs of the guide and the model (replayed on the guide's draws) at ``params``."""

    def terms(k):
        guide_tr = handlers.trace(handlers.seed(handlers.substitute(guide, data=params), k)).get_trace(*args, **kwargs)
        model_tr = handlers.trace(
            handlers.replay(handlers.seed(handlers.substitute(model, data=params), k), guide_tr)
        ).get_trace(*args, **kwargs)
        out = {}
        for owner, tr in (("guide", guide_tr), ("model", model_tr)):
            for name, site in tr.items():
                if site["type"] == "sample":
                    lp = site["fn"].log_prob(site["value"])
                    out[(owner, name)] = jnp.sum(lp * site["scale"] if site.get("scale") is not None else lp)
        return out

    values = jax.vmap(terms)(jax.random.split(key, draws))
    found = []
    for (owner, name), v in values.items():
        v = np.asarray(v)
        if not np.all(np.isfinite(v)):
            first = v[~np.isfinite(v)][0]
            found.append((owner, name, str(first)))
    return sorted(found, key=lambda t: t[0] != "model")


def progress_mode(progress: bool | None) -> str:
    if progress is None:
        return "bar" if sys.stderr.isatty() else "none"
    return "bar" if progress else "none"


class Progress:
    """A tqdm bar with the running loss (mode ``bar``), about ten plain lines (``lines``), or nothing."""

    def __init__(self, name: str, total: int, mode: str):
        self.mode, self.name, self.total = mode, name, total
        self.bar = None
        self.next_line = 0
        if mode == "bar":
            from tqdm.auto import tqdm  # a NumPyro dependency

            self.bar = tqdm(total=total, desc=name, file=sys.stderr, leave=True, dynamic_ncols=True)

    def update(self, done: int, losses: np.ndarray) -> None:
        running = float(np.mean(losses)) if len(losses) else float("nan")
        if self.bar is not None:
            self.bar.set_postfix_str(f"loss {running:.4g}", refresh=False)
            self.bar.update(done - self.bar.n)
        elif self.mode == "lines" and (done >= self.next_line or done == self.total):
            sys.stderr.write(f"{self.name}: step {done}/{self.total}  loss {running:.4g}\n")
            sys.stderr.flush()
            self.next_line = done + max(1, self.total // 10)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
