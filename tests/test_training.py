"""vgc.training: the chunked SVI loop. A chunk runs without per-step checks; a chunk that was not finite is
taken again one step at a time by the same program. These check that the two ways give the same steps, and
that a non-finite step in the middle, at the start or at the end of a chunk stops the run right there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import pytest
from numpyro.infer import SVI, Trace_ELBO

import vgc
from vgc import training

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fit"))
import models  # noqa: E402  (tests/fit/models.py)

TWO_GAUSSIANS = vgc.load(ROOT / "examples" / "two_gaussians.vg")
OVERFLOW = vgc.load(ROOT / "tests" / "fit" / "overflow.vg")


def params_of(svi, state) -> dict:
    return {k: np.asarray(v) for k, v in svi.get_params(state).items()}


def test_a_chunk_and_the_same_steps_one_at_a_time_agree_exactly():
    """The replay of a failed chunk relies on this: one compiled program, the same start, the same steps."""
    svi = SVI(models.two_gaussians, TWO_GAUSSIANS, numpyro.optim.Adam(0.05), Trace_ELBO(num_particles=4))
    start = svi.init(jax.random.PRNGKey(1))
    run = training.chunk_runner(svi, (), {}, 10)
    whole, losses = run(start, np.int32(10))
    part, part_losses = run(start, np.int32(7))  # a shorter limit runs in the same program
    state, singles = start, []
    for _ in range(10):
        state, loss = run(state, np.int32(1))
        singles.append(float(loss[0]))
        if len(singles) == 7:
            for k, v in params_of(svi, state).items():
                np.testing.assert_array_equal(v, params_of(svi, part)[k])
    for k, v in params_of(svi, state).items():
        np.testing.assert_array_equal(v, params_of(svi, whole)[k])
    np.testing.assert_array_equal(np.asarray(losses), np.asarray(singles, dtype=np.asarray(losses).dtype))
    np.testing.assert_array_equal(np.asarray(part_losses)[:7], np.asarray(losses)[:7])
    assert len(set(singles)) == 10  # the steps differ: the comparison means something


@pytest.mark.parametrize("steps", [2000, 500, 800])  # chunks of 20, 5 and 8: step 9 in the first, the middle, the start
def test_a_non_finite_loss_stops_at_its_step_wherever_it_falls_in_a_chunk(steps):
    """tests/fit/models.py:overflow turns the loss -inf at step 9 (lr 0.05): the run keeps step 8's state,
    the same as a run of 8 steps (one step per chunk), with the same losses."""
    svi = SVI(models.overflow, OVERFLOW, numpyro.optim.Adam(0.05), Trace_ELBO())
    done = training.train(svi, (), {}, steps, 0, "overflow", "none")
    assert training.chunk_size(steps) in (20, 5, 8)
    assert done.stopped is not None and done.stopped.reason == "nan"
    assert done.stopped.step == 9 and done.stopped.sites == ("boom",)
    assert "the loss turned -inf at step 9" in done.stopped.message
    assert len(done.losses) == 8 and np.isfinite(done.losses).all()
    ref = training.train(svi, (), {}, 8, 0, "overflow", "none")
    assert ref.stopped is None and training.chunk_size(8) == 1
    for k, v in params_of(svi, ref.state).items():
        np.testing.assert_allclose(params_of(svi, done.state)[k], v, rtol=1e-6)
    np.testing.assert_allclose(done.losses, ref.losses, rtol=1e-6)


@pytest.mark.parametrize("bad", [7, 10, 11])  # chunks of 10: the middle, the end, the start of the second
def test_a_param_that_turns_non_finite_under_a_finite_loss_stops_at_its_step(bad):
    """An infinite step size at step ``bad`` makes the params non-finite while that step's loss (taken before
    the update) is finite: the run stops at ``bad`` and keeps the params of the step before."""

    def rate(i):  # i counts from 0
        return jnp.where(i == bad - 1, jnp.inf, 0.01)

    svi = SVI(models.two_gaussians, TWO_GAUSSIANS, numpyro.optim.Adam(rate), Trace_ELBO())
    done = training.train(svi, (), {}, 1000, 0, "g", "none")
    assert training.chunk_size(1000) == 10
    assert done.stopped is not None and done.stopped.step == bad and done.stopped.sites == ()
    assert "the loss was finite but the update made a param non-finite" in done.stopped.message
    assert len(done.losses) == bad - 1 and np.isfinite(done.losses).all()
    ref = training.train(svi, (), {}, bad - 1, 0, "g", "none")  # the same schedule, never reaching the bad step
    assert ref.stopped is None
    for k, v in params_of(svi, ref.state).items():
        assert np.isfinite(params_of(svi, done.state)[k]).all()
        np.testing.assert_allclose(params_of(svi, done.state)[k], v, rtol=1e-6)
