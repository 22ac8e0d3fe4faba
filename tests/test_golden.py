"""Golden tests: generated code and diagnostics against checked-in expected files.

Regenerate with ``pytest tests/test_golden.py --update-golden`` and review the diff.
"""

from __future__ import annotations

import os
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vgc import compiler
from vgc.diagnostics import render

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases"
EXAMPLES = ROOT / "examples"

GOOD = sorted((CASES / "good").glob("*.vg")) + sorted(EXAMPLES.glob("*.vg"))
BAD = sorted((CASES / "bad").glob("*.vg")) + sorted((EXAMPLES / "rejected").glob("*.vg"))


def _expected_code_path(vg: Path) -> Path:
    return vg.with_suffix(".py") if vg.parent.parent == CASES else CASES / "examples" / (vg.stem + ".py")


def _expected_diag_path(vg: Path) -> Path:
    return (
        vg.with_suffix(".expected")
        if vg.parent.parent == CASES
        else CASES / "examples" / "rejected" / (vg.stem + ".expected")
    )


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def _golden(path: Path, actual: str, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run pytest --update-golden"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("vg", GOOD, ids=lambda p: _rel(p))
def test_good_program_compiles_to_expected_code(vg: Path, update_golden: bool):
    source = vg.read_text(encoding="utf-8")
    result = compiler.run(source, _rel(vg))
    assert result.ok, render(result.diagnostics, source)
    assert all(not d.is_error for d in result.diagnostics)
    _golden(_expected_code_path(vg), result.code, update_golden)


@pytest.mark.parametrize("vg", BAD, ids=lambda p: _rel(p))
def test_bad_program_gives_expected_diagnostics(vg: Path, update_golden: bool):
    source = vg.read_text(encoding="utf-8")
    result = compiler.run(source, _rel(vg))
    text = render(result.diagnostics, source)
    if vg.name.startswith("warn_"):  # warnings only: compiles
        assert result.ok and result.diagnostics
    else:
        assert not result.ok, "expected the program to be rejected"
    _golden(_expected_diag_path(vg), text, update_golden)


def test_every_rejected_example_is_rejected_with_an_error():
    for vg in sorted((EXAMPLES / "rejected").glob("*.vg")):
        result = compiler.run(vg.read_text(encoding="utf-8"), str(vg))
        assert not result.ok and any(d.is_error for d in result.diagnostics), vg


def test_generated_code_passes_ruff_and_py_compile(tmp_path: Path):
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is a test dependency: pip install '.[test]'")
    files = []
    for vg in GOOD:
        out = tmp_path / (vg.parent.name + "_" + vg.stem + ".py")
        out.write_text(compiler.run(vg.read_text(encoding="utf-8"), str(vg)).code, encoding="utf-8")
        py_compile.compile(str(out), doraise=True)
        files.append(str(out))
    proc = subprocess.run([ruff, "check", "--isolated", "--no-cache", *files], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_output_is_byte_identical_across_runs_and_hash_seeds():
    script = (
        "import sys, vgc.compiler as c, pathlib;"
        "[sys.stdout.write(c.run(pathlib.Path(p).read_text(encoding='utf-8'), p).code) for p in sys.argv[1:]]"
    )
    paths = [str(p) for p in GOOD]
    outs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-c", script, *paths], capture_output=True, text=True, env=env, check=True
        )
        outs.add(proc.stdout)
    assert len(outs) == 1
