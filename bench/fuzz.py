"""Never-crash fuzzing at scale: every input yields code or diagnostics, within a time bound.

Runs the fixed hostile inputs of ``tests/fuzz_strategies.py`` once, then ``--cases`` random cases (by
default 20,000) from the same generators that ``tests/test_fuzz.py`` uses with hypothesis: programs
built from the grammar and the registry (40%), token-level mutations of ``examples/*.vg`` and
``tests/cases/good/*.vg`` (50%) and mutations of generated programs (10%). Case ``I`` of seed ``S``
depends only on ``(S, I)``, so ``--seed S --only I`` replays it.

A failure is what ``fuzz_strategies.problems`` calls a crash: an exception escaping
``compiler.run``, a VG900, a VG107 from the RecursionError fallback, a diagnostic outside the source,
generated code that does not compile, diagnostics that do not render, or a case slower than the time
bound. Each failing input is saved (``case-I.vg``, UTF-8 with lone surrogates kept via
``surrogatepass``, and ``case-I.txt`` with its ``repr`` and the problems) under ``--out`` (a new
temporary directory by default). Exit status 1 when anything failed.

    python bench/fuzz.py [--cases 20000] [--seed 0] [--out DIR] [--only I]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the generators are shared with tests/test_fuzz.py
try:
    import vgc  # noqa: F401
except ImportError:  # a checkout without an install
    sys.path.insert(0, str(ROOT / "src"))

import fuzz_strategies as F  # noqa: E402


def case(seed: int, i: int, seeds: list[tuple[str, str]]) -> tuple[str, str]:
    """(description, source) of random case ``i``."""
    c = F.RandomChooser(random.Random(f"{seed}:{i}"))
    r = c.rng.random()
    if r < 0.4:
        return "program", F.program(c)
    if r < 0.9:
        name, source = c.pick(seeds)
        return f"mutation of {name}", F.mutate(c, source)
    return "mutation of a program", F.mutate(c, F.program(c))


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import lark

    return (f"nproc {os.cpu_count()} · {cpu or platform.processor() or platform.machine()} · "
            f"Python {platform.python_version()} · lark {lark.__version__}")


def save(out: Path, label: str, source: str, probs: list[str]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{label}.vg"
    path.write_bytes(source.encode("utf-8", "surrogatepass"))
    (out / f"{label}.txt").write_text(repr(source) + "\n\n" + "\n".join(probs) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=20_000, help="random cases after the fixed ones (default 20000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="where failing inputs go (default: a new temp dir)")
    ap.add_argument("--only", type=int, default=None, help="run only random case I (no fixed cases)")
    ap.add_argument("--no-fixed", action="store_true", help="skip the fixed hostile inputs")
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="vgc-fuzz-"))

    seeds = F.seeds()
    jobs: list[tuple[str, object]] = []
    if args.only is None and not args.no_fixed:
        jobs += [(f"fixed: {name}", src) for name, src in F.special_cases()]
    indices = [args.only] if args.only is not None else range(args.cases)
    jobs += [(f"case {i}", i) for i in indices]

    print(f"machine: {machine()}")
    print(f"seed {args.seed}; {len(jobs)} cases; time bound {F.TIME_BOUND:g} s, or "
          f"{F.MICROSECONDS_PER_CHAR:g} µs per character when that is more")
    stats = {group: {"cases": 0, "time": 0.0, "chars": 0, "slowest": (0.0, "", 0)} for group in ("fixed", "random")}
    n_ok = n_rejected = 0
    worst = (0.0, "")  # the largest time / bound
    failures: list[tuple[str, list[str], Path]] = []
    t0 = time.perf_counter()
    for k, (label, job) in enumerate(jobs, 1):
        group = "random" if isinstance(job, int) else "fixed"
        if isinstance(job, int):
            what, source = case(args.seed, job, seeds)
            label = f"{label} ({what})"
        else:
            source = job
        c0 = time.perf_counter()
        probs, result, elapsed = F.problems(source)  # elapsed: the compiler alone, checked against the bound
        g = stats[group]
        g["cases"] += 1
        g["time"] += time.perf_counter() - c0  # with the oracle's checks (generated code compiled, rendering)
        g["chars"] += len(source)
        if elapsed > g["slowest"][0]:
            g["slowest"] = (elapsed, label, len(source))
        if elapsed / F.time_bound(source) > worst[0]:
            worst = (elapsed / F.time_bound(source), label)
        if result is not None and result.ok:
            n_ok += 1
        else:
            n_rejected += 1
        if probs:
            name = label.split(" (")[0].replace(":", "").replace(" ", "-").replace(",", "")[:60]
            path = save(out, name, source, probs)
            failures.append((label, probs, path))
            print(f"FAIL {label}: {probs[0]} -> {path}", flush=True)
        if k % 2000 == 0:
            print(f"  {k}/{len(jobs)} cases, {len(failures)} failures, {time.perf_counter() - t0:.0f} s", flush=True)
    wall = time.perf_counter() - t0
    print()
    print(f"cases:        {len(jobs)}: {n_ok} compiled, {n_rejected} rejected with diagnostics; {wall:.1f} s wall")
    for group, g in stats.items():
        if not g["cases"]:
            continue
        t, (slow, label, chars) = g["time"], g["slowest"]
        print(f"{group + ':':13s} {g['cases']} cases, {g['chars']:,} characters, {t:.1f} s, "
              f"{g['cases'] / t:.0f} cases/s; slowest {slow:.3f} s: {label} ({chars:,} characters, "
              f"bound {F.time_bound('x' * chars):.1f} s)")
    print(f"closest to the bound: {worst[0]:.0%} of it, {worst[1]}")
    print(f"failures:     {len(failures)}" + (f" (inputs saved under {out})" if failures else ""))
    for label, probs, path in failures:
        print(f"  {label}: {path}")
        for p in probs:
            print(f"    {p}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
