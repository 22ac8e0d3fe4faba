"""The gallery models written earlier for other tests (each cited in its own module), registered here."""

from __future__ import annotations

import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from . import Example

_TESTS = Path(__file__).resolve().parent.parent
for sub in ("", "data", "fit", "nets"):
    if str(_TESTS / sub) not in sys.path:
        sys.path.insert(0, str(_TESTS / sub))

import enum_models as EM  # noqa: E402
import input_models as IM  # noqa: E402
import numpyro_examples as E  # noqa: E402
import prodlda_model as PL  # noqa: E402
import shape_models as SM  # noqa: E402
import ssbvm_models as SS  # noqa: E402
import vae_models as VM  # noqa: E402


def _ar2_data(n: int = 200, seed: int = 0) -> dict:
    """An AR(2) series with alpha = (0.6, -0.3) and sigma = 0.5."""
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    for t in range(2, n):
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + 0.5 * rng.normal()
    return {"y": jnp.asarray(y)}


def _prodlda_data(seed: int = 0) -> dict:
    """40 documents of 60 words over 30 words from 3 topics."""
    rng = np.random.default_rng(seed)
    topics = rng.dirichlet(np.ones(30) * 0.3, size=3)
    theta = rng.dirichlet(np.ones(3) / 3, size=40)
    return {"docs": jnp.asarray(np.stack([rng.multinomial(60, t @ topics) for t in theta])), "batch": 20}


def _digits() -> dict:
    train, _ = VM.digits()
    return {"x": jnp.asarray(train), "batch": 100}


def _toy_data() -> dict:
    obs = EM.toy_data()
    return {"prior": EM.TOY_PRIOR, "obs": obs, "num_obs": len(obs["A"])}


def _fixed(kwargs: dict):
    return lambda: dict(kwargs)


_SSBVM_NOTE = ("The fit ends by the luck of its random start: two von Mises components with concentrations "
               "1000 x Beta draws make the posterior multimodal. From its own start vgc init's guide ended at 1,174.3 "
               "against AutoNormal's 325.5 (seed 0); from AutoNormal's start (all but the Dirichlet's concentration, "
               "which has no AutoNormal counterpart) 318.77 vs 325.50 (seed 0) and 597.19 vs 603.57 (seed 1).")

EXAMPLES = [
    Example("funnel.py", "funnel", E.funnel, _fixed({})),
    Example("funnel.py", "funnel_reparam", E.funnel_reparam, _fixed({})),
    *(Example("baseball.py", n, getattr(E, n), _fixed(E.BASEBALL))
      for n in ("fully_pooled", "not_pooled", "partially_pooled", "partially_pooled_with_logit")),
    Example("ucbadmit.py", "glmm", E.glmm, _fixed(E.UCBADMIT)),
    Example("horseshoe_regression.py", "horseshoe", E.model_normal_likelihood, _fixed(E.HORSESHOE)),
    Example("gp.py", "gp", E.gp, _fixed(E.GP)),
    Example("stochastic_volatility.py", "stochastic_volatility", E.stochastic_volatility, _fixed(E.RETURNS)),
    Example("proportion_test.py", "proportion_test", E.proportion_test, _fixed(E.PROPORTION)),
    Example("ar2.py", "ar2", IM.ar2, _ar2_data),
    Example("hmm.py", "semi_supervised_hmm", SM.semi_supervised_hmm, lambda: SM.data_for("semi_supervised_hmm")),
    Example("hmm_enum.py", "hmm_tones", SM.hmm_tones, lambda: SM.data_for("hmm_tones")),
    Example("hmm_enum.py", "hmm_enum", EM.hmm, lambda: {"sequences": EM.hmm_data()}, kind="enumerated"),
    Example("toy_mixture_model_discrete_enumeration.py", "toy_mixture", EM.toy, _toy_data, kind="enumerated"),
    Example("ssbvm_mixture.py", "ssbvm", SS.ss_model, SS.ssbvm_data, kind="enumerated", same_start=True,
            note=_SSBVM_NOTE),
    Example("vae.py", "vae", VM.vae, _digits, kind="amortized", network=True),
    Example("prodlda.py", "prodlda", PL.prodlda, _prodlda_data, kind="amortized", network=True),
]
