"""`vgc fmt`: canonical, idempotent, comment- and meaning-preserving; written atomically."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vgc import cli, compiler
from vgc.fmt import format_source

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = sorted((ROOT / "examples").glob("*.vg")) + sorted((ROOT / "tests" / "cases" / "good").glob("*.vg"))
LINE_COMMENT = re.compile(r"^\s*# line \d+: .*\n", re.M)


def fmt(source: str, spelling: str = "keep") -> str:
    result = format_source(source, spelling)
    assert result.text is not None, result.diagnostics
    return result.text


def same_meaning(a: str, b: str, file: str = "f.vg") -> None:
    """Both compile to the same Python (line-number comments aside), or fail with the same codes."""
    ra, rb = compiler.run(a, file), compiler.run(b, file)
    if ra.ok:
        assert rb.ok and LINE_COMMENT.sub("", ra.code) == LINE_COMMENT.sub("", rb.code)
    else:
        assert [d.code for d in ra.diagnostics] == [d.code for d in rb.diagnostics]


def comments(text: str) -> list[str]:
    return [c.rstrip() for c in re.findall(r"#[^\n]*", text)]


MESSY = """\


# header comment
param   b=1.0:positive ;param θ=0.3;
param W[2,2]  =  [[1,0],[0,1]]   # identity
u1~Mix( Normal( ±b,1 ) ) ;  u2 ~Cauchy(0,1);;



let A = [[ cos(θ) , -sin(θ) ],
         [sin(θ),cos(θ)]]
let B = [
   [1, 2],
      [3, 4],   # row 2
]
[ x ,y ]=A@W·inv( B )'@[u1,u2]
z ~ Normal(loc = b ** 2, scale=1 + -b^2)
"""

MESSY_FORMATTED = """\
# header comment
param b = 1.0 : positive; param θ = 0.3
param W[2, 2] = [[1, 0], [0, 1]]  # identity
u1 ~ Mix(Normal(±b, 1)); u2 ~ Cauchy(0, 1)

let A = [[cos(θ), -sin(θ)],
         [sin(θ), cos(θ)]]
let B = [
  [1, 2],
  [3, 4],  # row 2
]
[x, y] = A @ W · inv(B)' @ [u1, u2]
z ~ Normal(loc=b**2, scale=1 + -b^2)
"""


def test_the_canonical_layout():
    assert fmt(MESSY) == MESSY_FORMATTED
    same_meaning(MESSY, MESSY_FORMATTED)


def test_guide_blocks_are_expanded_and_indented():
    source = (
        "guide g(a,b){x~Normal(a,b)   # note\n# inside\n\n\n   y ~ Normal(+ -a, 1)   }\n"
        "guide h { z ~ Normal(0, 1) }\n"
    )
    assert fmt(source) == (
        "guide g(a, b) {\n  x ~ Normal(a, b)  # note\n  # inside\n\n  y ~ Normal(+ -a, 1)\n}\n"
        "guide h {\n  z ~ Normal(0, 1)\n}\n"
    )
    same_meaning(source, fmt(source))


def test_plus_then_unary_minus_never_becomes_plus_minus():
    # `a + -b` is a sum; `a +-b` would be '±'. The formatter must keep them apart.
    source = "param a = 1.0\nparam b = 1.0 : positive\nx ~ Normal(a + -b, +(-b)^2 + 1)\nu ~ Mix(Normal(+-b, 1))\n"
    out = fmt(source)
    assert "a + -b" in out and "+(-b)^2" in out and "±" not in out and "+-b" in out
    same_meaning(source, out)


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_every_program_is_a_fixed_point_after_one_pass_and_keeps_meaning_and_comments(path):
    source = path.read_text(encoding="utf-8")
    once = fmt(source)
    assert fmt(once) == once
    assert comments(once) == comments(source)
    same_meaning(source, once, path.name)
    for spelling in ("unicode", "ascii"):
        spelled = fmt(source, spelling)
        assert fmt(spelled, spelling) == spelled
        same_meaning(source, spelled, path.name)


def test_examples_are_already_formatted():
    for path in sorted((ROOT / "examples").glob("*.vg")):
        assert fmt(path.read_text(encoding="utf-8")) == path.read_text(encoding="utf-8"), path.name


def test_spelling_flag():
    source = (
        "param s = 1.0 : positive\nparam ｍ = 0.0\nu ~ Mix(Normal(+-s, 1))\nx = m + s**2 * u\n"
        "y ~ Normal(ｍ @ [1], 1)\n"
    )
    uni = fmt(source, "unicode")
    assert "±s" in uni and "s^2" in uni and "m @" not in uni and "m · [1]" in uni and "ｍ" not in uni
    asc = fmt(uni, "ascii")
    assert "+-s" in asc and "m @ [1]" in asc and "±" not in asc and "·" not in asc
    kept = fmt(source)
    assert "+-s" in kept and "s**2" in kept and "ｍ" in kept  # as written
    for out in (uni, asc, kept):
        same_meaning(source, out)


def test_syntax_errors_are_reported_not_formatted():
    result = format_source("x ~ Normal(0, 1\ny ~ Foo(1)\n")
    assert result.text is None
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [("VG101", 1, 11)]
    assert format_source("").text == "" and format_source("# only\n\n\n").text == "# only\n"


# -- generated programs: random layout over random valid statements --------------------------------

NAMES = st.sampled_from(["a", "b", "θ", "σ1", "loc_2"])
NUMBERS = st.sampled_from(["0", "1", "2.5", ".5", "1e-3", "3."])
GAP = st.sampled_from(["", " ", "  ", "\t"])


def _join(draw, parts: list[str]) -> str:
    """Tokens joined by random spacing; a space wherever two tokens could fuse."""
    out = parts[0]
    for p in parts[1:]:
        gap = draw(GAP)
        if not gap and (out[-1].isalnum() or out[-1] in "_.+*") and (p[0].isalnum() or p[0] in "_.-*"):
            gap = " "
        out += gap + p
    return out


@st.composite
def expressions(draw, depth=0):
    if depth > 2 or draw(st.booleans()):
        return [draw(st.one_of(NAMES, NUMBERS))]
    kind = draw(st.sampled_from(["bin", "un", "call", "vec", "paren", "pow", "tr"]))
    if kind == "bin":
        op = draw(st.sampled_from(["+", "-", "*", "/", "@", "·"]))
        return [*draw(expressions(depth + 1)), op, *draw(expressions(depth + 1))]
    if kind == "un":
        return [draw(st.sampled_from(["-", "+"])), "(", *draw(expressions(depth + 1)), ")"]
    if kind == "pow":
        return [draw(NAMES), draw(st.sampled_from(["^", "**"])), draw(NUMBERS)]
    if kind == "tr":
        return [draw(NAMES), "'"]
    if kind == "call":
        args = draw(st.lists(expressions(depth + 1), min_size=1, max_size=3))
        out = [draw(st.sampled_from(["exp", "Normal", "rot", "f"])), "("]
        for i, a in enumerate(args):
            out += ([","] if i else []) + a
        return [*out, ")"]
    if kind == "vec":
        items = draw(st.lists(expressions(depth + 1), min_size=1, max_size=3))
        out = ["["]
        for i, a in enumerate(items):
            out += ([","] + (["\n"] if draw(st.booleans()) else []) if i else []) + a
        return [*out, "]"]
    return ["(", *draw(expressions(depth + 1)), ")"]


@st.composite
def statements(draw):
    kind = draw(st.sampled_from(["param", "let", "sample", "assign"]))
    name = draw(NAMES)
    if kind == "param":
        parts = ["param", name]
        if draw(st.booleans()):
            parts += ["[", "2", "]"]
        parts += ["=", *draw(expressions())]
        if draw(st.booleans()):
            parts += [":", "positive"]
    elif kind == "let":
        parts = ["let", name, "=", *draw(expressions())]
    elif kind == "sample":
        parts = [name, "~", "Normal", "(", *draw(expressions()), ",", "1", ")"]
    else:
        parts = ["[", name, ",", draw(NAMES), "]", "=", *draw(expressions())]
    text = _join(draw, parts).replace(" \n", "\n").replace("\t\n", "\n")
    if draw(st.booleans()):
        text += draw(GAP) + " # note " + draw(st.sampled_from(["x", "±", "a;b", "{"]))
    return text


@st.composite
def programs(draw):
    stmts = draw(st.lists(statements(), min_size=1, max_size=6))
    out = ""
    for s in stmts:
        sep = "\n" if not out or "#" in out.rsplit("\n", 1)[-1] else draw(st.sampled_from(["\n", "\n\n\n", ";", " ; "]))
        out += (sep if out else "") + s
    if draw(st.booleans()):
        out = "guide g(a, b) {\n" + out + "\n}"
    return draw(st.sampled_from(["", "\n", "\n\n"])) + out + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_programs_format_idempotently_without_changing_meaning(source):
    result = format_source(source)
    assert result.text is not None, (source, result.diagnostics)
    assert format_source(result.text).text == result.text
    assert comments(result.text) == comments(source)
    same_meaning(source, result.text)


# -- the command -----------------------------------------------------------------------------------


def test_fmt_command_check_write_and_stdout(tmp_path: Path, capsys):
    messy, clean = tmp_path / "messy.vg", tmp_path / "clean.vg"
    messy.write_text(MESSY, encoding="utf-8")
    clean.write_text(MESSY_FORMATTED, encoding="utf-8")
    assert cli.main(["fmt", str(clean)]) == 0
    assert capsys.readouterr().out == MESSY_FORMATTED
    assert cli.main(["fmt", "--check", str(messy), str(clean)]) == 1
    err = capsys.readouterr().err
    assert f"would reformat {messy}" in err and str(clean) not in err
    assert messy.read_text(encoding="utf-8") == MESSY  # --check writes nothing
    stamp = clean.stat().st_mtime_ns
    assert cli.main(["fmt", "--write", str(messy), str(clean)]) == 0
    assert messy.read_text(encoding="utf-8") == MESSY_FORMATTED
    assert clean.stat().st_mtime_ns == stamp  # unchanged files are not rewritten
    assert cli.main(["fmt", "--check", str(messy), str(clean)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.vg", "messy.vg"]


def test_fmt_refuses_a_file_with_syntax_errors_and_leaves_it(tmp_path: Path, capsys):
    bad = tmp_path / "bad.vg"
    bad.write_text("x ~ Normal(0,  1\ny  ~ Foo(1)\n", encoding="utf-8")
    assert cli.main(["fmt", "--write", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:1:11: error[VG101]: '(' is never closed" in err and "was not formatted" in err
    assert bad.read_text(encoding="utf-8") == "x ~ Normal(0,  1\ny  ~ Foo(1)\n"


def test_fmt_normalizes_crlf_and_bom(tmp_path: Path):
    f = tmp_path / "crlf.vg"
    f.write_bytes(b"\xef\xbb\xbfparam m = 0.0\r\nx ~ Normal(m,1)\r\n")
    assert cli.main(["fmt", "--write", str(f)]) == 0
    assert f.read_bytes() == b"param m = 0.0\nx ~ Normal(m, 1)\n"


@pytest.mark.parametrize("command", ["fmt", "compile"])
def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path, monkeypatch, capsys, command):
    src = tmp_path / "g.vg"
    src.write_text("param m = 0.0\nx  ~ Normal(m, 1)\n", encoding="utf-8")
    target = src if command == "fmt" else tmp_path / "g.py"
    if command == "compile":
        target.write_text("old\n", encoding="utf-8")
    before = target.read_bytes()
    argv = ["fmt", "--write", str(src)] if command == "fmt" else ["compile", str(src), "-o", str(target)]

    def failing_replace(a, b):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    assert cli.main(argv) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"g.vg", target.name})


@pytest.mark.parametrize("command", ["fmt", "compile"])
def test_a_read_only_directory_leaves_the_old_file(tmp_path: Path, monkeypatch, capsys, command):
    """EACCES on creating the temporary file, as a read-only directory gives (simulated: CI runs as root,
    which ignores directory permissions), and a real read-only directory when not root."""
    src = tmp_path / "g.vg"
    src.write_text("param m = 0.0\nx  ~ Normal(m, 1)\n", encoding="utf-8")
    target = src if command == "fmt" else tmp_path / "g.py"
    if command == "compile":
        target.write_text("old\n", encoding="utf-8")
    before = target.read_bytes()
    argv = ["fmt", "--write", str(src)] if command == "fmt" else ["compile", str(src), "-o", str(target)]
    tmp_path.chmod(0o555)
    try:
        if os.geteuid() == 0:
            import tempfile

            def denied(*args, **kwargs):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(tempfile, "mkstemp", denied)
        assert cli.main(argv) == 2
    finally:
        tmp_path.chmod(0o755)
    assert "Permission denied" in capsys.readouterr().err
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"g.vg", target.name})
