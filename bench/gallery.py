#!/usr/bin/env python
"""NumPyro's example gallery through vgc, as a new user meets it: ``vgc init`` → ``vgc check`` → ``vgc fit``.

Every model of tests/gallery (written from the math of each of NumPyro's examples, with small synthetic
data; the plain, amortized, enumerated and refused ones) runs through :func:`gallery.serve`: the guide
``vgc init`` writes (``--amortize`` for the amortized ones), the model check of it, then a fit of
``--steps`` steps (default: the model's own, 1,000 for most; vgc's default optimizer, seed ``--seed``) beside
NumPyro's AutoNormal fitted the same way (from the same start where the model's note says the end is the
luck of the random start), and both −ELBOs estimated with ``--particles`` draws. A model is **served** when the
VG guide ends within 1 nat of AutoNormal's −ELBO or better (3 standard errors of the difference allowed on
top), or, for a model vgc must refuse, when ``vgc init`` refuses it for the right reason.

The table gives each model's example file, kind, the stage reached (init, check, fit, served, refused), the
two −ELBOs and the seconds taken; a last line counts the served. ``--only NAME`` runs some of them. Not being
served is reported, not an error: the script exits 1 only when ``vgc init`` or the check raises (a crash
inside vgc) instead of writing a guide or refusing with a reason; a fit that raises (vgc's or AutoNormal's)
is shown with its traceback. Every model runs, so a run shows every failure at once.

    python bench/gallery.py [--steps N] [--seed 0] [--particles 2000] [--only NAME ...] [--markdown]
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the gallery's models are shared with tests/test_gallery.py

import gallery  # noqa: E402


def _num(x: float) -> str:
    return f"{x:,.2f}" if math.isfinite(x) else "—"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=None, help="every fit's steps (default: each model's, 1,000 "
                    "for most; more for the few slow to converge, with the reason in its note)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--particles", type=int, default=2000, help="draws of each -ELBO estimate")
    ap.add_argument("--only", nargs="*", default=None, help="model names (the table's first column)")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table (for bench/README.md)")
    args = ap.parse_args(argv)
    chosen = [e for e in gallery.GALLERY if not args.only or e.name in args.only]
    unknown = set(args.only or ()) - {e.name for e in gallery.GALLERY}
    if unknown:
        names = ", ".join(e.name for e in gallery.GALLERY)
        ap.error(f"no gallery model {', '.join(sorted(unknown))}: choose from {names}")
    warnings.filterwarnings("ignore")
    head = ("model", "example", "kind", "stage", "VG -ELBO", "AutoNormal -ELBO", "s")
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + " --- |" * len(head))
    else:
        print(f"{head[0]:28s} {head[1]:44s} {head[2]:10s} {head[3]:8s} {head[4]:>14s} {head[5]:>17s} {head[6]:>6s}")
    crashed, outcomes = [], []
    for ex in chosen:
        o = gallery.serve(ex, steps=args.steps, seed=args.seed, eval_particles=args.particles, trace=True)
        outcomes.append(o)
        row = (ex.name, ex.example, ex.kind, o.stage, _num(o.vg), _num(o.autonormal), f"{o.seconds:.0f}")
        if args.markdown:
            print("| " + " | ".join(row) + " |", flush=True)
        else:
            print(f"{row[0]:28s} {row[1]:44s} {row[2]:10s} {row[3]:8s} {row[4]:>14s} {row[5]:>17s} {row[6]:>6s}",
                  flush=True)
        if not o.served and o.message:
            why = o.message.strip().splitlines()
            if "Traceback" in o.message:
                if o.stage in ("none", "init"):  # vgc init or the check raised; later, the fit or the autoguide
                    crashed.append(ex.name)
                print("    " + "\n    ".join(why[-12:]), file=sys.stderr)
            else:
                print(f"    not served: {why[-1] if len(why) > 3 else ' '.join(why)}", file=sys.stderr)
    served = sum(o.served for o in outcomes)
    steps = f"{args.steps} steps" if args.steps else "each model's steps"
    print(f"\n{served} of {len(outcomes)} served ({steps}, seed {args.seed})"
          + (f"; crashed: {', '.join(crashed)}" if crashed else ""))
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
