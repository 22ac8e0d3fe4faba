"""Every examples/*.py script runs (a few SVI steps) and prints each of its guide's params."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import vgc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def param_names(vg_path: Path) -> list[str]:
    """The names of the ``numpyro.param`` sites of the compiled guide (a guide reading data cannot be traced
    without it, so the names come from the compiler's list of sites)."""
    return vgc.load(vg_path).param_names


def test_every_example_has_a_script():
    assert {p.stem for p in SCRIPTS} >= {p.stem for p in EXAMPLES.glob("*.vg")}


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_example_script_runs(script: Path):
    names = param_names(script.with_suffix(".vg"))
    assert names, f"{script.with_suffix('.vg').name} declares no params"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, str(script), "--steps", "20"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        cwd=script.parent.parent,
    )
    assert proc.returncode == 0, proc.stderr
    printed = {line.split("=")[0].strip() for line in proc.stdout.splitlines() if "=" in line}
    for name in names:
        assert name in printed, f"{script.name} did not print {name!r}:\n{proc.stdout}"


def test_eight_schools_guide_passes_the_check_against_its_model(capsys):
    """The README's command: the example guide against the example script's model and data."""
    from vgc import cli

    vg, model, data = (str(EXAMPLES / n) for n in ("eight_schools.vg", "eight_schools.py", "eight_schools.json"))
    capsys.readouterr()
    assert cli.main(["check", vg, "--model", f"{model}:eight_schools", "--data", data]) == 0
    assert capsys.readouterr().out.endswith("eight_schools.vg: 0 errors, 0 warnings\n")
