"""A non-editable install into a fresh virtual environment compiles the examples (grammar inside the wheel)."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_the_grammar_and_installed_vgc_compiles(tmp_path: Path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("vgc-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "vgc/grammar/vg.lark" in names and "vgc/cli.py" in names
    # A fresh venv that sees the already-installed dependencies, but not this checkout.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    probe = subprocess.run(
        [str(py), "-c", "import vgc, vgc.parser as p; from importlib import resources;"
         "print(vgc.__file__); print(resources.files('vgc').joinpath('grammar/vg.lark').is_file())"],
        capture_output=True, text=True, cwd=work, check=True).stdout.split()
    assert probe[0].startswith(str(env_dir)) and probe[1] == "True"
    for vg in sorted((ROOT / "examples").glob("*.vg")):
        proc = subprocess.run([str(env_dir / "bin" / "vgc"), "compile", str(vg)], capture_output=True, text=True,
                              cwd=work)
        assert proc.returncode == 0, proc.stderr
        expected = (ROOT / "tests" / "cases" / "examples" / (vg.stem + ".py")).read_text(encoding="utf-8")
        assert proc.stdout == expected
