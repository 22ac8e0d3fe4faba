#!/usr/bin/env python
"""Where ``vgc check``'s start-up goes, in instructions: a noise-free companion to ``check_startup.py``.

Wall times on a shared machine move by ±10 % between runs; instruction counts (``valgrind
--tool=callgrind``) do not. This script counts the instructions of a ladder of programs, each one the
previous plus one step of ``vgc check FILE``, in the two environments of ``check_startup.py`` (vgc's
modules loaded from ``.pyc``, and compiled from source at every start), and reports each step as a share
of ``python -c "import lark"`` — the baseline of issue 8's targets (≤ 1.3× with bytecode, ≤ 1.5× from
source). The steps:

* ``import vgc.cli``           vgc's modules: unmarshalled from .pyc, or compiled from source, and executed
* ``lark_parser()``            Lark builds the parser from its grammar cache (Lark's code, not vgc's)
* ``first lex``                Lark compiles its lexer's regular expressions on the first token
* ``vgc check FILE``           the parse, the AST, the checker and the rendered report
* ``python -m``                running the command through ``python -m vgc`` rather than a function call

Then the budget: how many instructions the target leaves for vgc's share, and what compiling vgc's
check path from source costs on its own. Needs valgrind; exit 2 without it.

    python bench/check_startup_instructions.py [--file examples/design_card.vg]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_PYC = 1.3
TARGET_SOURCE = 1.5
BASELINE = "import lark (the baseline)"

LADDER = [
    ("interpreter (python -c pass)", "pass"),
    (BASELINE, "import lark"),
    ("import vgc.cli", "import lark, vgc.cli"),
    (
        "lark_parser(): Lark loads its grammar cache",
        "import lark, vgc.cli; from vgc.frontend import lark_parser; p = lark_parser()",
    ),
    (
        "first lex: Lark compiles its lexer",
        "import lark, vgc.cli; from vgc.frontend import lark_parser; p = lark_parser(); p.parse('x')",
    ),
    (
        "vgc check FILE (parse, check, report)",
        "import lark, vgc.cli, contextlib, io\n"
        "from vgc.frontend import lark_parser\n"
        "p = lark_parser(); p.parse('x')\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: vgc.cli.main(['check', FILE])\n"
        "    except SystemExit: pass",
    ),
]


def instructions(argv: list[str], env: dict[str, str]) -> int:
    """Instructions callgrind counts for one run of ``argv`` (after one unmeasured warm-up run)."""
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    m = re.search(r"Collected : (\d+)", proc.stderr)
    if not m:
        raise SystemExit(f"error: callgrind counted nothing for {argv}:\n{proc.stderr[-2000:]}")
    return int(m.group(1))


def ladder(file: str, env: dict[str, str]) -> list[tuple[str, int]]:
    """(step, instructions of the program up to and including it) for the ladder and ``python -m vgc check``."""
    py = sys.executable
    rows = [(label, instructions([py, "-c", code.replace("FILE", repr(file))], env)) for label, code in LADDER]
    rows.append(("python -m vgc check FILE", instructions([py, "-m", "vgc", "check", file], env)))
    return rows


def report(title: str, rows: list[tuple[str, int]], target: float) -> int:
    """Print one environment's table; return vgc's share above ``import lark`` (instructions)."""
    counts = dict(rows)
    lark = counts[BASELINE]
    print(f"[{title}] target ≤ {target}× import lark")
    print(f"  {'step':<46} {'M instr.':>9} {'of lark':>8}")
    prev = None
    for label, n in rows:
        if label == "python -m vgc check FILE":
            step = n - counts[LADDER[-1][0]]
            label = "python -m (runpy) instead of a call"
        else:
            step = n if prev is None else n - prev
            prev = n
        print(f"  {label:<46} {step / 1e6:>9.1f} {step / lark:>8.1%}")
    total = counts["python -m vgc check FILE"]
    share = total - lark
    ratio = total / lark
    print(
        f"  {'python -m vgc check FILE, whole process':<46} {total / 1e6:>9.1f}   = {ratio:.2f}× import lark "
        f"({'PASS' if ratio <= target else 'MISS'})"
    )
    print(f"  vgc's share above import lark: {share / 1e6:.1f} M; the target allows {(target - 1) * lark / 1e6:.1f} M")
    print()
    return share


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", default="examples/design_card.vg")
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("error: valgrind is not installed (it counts the instructions)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="vgc-bench-pyc-") as tmp:
        pyc = dict(os.environ)
        pyc.pop("PYTHONDONTWRITEBYTECODE", None)
        pyc["PYTHONPYCACHEPREFIX"] = tmp  # .pyc files kept out of the checkout, as in check_startup.py
        source = dict(os.environ)
        source.pop("PYTHONPYCACHEPREFIX", None)
        source["PYTHONDONTWRITEBYTECODE"] = "1"
        probe = (
            "import importlib.util, os, vgc.checker as m; "
            "print(os.path.exists(importlib.util.cache_from_source(m.__file__)))"
        )
        has_pyc = (
            subprocess.run(
                [sys.executable, "-c", probe], cwd=ROOT, env=source, capture_output=True, text=True, check=True
            ).stdout.strip()
            == "True"
        )
        print(f"vgc check {args.file}: instructions (valgrind --tool=callgrind), Python {sys.version.split()[0]}")
        print()
        with_pyc = ladder(args.file, pyc)
        report("vgc's modules from .pyc", with_pyc, TARGET_PYC)
        if has_pyc:
            print("[compiled from source] skipped: vgc's modules have .pyc files next to them here")
            return 0
        from_source = ladder(args.file, source)
        share = report("vgc's modules compiled from source at every start", from_source, TARGET_SOURCE)
    src, pyc_counts = dict(from_source), dict(with_pyc)
    lark = src[BASELINE]
    compiling = (src["import vgc.cli"] - lark) - (pyc_counts["import vgc.cli"] - pyc_counts[BASELINE])
    allowed = (TARGET_SOURCE - 1) * lark
    rest = share - compiling
    print("budget, compiled from source:")
    print(f"  compiling vgc's check path from source:  {compiling / 1e6:7.1f} M ({compiling / lark:.0%} of lark)")
    print(f"  everything else of vgc's share:          {rest / 1e6:7.1f} M")
    print(
        f"  the 1.5× target allows for the whole share {allowed / 1e6:7.1f} M, so compiling may cost at most "
        f"{max(0.0, allowed - rest) / 1e6:.1f} M = {max(0.0, allowed - rest) / compiling:.0%} of today's"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
