"""NumPyro's example gallery (https://github.com/pyro-ppl/numpyro/tree/master/examples) as vgc's users meet it.

Every model here is written in this project's own code from its example's math (the same sites, names,
shapes and distributions; the example is cited at each), with small synthetic data drawn from a fixed seed.
:data:`GALLERY` lists one :class:`Example` per model, and :func:`serve` runs one the way a new user would:
``vgc init`` → the model check of that guide → ``vgc fit --compare AutoNormal``. tests/test_gallery.py
asserts that the plain ones are served; bench/gallery.py prints the table of all of them.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

KINDS = ("plain", "amortized", "enumerated", "refused")

# A model is served when its VG guide's −ELBO, after the same steps from the same seed as AutoNormal's, is
# within SERVED_NATS of AutoNormal's or better (the bar), allowing SERVED_SE standard errors of the
# two estimates' difference on top (both are Monte Carlo estimates).
SERVED_NATS = 1.0
SERVED_SE = 3.0


@dataclass(frozen=True)
class Example:
    """One model of the gallery: ``example`` is the file under NumPyro's examples/ it follows, ``name`` a
    short unique key, ``data`` makes the model's keyword arguments (fixed seed). ``kind``: ``plain`` (vgc init
    writes a guide for every latent), ``amortized`` (``vgc init --amortize``: a network per subsampled plate),
    ``enumerated`` (the model sums discrete sites out; fitted with TraceEnum_ELBO) or ``refused`` (vgc init
    must refuse it: ``refusal`` is a regular expression its message matches). ``steps``/``lr``: the fit's.
    ``network``: the model has networks of its own (a decoder); tests/test_gallery.py's plain fits skip it.
    ``same_start``: for a model whose mean-field fit ends by the luck of its random start (``note`` says
    why), both guides start from the same draw (AutoNormal's ``init_to_uniform`` locations given to the VG
    guide's ``_loc`` params): the two families then compete, not two random starts, and one seed decides
    nothing about the other draws."""

    example: str
    name: str
    model: Callable
    data: Callable[[], dict]
    kind: str = "plain"
    refusal: str = ""
    steps: int = 1000
    lr: float = 0.01
    note: str = ""
    same_start: bool = False
    network: bool = False

    def __post_init__(self):
        assert self.kind in KINDS, self.kind
        assert (self.kind == "refused") == bool(self.refusal), self.name


@dataclass
class Outcome:
    """How far :func:`serve` got with one example: ``stage`` is the last stage passed (``init``, ``check``,
    ``fit``, ``served``; ``refused`` for a correct refusal), ``message`` says why it stopped."""

    example: Example
    stage: str = "none"
    message: str = ""
    vg: float = math.nan
    vg_se: float = math.nan
    autonormal: float = math.nan
    autonormal_se: float = math.nan
    seconds: float = 0.0
    guide: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def served(self) -> bool:
        return self.stage in ("served", "refused")


def serve(example: Example, steps: int | None = None, seed: int = 0, eval_particles: int = 2000,
          trace: bool = False, guide: str | None = None) -> Outcome:
    """Run ``example`` through vgc init → check → fit (``steps``, default the example's, with AutoNormal
    compared) and say how far it got. Exceptions become the outcome's message (``trace``: the traceback).
    ``guide``: VG text to use instead of vgc init's (to show a poor guide is not served)."""
    import vgc
    from vgc import compiler, modelcheck
    from vgc.diagnostics import render
    from vgc.init import write_guide

    out = Outcome(example)
    start = time.perf_counter()
    try:
        data = example.data()
        try:
            text = guide or write_guide(example.model, (), data, amortize=example.kind == "amortized")
        except modelcheck.ModelError as e:
            import re

            out.message = str(e)
            if example.kind == "refused" and re.search(example.refusal, str(e)):
                out.stage = "refused"
            return out
        out.guide = text
        out.stage = "init"
        if example.kind == "refused":
            out.message = "vgc init wrote a guide for a model it must refuse"
            return out
        result = compiler.run(text, f"{example.name}.vg")
        found = modelcheck.check(result, example.model, (), data) if result.ok else result.diagnostics
        if not result.ok or any(d.is_error for d in found):
            out.message = render(list(result.diagnostics) + list(found), text)
            return out
        out.stage = "check"
        if example.same_start:
            (out.vg, out.vg_se), (out.autonormal, out.autonormal_se) = _same_start(
                text, example, data, steps or example.steps, seed, eval_particles, out.extra)
        else:
            r = vgc.fit(text, example.model, steps=steps or example.steps, lr=example.lr, seed=seed,
                        eval_particles=eval_particles, compare=("AutoNormal",), check=False, **data)
            out.vg, out.vg_se = r.elbo.mean, r.elbo.se
            out.autonormal, out.autonormal_se = r.compare[0].elbo.mean, r.compare[0].elbo.se
        if not math.isfinite(out.vg):
            out.message = "the VG guide's -ELBO is not finite"
            return out
        out.stage = "fit"
        slack = SERVED_NATS + SERVED_SE * math.hypot(out.vg_se, out.autonormal_se if math.isfinite(
            out.autonormal_se) else 0.0)
        if not math.isfinite(out.autonormal) or out.vg <= out.autonormal + slack:
            out.stage = "served"
        else:
            out.message = f"-ELBO {out.vg:.2f} against AutoNormal's {out.autonormal:.2f}"
    except Exception as e:  # the table reports every failure; the test shows it
        out.message = traceback.format_exc() if trace else f"{type(e).__name__}: {e}"
    finally:
        out.seconds = time.perf_counter() - start
    return out


def _same_start(text: str, example: Example, data: dict, steps: int, seed: int, particles: int, extra: dict):
    """Fit vgc init's guide and AutoNormal with vgc's optimizer and Trace_ELBO from one start: AutoNormal's
    starting params (seed ``seed``) with each ``SITE_auto_loc``/``_scale`` given to the VG guide's
    ``V_loc``/``V_scale`` (V the site's VG name, as vgc init derives it). Returns both −ELBO estimates;
    ``extra["unmatched"]`` lists the VG params left at their own start (none, for a same start)."""
    import re

    import jax
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.infer.autoguide import AutoNormal

    import vgc
    from vgc import enumeration, fitting

    settings = fitting.Settings(steps=steps, lr=example.lr, seed=seed)
    key = jax.random.PRNGKey(seed)
    plan = enumeration.plan(example.model, (), data)  # enumerated sites: TraceEnum_ELBO, AutoNormal without them
    elbo = enumeration.objective() if plan.sites else Trace_ELBO()
    auto = AutoNormal(enumeration.blocked(example.model, plan) if plan.sites else example.model)
    svi_a = SVI(example.model, auto, fitting._optimizer(settings), elbo)
    start = svi_a.get_params(svi_a.init(key, **data))
    guide = vgc.guide(text)
    svi_v = SVI(example.model, guide, fitting._optimizer(settings), elbo)
    own = svi_v.get_params(svi_v.init(key, **data))
    given = {}
    for name, value in start.items():
        if "_auto_" not in name:  # the model's own params (a decoder's `NAME$params`): the same start for both
            if name in own:
                given[name] = value
            continue
        site, part = name.rsplit("_auto_", 1)
        base = re.sub(r"\W+", "_", site).strip("_")
        for vg in (f"{base}_{part}", f"{base}__{part}"):  # `lambda` is `lambda_` in VG
            if vg in own and own[vg].shape == value.shape:
                given[vg] = value
                break
    extra["unmatched"] = sorted(set(own) - set(given))
    ends = []
    for svi, init, g in ((svi_v, given, guide), (svi_a, None, auto)):
        done = svi.run(key, steps, progress_bar=False, init_params=init, **data)
        params = svi.get_params(done.state)
        e = fitting.neg_elbo(example.model, g, params, (), data, jax.random.fold_in(key, 1), particles,
                             enumerated=bool(plan.sites))
        ends.append((e.mean, e.se))
    return ends


def _gallery() -> list[Example]:
    from . import assorted, existing, regression, structured, timeseries

    found = [e for m in (existing, timeseries, regression, assorted, structured) for e in m.EXAMPLES]
    names = [e.name for e in found]
    assert len(names) == len(set(names)), names
    return found


GALLERY: list[Example] = _gallery()
