"""The vgc command: outputs, exit codes, atomic writes, encodings, and no jax on the check path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from vgc.cli import main

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "examples" / "design_card.vg"
BAD = "x ~ exp(-(x - 1)^2)\n"


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vgc", *args], capture_output=True, text=True, cwd=cwd)


def test_compile_to_stdout_matches_golden():
    proc = run("compile", str(CARD))
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == (ROOT / "tests" / "cases" / "examples" / "design_card.py").read_text(encoding="utf-8")


def test_compile_to_file_and_errors_leave_the_old_file_untouched(tmp_path: Path):
    out = tmp_path / "guide.py"
    assert main(["compile", str(CARD), "-o", str(out)]) == 0
    good = out.read_text(encoding="utf-8")
    assert "def design_card(" in good
    bad = tmp_path / "bad.vg"
    bad.write_text(BAD, encoding="utf-8")
    assert main(["compile", str(bad), "-o", str(out)]) == 1
    assert out.read_text(encoding="utf-8") == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.vg", "guide.py"]  # no temp files left


def test_no_output_file_is_created_on_error(tmp_path: Path):
    bad = tmp_path / "bad.vg"
    bad.write_text(BAD, encoding="utf-8")
    assert main(["compile", str(bad), "-o", str(tmp_path / "new.py")]) == 1
    assert not (tmp_path / "new.py").exists()


def test_failed_rename_keeps_the_target_and_leaves_no_temp_file(tmp_path: Path):
    target = tmp_path / "guide.py"
    target.mkdir()  # renaming a file over a directory fails after the temp file is written
    (target / "keep").write_text("old", encoding="utf-8")
    assert main(["compile", str(CARD), "-o", str(target)]) == 2
    assert (target / "keep").read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["guide.py"]


def test_unwritable_target_is_a_usage_error(tmp_path: Path, capsys):
    assert main(["compile", str(CARD), "-o", str(tmp_path / "missing-dir" / "g.py")]) == 2
    assert "vgc: error: cannot write" in capsys.readouterr().err


def test_exit_codes_and_messages():
    assert run("check", str(CARD)).returncode == 0
    missing = run("check", "nope.vg")
    assert missing.returncode == 2 and "cannot read nope.vg" in missing.stderr and "Traceback" not in missing.stderr
    usage = run("compile")
    assert usage.returncode == 2 and "usage:" in usage.stderr
    assert run("frobnicate").returncode == 2
    assert run("--version").stdout.strip() == "vgc 0.1.0"


def test_check_reports_errors_with_exit_1(tmp_path: Path):
    bad = tmp_path / "bad.vg"
    bad.write_text(BAD, encoding="utf-8")
    proc = run("check", str(bad))
    assert proc.returncode == 1
    assert f"{bad}:1:5: error[VG302]" in proc.stdout
    assert proc.stdout.rstrip().endswith("1 error, 0 warnings")


def test_warnings_exit_0(tmp_path: Path):
    f = tmp_path / "w.vg"
    f.write_text("x ~ Normal(0, 1)\n", encoding="utf-8")
    proc = run("check", str(f))
    assert proc.returncode == 0 and "warning[VG601]" in proc.stdout


def test_json_format(tmp_path: Path):
    bad = tmp_path / "bad.vg"
    bad.write_text("param m = 0.0\nx ~ Normal(m, sigma)\n", encoding="utf-8")
    proc = run("check", str(bad), "--format", "json")
    assert proc.returncode == 1
    (d,) = json.loads(proc.stdout)
    assert d == {"code": "VG201", "severity": "error", "message": "'sigma' is not defined",
                 "hint": "define it with `param`, `~`, `=` or `let` first", "file": str(bad),
                 "line": 2, "column": 15, "end_line": 2, "end_column": 20}


def test_encodings(tmp_path: Path):
    f = tmp_path / "bom.vg"
    f.write_bytes(b"\xef\xbb\xbfparam m = 0.0\r\nx ~ Normal(m, 1)\r\n")
    assert run("check", str(f)).returncode == 0
    g = tmp_path / "latin1.vg"
    g.write_bytes(b"param m = 0.0\nx ~ Normal(m, 1) # caf\xe9\n")
    proc = run("check", str(g))
    assert proc.returncode == 1
    assert "2:23: error[VG100]: invalid UTF-8 byte 0xe9 at byte offset 36" in proc.stdout
    assert "2 | x ~ Normal(m, 1) # caf\ufffd" in proc.stdout


def test_check_does_not_import_jax_or_numpy():
    code = ("import sys; from vgc.cli import main; rc = main(['check', sys.argv[1]]);"
            "print(sorted(m for m in ('jax', 'numpy', 'numpyro') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code, str(CARD)], capture_output=True, text=True)
    assert proc.stdout.strip().endswith("[]"), proc.stdout


def test_console_script_is_installed():
    import shutil

    exe = shutil.which("vgc")
    assert exe is not None
    proc = subprocess.run([exe, "check", str(CARD)], capture_output=True, text=True)
    assert proc.returncode == 0
