"""A non-editable install into a fresh virtual environment compiles the examples (grammar inside the wheel)."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement  # hatchling's dependency: present wherever the wheel builds
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _dependency_dirs(requires: list[str]) -> list[Path]:
    """The directories this interpreter loads the given requirements and all their dependencies from.

    Walks ``Requires-Dist`` recursively (markers evaluated here, extras followed) through the installed
    distributions and returns the folder each one is installed in (a site-packages, a user site...)."""
    dirs: list[Path] = []
    seen: set[tuple[str, str]] = set()
    todo = [Requirement(r) for r in requires]
    while todo:
        req = todo.pop()
        extras = sorted(req.extras)
        key = (canonicalize_name(req.name), ",".join(extras))
        if key in seen or not any(req.marker is None or req.marker.evaluate({"extra": e}) for e in ["", *extras]):
            continue
        seen.add(key)
        dist = importlib.metadata.distribution(req.name)  # PackageNotFoundError: this environment lacks it
        where = Path(dist.locate_file("")).resolve()
        if where not in dirs:
            dirs.append(where)
        for sub in map(Requirement, dist.requires or []):
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in ["", *extras]):
                todo.append(sub)
    return dirs


@pytest.mark.slow
def test_wheel_ships_the_grammar_and_installed_vgc_compiles(tmp_path: Path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("vgc-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = Parser().parsestr(zf.read(metadata).decode("utf-8")).get_all("Requires-Dist") or []
    assert "vgc/grammar/vg.lark" in names and "vgc/cli.py" in names
    # A fresh venv without system site packages (a venv made from inside a venv would see the base
    # interpreter's, which need not have the dependencies). It gets the dependencies the wheel declares
    # from where this interpreter has them, through a .pth file. Its directories are appended after the
    # venv's own site-packages, so the wheel's vgc comes first, and .pth files inside them are not read:
    # an editable install of this checkout there (a .pth pointing at src/) stays invisible.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=False, with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    dep_dirs = _dependency_dirs(requires)
    Path(purelib, "_vgc_test_dependencies.pth").write_text("".join(f"{d}\n" for d in dep_dirs), encoding="utf-8")
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    clean_env["PYTHONNOUSERSITE"] = "1"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--force-reinstall",
                    str(wheel)], check=True, env=clean_env)
    work = tmp_path / "elsewhere"
    work.mkdir()
    probe = subprocess.run(
        [str(py), "-c", "import sys, vgc, vgc.parser as p; from importlib import resources;"
         "print(vgc.__file__); print(resources.files('vgc').joinpath('grammar/vg.lark').is_file());"
         "print(sys.argv[1] in sys.path)", str(ROOT / "src")],
        capture_output=True, text=True, cwd=work, env=clean_env, check=True).stdout.split()
    assert probe[0].startswith(str(env_dir)) and probe[1] == "True" and probe[2] == "False"
    for vg in sorted((ROOT / "examples").glob("*.vg")):
        proc = subprocess.run([str(env_dir / "bin" / "vgc"), "compile", str(vg)], capture_output=True, text=True,
                              cwd=work, env=clean_env)
        assert proc.returncode == 0, proc.stderr
        expected = (ROOT / "tests" / "cases" / "examples" / (vg.stem + ".py")).read_text(encoding="utf-8")
        assert proc.stdout == expected
